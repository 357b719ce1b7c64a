import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ApinodeDashboard } from './dashboard.js';
import { GenerationsBucket, generationsBucketName } from './generations-bucket.js';
import { NodeFunction } from './node-function.js';
import { RolloutSchedule } from './rollout-schedule.js';
import { checkInt } from './validate.js';

export interface ApinodeStackProps extends StackProps {
  /** The region this stack deploys to (env-agnostic account: no lookups, synth works offline). */
  readonly region: string;
  /**
   * Regions whose buckets this (primary) stack's bucket replicates to. A stack with replicas is the
   * primary: it also runs the admin function, the only writer. Regional stacks deploy first.
   * @default - none: a single-region deployment, which is its own primary
   */
  readonly replicaRegions?: readonly string[];
  /**
   * The primary region, when this stack is a regional one (its bucket and database secret are
   * replicas of the primary's).
   * @default - this stack is the primary
   */
  readonly primaryRegion?: string;
  /** Whether this stack runs the admin function (write access, admin routes). @default - true when it is the primary */
  readonly admin?: boolean;
  /** @default - NodeFunction's default (dist/lambda) */
  readonly codePath?: string;
  /** @default - NodeFunction's default */
  readonly memoryMiB?: number;
  /** @default - NodeFunction's default */
  readonly timeoutSec?: number;
  /** Provisioned instances of the user-facing function. @default 0 */
  readonly provisionedConcurrency?: number;
  /** APINODE_PRELOAD of the user-facing function. @default - nothing preloaded */
  readonly preload?: string;
  /** @default - NodeFunction's default (one month) */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep a Secrets Manager secret for the Postgres/Neon connection string and let both functions
   * read it at init. The primary creates it and Secrets Manager replicates it to every replica
   * region (same name); a regional stack reads its region's replica by name.
   * @default true
   */
  readonly database?: boolean;
  /**
   * Prefix of the secrets' names: `<prefix>/database-url` (replicated) and `<prefix>/admin-key`.
   * @default 'apinode'
   */
  readonly secretPrefix?: string;
  /**
   * Extra APINODE_* variables of both functions (docs/operations.md), e.g. `APINODE_QUERY_LOG:
   * 'stdout,store'`, which also lets them write the query log's objects (NodeFunction).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Advance guarded rollouts from an EventBridge schedule (the admin function; needs `admin`). @default true */
  readonly rolloutSchedule?: boolean;
  /** A CloudWatch dashboard `apinode-<region>` with per-generation panels. @default true */
  readonly dashboard?: boolean;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const SECRET_PREFIX = /^[\w/+=.@-]{1,400}$/;

/** One region of apinode: its generations bucket, the user-facing node and, on the primary, the admin node. */
export class ApinodeStack extends Stack {
  readonly bucket: GenerationsBucket;
  readonly user: NodeFunction;
  readonly admin?: NodeFunction;
  /** The connection-string secret: created on the primary, its replica (imported by name) on a regional stack. */
  readonly databaseSecret?: secretsmanager.ISecret;
  /** The generated bootstrap admin key (primary only). */
  readonly adminKeySecret?: secretsmanager.Secret;
  readonly rolloutSchedule?: RolloutSchedule;
  readonly dashboard?: ApinodeDashboard;

  constructor(scope: Construct, id: string, props: ApinodeStackProps) {
    const replicaRegions = props.replicaRegions ?? [];
    for (const r of [props.region, ...replicaRegions, ...(props.primaryRegion ? [props.primaryRegion] : [])]) {
      if (!REGION.test(r)) throw new Error(`ApinodeStack: "${r}" is not an AWS region name; expected e.g. "eu-west-1"`);
    }
    if (replicaRegions.includes(props.region)) throw new Error(`ApinodeStack: the primary region ${props.region} cannot also be a replica region`);
    const prefix = props.secretPrefix ?? 'apinode';
    if (!SECRET_PREFIX.test(prefix)) throw new Error(`ApinodeStack: secretPrefix must be letters, digits and /_+=.@- (at most 400), got "${prefix}"`);
    const primary = props.primaryRegion === undefined;
    if (!primary && replicaRegions.length) throw new Error(`ApinodeStack: a regional stack (primaryRegion ${props.primaryRegion}) cannot have replica regions`);
    const admin = props.admin ?? primary;
    if (props.rolloutSchedule && !admin) throw new Error('ApinodeStack: rolloutSchedule needs the admin function (admin: true): only the admin node writes rollout state');
    checkInt('ApinodeStack', 'provisionedConcurrency', props.provisionedConcurrency, 0, 10_000);
    super(scope, id, { ...props, env: { account: props.env?.account, region: props.region } });

    this.bucket = new GenerationsBucket(this, 'Generations', {
      bucketName: generationsBucketName(props.region),
      replicas: replicaRegions.map((region) => ({ region, bucketName: generationsBucketName(region) })),
    });
    if (props.database ?? true) this.databaseSecret = this.databaseUrlSecret(`${prefix}/database-url`, primary, replicaRegions);
    if (admin) {
      this.adminKeySecret = new secretsmanager.Secret(this, 'AdminKey', {
        secretName: `${prefix}/admin-key`,
        description: 'apinode bootstrap admin key (APINODE_ADMIN_KEY), generated; the admin function reads it at init',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      Validations.of(this.adminKeySecret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason: 'The bootstrap key is read once per cold start, so an automatic rotation would leave warm instances on the old key; rotate it by hand (put-secret-value, then a redeploy) and use expiring admin keys (admin/keys.json) day to day.',
      });
    }
    const common = { bucket: this.bucket.bucket, codePath: props.codePath, memoryMiB: props.memoryMiB, timeoutSec: props.timeoutSec, logRetention: props.logRetention, databaseSecret: this.databaseSecret, environment: props.environment };
    this.user = new NodeFunction(this, 'UserNode', { ...common, access: 'read', urlAuth: 'PUBLIC', preload: props.preload, provisionedConcurrency: props.provisionedConcurrency });
    if (admin) {
      this.admin = new NodeFunction(this, 'AdminNode', { ...common, access: 'read-write', urlAuth: 'IAM', adminKeySecret: this.adminKeySecret });
      if (props.rolloutSchedule ?? true) this.rolloutSchedule = new RolloutSchedule(this, 'RolloutSchedule', { target: this.admin.alias });
    }
    if (props.dashboard ?? true) {
      this.dashboard = new ApinodeDashboard(this, 'Dashboard', { dashboardName: `apinode-${props.region}`, user: this.user.fn, admin: this.admin?.fn, rolloutLogGroup: this.admin?.fn.logGroup });
    }
  }

  /**
   * The primary creates the secret once, with a replica in every replica region; a regional stack
   * reads its region's replica, which has the same name (the replica appears when the primary deploys).
   */
  private databaseUrlSecret(name: string, primary: boolean, replicaRegions: readonly string[]): secretsmanager.ISecret {
    if (!primary) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${this.region}:<AWS::AccountId>:secret:${name}-??????]`,
        reason: `The functions read the replica of ${name} by name: a replica's ARN ends in the random suffix the primary region's deployment drew, which "-??????" stands for.`,
      });
      return secretsmanager.Secret.fromSecretNameV2(this, 'DatabaseUrl', name);
    }
    const secret = new secretsmanager.Secret(this, 'DatabaseUrl', {
      secretName: name,
      description: 'Postgres/Neon connection string for apinode SQL endpoints (postgres://user:password@host/db); replace the generated placeholder',
      replicaRegions: replicaRegions.map((region) => ({ region })),
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'The connection string belongs to the database provider (Neon, RDS): rotate the database password there, then put the new string (it replicates to every region).',
    });
    return secret;
  }
}
