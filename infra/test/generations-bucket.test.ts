import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GenerationsBucket } from '../lib/generations-bucket.js';

const stackWith = (props: ConstructorParameters<typeof GenerationsBucket>[2] = {}) => {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S', { env: { region: 'eu-west-1' } });
  new GenerationsBucket(stack, 'Generations', props);
  return Template.fromStack(stack);
};

describe('GenerationsBucket', () => {
  it('is private, encrypted and versioned', () => {
    // GIVEN a bucket with defaults / WHEN synthesised
    const t = stackWith();
    // THEN
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it('denies every request that does not use TLS', () => {
    const t = stackWith();
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('keeps overwritten versions (service.json history) for the configured number of days', () => {
    const t = stackWith({ noncurrentVersionRetentionDays: 30 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]) },
    });
  });

  it('replicates objects and deletions to each regional bucket', () => {
    // GIVEN two replicas
    const t = stackWith({ replicas: [{ region: 'us-east-1', bucketName: 'gen-us' }, { region: 'ap-southeast-2', bucketName: 'gen-ap' }] });
    // THEN one rule per region, delete markers included
    t.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: Match.anyValue(),
        Rules: [
          Match.objectLike({ Id: 'to-us-east-1', Status: 'Enabled', DeleteMarkerReplication: { Status: 'Enabled' }, Destination: { Bucket: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':s3:::gen-us'])]) }) } }),
          Match.objectLike({ Id: 'to-ap-southeast-2', Destination: { Bucket: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':s3:::gen-ap'])]) }) } }),
        ],
      },
    });
  });

  it('expires the instances\' metric windows after a week, and logs every access to a log bucket of its own', () => {
    // GIVEN a bucket with defaults / WHEN synthesised
    const t = stackWith();
    // THEN
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-metric-windows', Prefix: 'metrics/', ExpirationInDays: 7 })]) },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^GenerationsAccessLogs') }, LogFilePrefix: 'generations/' },
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.absent(),
    });
    // S3's log delivery writes under a bucket policy (ownership is enforced, so no ACL)
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^GenerationsAccessLogs') },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]) },
    });
  });

  it('does not replicate without replicas', () => {
    const t = stackWith();
    t.hasResourceProperties('AWS::S3::Bucket', { ReplicationConfiguration: Match.absent() });
  });

  it('rejects a region named twice and a retention that is not a whole number of days', () => {
    expect(() => stackWith({ replicas: [{ region: 'us-east-1', bucketName: 'a' }, { region: 'us-east-1', bucketName: 'b' }] })).toThrow(/"us-east-1" twice/);
    expect(() => stackWith({ noncurrentVersionRetentionDays: 0.5 })).toThrow(/noncurrentVersionRetentionDays must be an integer from 1 to 3650, got 0.5/);
  });
});
