import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
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
}

/** The deterministic generations bucket name of a region in the deploying account. */
export const generationsBucketName = (region: string): string => `apinode-generations-${Aws.ACCOUNT_ID}-${region}`;

/**
 * Where generations and service state live (DESIGN 3): private, encrypted, versioned, TLS only,
 * optionally replicating to regional buckets.
 */
export class GenerationsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: GenerationsBucketProps = {}) {
    super(scope, id);
    checkInt('GenerationsBucket', 'noncurrentVersionRetentionDays', props.noncurrentVersionRetentionDays, 1, 3650);
    const regions = (props.replicas ?? []).map((r) => r.region);
    const duplicate = regions.find((r, i) => regions.indexOf(r) !== i);
    if (duplicate) throw new Error(`GenerationsBucket: replicas name region "${duplicate}" twice; expected one bucket per region`);

    this.bucket = new s3.Bucket(this, 'Bucket', {
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
  }
}
