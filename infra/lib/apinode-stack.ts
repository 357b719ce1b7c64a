import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { GenerationsBucket, generationsBucketName } from './generations-bucket.js';
import { NodeFunction } from './node-function.js';
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
  /** Whether this stack runs the admin function (write access, admin routes). @default - true when it is the primary */
  readonly admin?: boolean;
  /** Who may call the admin URL: IAM-signed requests only, or anyone (admin keys still apply). @default 'IAM' */
  readonly adminUrlAuth?: 'PUBLIC' | 'IAM';
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
  /** Keep a Secrets Manager secret for the Postgres/Neon connection string and let both functions read it at init. @default true */
  readonly database?: boolean;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** One region of apinode: its generations bucket, the user-facing node and, on the primary, the admin node. */
export class ApinodeStack extends Stack {
  readonly bucket: GenerationsBucket;
  readonly user: NodeFunction;
  readonly admin?: NodeFunction;
  readonly databaseSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApinodeStackProps) {
    const replicaRegions = props.replicaRegions ?? [];
    for (const r of [props.region, ...replicaRegions]) {
      if (!REGION.test(r)) throw new Error(`ApinodeStack: "${r}" is not an AWS region name; expected e.g. "eu-west-1"`);
    }
    if (replicaRegions.includes(props.region)) throw new Error(`ApinodeStack: the primary region ${props.region} cannot also be a replica region`);
    checkInt('ApinodeStack', 'provisionedConcurrency', props.provisionedConcurrency, 0, 10_000);
    super(scope, id, { ...props, env: { account: props.env?.account, region: props.region } });

    this.bucket = new GenerationsBucket(this, 'Generations', {
      bucketName: generationsBucketName(props.region),
      replicas: replicaRegions.map((region) => ({ region, bucketName: generationsBucketName(region) })),
    });
    if (props.database ?? true) {
      this.databaseSecret = new secretsmanager.Secret(this, 'DatabaseUrl', {
        description: 'Postgres/Neon connection string for apinode SQL endpoints (postgres://user:password@host/db); replace the generated placeholder',
      });
    }
    const common = { bucket: this.bucket.bucket, codePath: props.codePath, memoryMiB: props.memoryMiB, timeoutSec: props.timeoutSec, logRetention: props.logRetention, databaseSecret: this.databaseSecret };
    this.user = new NodeFunction(this, 'UserNode', { ...common, access: 'read', urlAuth: 'PUBLIC', preload: props.preload, provisionedConcurrency: props.provisionedConcurrency });
    if (props.admin ?? true) {
      this.admin = new NodeFunction(this, 'AdminNode', { ...common, access: 'read-write', urlAuth: props.adminUrlAuth ?? 'IAM' });
    }
  }
}
