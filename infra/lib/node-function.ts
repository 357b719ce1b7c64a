import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FunctionAlarms } from './function-alarms.js';
import { checkInt } from './validate.js';

/** The bundle `npm run build` writes (scripts/build-lambda.ts). */
export const DEFAULT_CODE_PATH = fileURLToPath(new URL('../../dist/lambda', import.meta.url));

export interface NodeFunctionProps {
  /** The generations bucket the node serves from. */
  readonly bucket: s3.IBucket;
  /** `read`: the user-facing node. `read-write`: the admin node (admin routes on, may write generations). */
  readonly access: 'read' | 'read-write';
  /** Folder holding the built bundle (index.mjs and the ORT WASM). @default DEFAULT_CODE_PATH (dist/lambda) */
  readonly codePath?: string;
  /** @default 1769: one full vCPU, where single-threaded WASM inference is fastest per dollar */
  readonly memoryMiB?: number;
  /** @default 30 */
  readonly timeoutSec?: number;
  /** Node.js 20 or newer. @default lambda.Runtime.NODEJS_22_X */
  readonly runtime?: lambda.Runtime;
  /**
   * Who may call the HTTPS endpoint (Function URL): anyone (the node checks API keys) or
   * IAM-signed requests only; the admin node (`read-write`) must be 'IAM'.
   * @default 'PUBLIC'
   */
  readonly urlAuth?: 'PUBLIC' | 'IAM';
  /** APINODE_PRELOAD: `service` or `service/generation`, comma-separated, loaded in the init phase. @default - nothing preloaded */
  readonly preload?: string;
  /**
   * Secret holding the Postgres/Neon connection string, read at init (APINODE_SQL_SECRET_ARN: its
   * full ARN, or its name when imported by name, e.g. a replica in this region).
   * @default - no database
   */
  readonly databaseSecret?: secretsmanager.ISecret;
  /**
   * Secret holding the bootstrap admin key, read at init (APINODE_ADMIN_KEY_SECRET_ARN); only the
   * admin node (`access: 'read-write'`) takes one. The key never appears in the template or the environment.
   * @default - no bootstrap key: admin keys come from admin/keys.json only
   */
  readonly adminKeySecret?: secretsmanager.ISecret;
  /** Instances kept initialised on the `live` alias. @default 0: none, cold starts on demand */
  readonly provisionedConcurrency?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Extra APINODE_* variables (docs/operations.md). With the query log's `store` sink on
   * (APINODE_QUERY_LOG containing `store`), the role may also write under APINODE_QUERY_LOG_PREFIX
   * (default `querylog/`) of APINODE_QUERY_LOG_BUCKET, or of the node's bucket.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default - FunctionAlarms' defaults */
  readonly alarms?: { readonly errorsPer5Min?: number; readonly p99LatencyMs?: number; readonly alarmTopic?: sns.ITopic };
}

const READ = ['s3:GetObject'];
const WRITE = ['s3:PutObject', 's3:DeleteObject'];
/** Where node instances write their metric windows (the rollout controller's input). */
export const METRICS_PREFIX = 'metrics/';

/** One apinode Lambda function from the shared bundle: arm64, least-privilege S3 access, HTTPS URL, logs, alarms. */
export class NodeFunction extends Construct {
  readonly fn: lambda.Function;
  readonly alias: lambda.Alias;
  readonly url: lambda.FunctionUrl;
  readonly alarms: FunctionAlarms;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    checkInt('NodeFunction', 'memoryMiB', props.memoryMiB, 128, 10_240);
    checkInt('NodeFunction', 'timeoutSec', props.timeoutSec, 1, 900);
    checkInt('NodeFunction', 'provisionedConcurrency', props.provisionedConcurrency, 0, 10_000);
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
    if (!major || Number(major) < 20) throw new Error(`NodeFunction: runtime must be Node.js 20 or newer, got ${runtime.name}`);
    // The admin routes answer IAM-signed requests only: an admin key alone must not reach them from the internet.
    if (props.access === 'read-write' && props.urlAuth !== 'IAM') throw new Error("NodeFunction: access 'read-write' (the admin node) needs urlAuth 'IAM'");
    if (props.adminKeySecret && props.access !== 'read-write') throw new Error("NodeFunction: adminKeySecret needs access 'read-write' (the user-facing node has no admin routes)");
    const codePath = props.codePath ?? DEFAULT_CODE_PATH;
    if (!existsSync(join(codePath, 'index.mjs'))) {
      throw new Error(`NodeFunction: no Lambda bundle at ${join(codePath, 'index.mjs')}; run \`npm run build\` in the repository root first (or pass codePath)`);
    }

    const memorySize = props.memoryMiB ?? 1769;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    // Its own role, allowed to write to its own log group only (not AWSLambdaBasicExecutionRole's logs:* on every group).
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `apinode ${id}: ${props.access} on the generations bucket` });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    this.fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(codePath, { exclude: ['*.map'] }), // the source map stays local, for reading stack traces
      handler: 'index.handler',
      role,
      runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: Duration.seconds(props.timeoutSec ?? 30),
      logGroup,
      loggingFormat: lambda.LoggingFormat.TEXT, // the node already writes JSON lines
      environment: {
        ...modelMemory(memorySize),
        ...props.environment,
        APINODE_S3_BUCKET: props.bucket.bucketName,
        ...(props.access === 'read-write' ? { APINODE_ADMIN: 'on' } : {}),
        ...(props.preload ? { APINODE_PRELOAD: props.preload } : {}),
        ...(props.databaseSecret ? { APINODE_SQL_SECRET_ARN: props.databaseSecret.secretFullArn ?? props.databaseSecret.secretName } : {}),
        ...(props.adminKeySecret ? { APINODE_ADMIN_KEY_SECRET_ARN: props.adminKeySecret.secretArn } : {}),
      },
    });

    // Exactly what the node does: read objects, list keys (without it a missing key reads as 403, not 404), write on admin.
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: props.access === 'read-write' ? [...READ, ...WRITE] : READ, resources: [props.bucket.arnForObjects('*')] }),
    );
    // Every instance writes its per-minute metric windows (metrics/service=…/generation=…/minute=…/{instance}.json),
    // which the rollout controller sums: the user node may write there, and nowhere else.
    if (props.access === 'read') this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(`${METRICS_PREFIX}*`)] }));
    const queryLogKeys = queryLogStore(this, props);
    if (queryLogKeys) this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [queryLogKeys.arn] }));
    props.databaseSecret?.grantRead(this.fn);
    props.adminKeySecret?.grantRead(this.fn);
    acknowledgeNodeFunction(this.fn, role, props.bucket, props.access);
    if (queryLogKeys) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${queryLogKeys.finding}]`,
        reason: 'The query log\'s store sink (APINODE_QUERY_LOG=store) writes batches under its prefix, keys named by service, endpoint, hour and instance at run time; nothing else.',
      });
    }

    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.fn.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency || undefined,
    });
    this.url = this.alias.addFunctionUrl({ authType: (props.urlAuth ?? 'PUBLIC') === 'IAM' ? lambda.FunctionUrlAuthType.AWS_IAM : lambda.FunctionUrlAuthType.NONE });
    this.alarms = new FunctionAlarms(this, 'Alarms', { fn: this.fn, ...props.alarms });
    new CfnOutput(this, 'Url', { value: this.url.url, description: `HTTPS endpoint of ${this.node.path}` });
  }
}

/**
 * Where the query log's `store` sink writes, when `environment` turns it on
 * (APINODE_QUERY_LOG=…store…): its prefix in APINODE_QUERY_LOG_BUCKET, or in the node's bucket.
 */
function queryLogStore(scope: Construct, props: NodeFunctionProps): { arn: string; finding: string } | undefined {
  const env = props.environment ?? {};
  if (!(env.APINODE_QUERY_LOG ?? '').split(',').map((s) => s.trim()).includes('store')) return undefined;
  const prefix = env.APINODE_QUERY_LOG_PREFIX ?? 'querylog/';
  if (env.APINODE_QUERY_LOG_BUCKET) {
    const bucket = s3.Bucket.fromBucketName(scope, 'QueryLogBucket', env.APINODE_QUERY_LOG_BUCKET);
    return { arn: bucket.arnForObjects(`${prefix}*`), finding: `arn:<AWS::Partition>:s3:::${env.APINODE_QUERY_LOG_BUCKET}/${prefix}*` };
  }
  const id = Stack.of(scope).resolve(props.bucket.bucketArn) as unknown;
  return { arn: props.bucket.arnForObjects(`${prefix}*`), finding: `${isGetAtt(id) ? `<${id['Fn::GetAtt'][0]}.Arn>` : props.bucket.bucketArn}/${prefix}*` };
}

/** cdk-nag AwsSolutions findings on a node function that are deliberate, each with its reason. */
function acknowledgeNodeFunction(fn: lambda.Function, role: iam.Role, bucket: s3.IBucket, access: NodeFunctionProps['access']): void {
  const bucketId = Stack.of(fn).resolve(bucket.bucketArn) as unknown;
  const arn = isGetAtt(bucketId) ? `<${bucketId['Fn::GetAtt'][0]}.Arn>` : undefined;
  if (arn) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arn}/*]`,
      reason: 'The node reads (the admin node also writes) any key of its generations bucket: service ids and generation ids are only known at run time. The grant is scoped to this one bucket.',
    });
    if (access === 'read') {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arn}/${METRICS_PREFIX}*]`,
        reason: 'Each instance writes its own per-minute metric windows under metrics/ (keys named by service, generation, minute and instance, known at run time only); the user node writes nowhere else.',
      });
    }
  }
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions::AwsSolutions-L1',
    reason: 'The runtime is pinned (NodeFunction `runtime`, default nodejs22.x) to the Node.js version the bundle is tested on; moving to a newer one is a deliberate change, not an automatic one.',
  });
}

const isGetAtt = (x: unknown): x is { 'Fn::GetAtt': [string, string] } => typeof x === 'object' && x !== null && 'Fn::GetAtt' in x;

/**
 * What the function's memory size allows onnxruntime (docs/isolation-models.md): its heap capped
 * 512 MB below the function's memory (at most the node's default of 1,024 MiB), so a model run
 * that would need more answers 503 rather than the function running out of memory; and two
 * malloc arenas, so the memory a replaced model thread freed goes back to the system rather than
 * staying in per-thread arenas. `environment` may set either.
 */
export function modelMemory(memoryMiB: number): Record<string, string> {
  return { APINODE_MODEL_MAX_MEMORY_MIB: String(Math.max(64, Math.min(1024, memoryMiB - 512))), MALLOC_ARENA_MAX: '2' };
}
