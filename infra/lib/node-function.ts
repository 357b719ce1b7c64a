import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
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
  /** Who may call the HTTPS endpoint (Function URL): anyone (the node checks API keys) or IAM-signed requests only. @default 'PUBLIC' */
  readonly urlAuth?: 'PUBLIC' | 'IAM';
  /** APINODE_PRELOAD: `service` or `service/generation`, comma-separated, loaded in the init phase. @default - nothing preloaded */
  readonly preload?: string;
  /** Secret holding the Postgres/Neon connection string, read at init (APINODE_SQL_SECRET_ARN). @default - no database */
  readonly databaseSecret?: secretsmanager.ISecret;
  /** Instances kept initialised on the `live` alias. @default 0: none, cold starts on demand */
  readonly provisionedConcurrency?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Extra APINODE_* variables (docs/operations.md). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default - FunctionAlarms' defaults */
  readonly alarms?: { readonly errorsPer5Min?: number; readonly p99LatencyMs?: number; readonly alarmTopic?: sns.ITopic };
}

const READ = ['s3:GetObject'];
const WRITE = ['s3:PutObject', 's3:DeleteObject'];

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
    const codePath = props.codePath ?? DEFAULT_CODE_PATH;
    if (!existsSync(join(codePath, 'index.mjs'))) {
      throw new Error(`NodeFunction: no Lambda bundle at ${join(codePath, 'index.mjs')}; run \`npm run build\` in the repository root first (or pass codePath)`);
    }

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(codePath, { exclude: ['*.map'] }), // the source map stays local, for reading stack traces
      handler: 'index.handler',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMiB ?? 1769,
      timeout: Duration.seconds(props.timeoutSec ?? 30),
      logGroup,
      loggingFormat: lambda.LoggingFormat.TEXT, // the node already writes JSON lines
      environment: {
        ...props.environment,
        APINODE_S3_BUCKET: props.bucket.bucketName,
        ...(props.access === 'read-write' ? { APINODE_ADMIN: 'on' } : {}),
        ...(props.preload ? { APINODE_PRELOAD: props.preload } : {}),
        ...(props.databaseSecret ? { APINODE_SQL_SECRET_ARN: props.databaseSecret.secretArn } : {}),
      },
    });

    // Exactly what the node does: read objects, list keys (without it a missing key reads as 403, not 404), write on admin.
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: props.access === 'read-write' ? [...READ, ...WRITE] : READ, resources: [props.bucket.arnForObjects('*')] }),
    );
    props.databaseSecret?.grantRead(this.fn);

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
