import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { checkInt } from './validate.js';

/** A bucket in another region that receives every generation the primary bucket stores. */
export interface ReplicaBucket {
  readonly region: string;
  readonly bucketName: string;
}

export interface GenerationsBucketProps {
  /** @default - `generationsBucketName(region)`: deterministic, so other regions' stacks can name it */
  readonly bucketName?: string;
  /**
   * Regional buckets this bucket replicates to (objects, and deletions as delete markers).
   * They must exist before this bucket's stack deploys.
   * @default - no replication
   */
  readonly replicas?: readonly ReplicaBucket[];
  /**
   * Days an overwritten or deleted version is kept: `service.json` history, for rolling back a mapping.
   * @default 90
   */
  readonly noncurrentVersionRetentionDays?: number;
  /** @default RemovalPolicy.RETAIN: generations outlive the stack */
  readonly removalPolicy?: RemovalPolicy;
  /** Days the node instances' metric windows (`metrics/`, read by guarded rollouts) are kept. @default 7 */
  readonly metricWindowRetentionDays?: number;
  /**
   * Days S3 server access logs (who read or wrote which key) are kept, in a log bucket of their own.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
}

/** The deterministic generations bucket name of a region in the deploying account. */
export const generationsBucketName = (region: string): string => `apinode-generations-${Aws.ACCOUNT_ID}-${region}`;

/**
 * Where generations and service state live (DESIGN 3): private, encrypted, versioned, TLS only,
 * optionally replicating to regional buckets.
 */
export class GenerationsBucket extends Construct {
  readonly bucket: s3.Bucket;
  /** Where S3 writes the generations bucket's server access logs. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: GenerationsBucketProps = {}) {
    super(scope, id);
    checkInt('GenerationsBucket', 'noncurrentVersionRetentionDays', props.noncurrentVersionRetentionDays, 1, 3650);
    checkInt('GenerationsBucket', 'metricWindowRetentionDays', props.metricWindowRetentionDays, 1, 3650);
    checkInt('GenerationsBucket', 'accessLogRetentionDays', props.accessLogRetentionDays, 1, 3650);
    const regions = (props.replicas ?? []).map((r) => r.region);
    const duplicate = regions.find((r, i) => regions.indexOf(r) !== i);
    if (duplicate) throw new Error(`GenerationsBucket: replicas name region "${duplicate}" twice; expected one bucket per region`);

    // S3 delivers logs under a bucket policy, not the legacy LogDeliveryWrite ACL (which ownership enforcement forbids).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 90) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'generations/',
      bucketName: props.bucketName,
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(props.noncurrentVersionRetentionDays ?? 90), abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Per-minute metric windows of the node instances: a rollout reads the last hours, never older.
        { id: 'expire-metric-windows', prefix: 'metrics/', expiration: Duration.days(props.metricWindowRetentionDays ?? 7) },
      ],
      replicationRules: props.replicas?.length
        ? props.replicas.map((r, i) => ({
            id: `to-${r.region}`,
            priority: i,
            destination: s3.Bucket.fromBucketName(this, `Replica-${r.region}`, r.bucketName),
            deleteMarkerReplication: true,
          }))
        : undefined,
    });
    if (props.replicas?.length) this.acknowledgeReplication(props.replicas);
  }

  /** cdk-nag: the replication role CDK writes reads every object here and writes every object there, by design. */
  private acknowledgeReplication(replicas: readonly ReplicaBucket[]): void {
    const role = this.bucket.node.findChild('ReplicationRole');
    const self = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const reason = 'S3 replication copies every generation: the role S3 assumes reads any object version of this bucket and replicates it into any key of each regional bucket, and nothing else.';
    Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${self}.Arn>/*]`, reason });
    for (const r of replicas) {
      const dest = /^[\w.-]+$/.test(r.bucketName) ? r.bucketName : r.bucketName.replace(Aws.ACCOUNT_ID, '<AWS::AccountId>');
      Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${dest}/*]`, reason });
    }
  }
}
