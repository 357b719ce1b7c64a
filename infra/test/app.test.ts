import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApinodeApp } from '../lib/app.js';
import { fakeBundle } from './support.js';

const codePath = fakeBundle();

describe('the apinode app in two regions', () => {
  // GIVEN eu-west-1 as primary and us-east-1 as a replica region / WHEN the whole app synthesises
  const app = new App();
  const { primary, regional } = buildApinodeApp(app, { regions: ['eu-west-1', 'us-east-1'], codePath });
  const assembly = app.synth();
  const p = Template.fromStack(primary);
  const r = Template.fromStack(regional[0]!);

  it('passes CDK\'s built-in CloudFormation validation', () => {
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });

  it('writes one template per region, the regional stack deployed first', () => {
    expect(assembly.stacks.map((s) => `${s.stackName}@${s.environment.region}`).sort()).toEqual(['Apinode-eu-west-1@eu-west-1', 'Apinode-us-east-1@us-east-1']);
    expect(primary.dependencies.map((s) => s.stackName)).toEqual(['Apinode-us-east-1']);
  });

  it('runs the admin function in the primary region only', () => {
    p.resourceCountIs('AWS::Lambda::Function', 2);
    r.resourceCountIs('AWS::Lambda::Function', 1);
    r.resourceCountIs('AWS::Lambda::Url', 1);
    r.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    p.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });

  it('replicates the primary bucket into the regional bucket, whose name it derives', () => {
    p.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: { Rules: [Match.objectLike({ Id: 'to-us-east-1', Destination: { Bucket: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['-us-east-1'])] }) } })] },
    });
    r.hasResourceProperties('AWS::S3::Bucket', { BucketName: { 'Fn::Join': ['', ['apinode-generations-', { Ref: 'AWS::AccountId' }, '-us-east-1']] }, ReplicationConfiguration: Match.absent() });
  });

  it('keeps the database connection string in a secret in each region', () => {
    p.resourceCountIs('AWS::SecretsManager::Secret', 1);
    r.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('rejects what is not a region name before anything is built', () => {
    expect(() => buildApinodeApp(new App({ builtinCloudFormationValidation: false }), { regions: ['eu-west-1', 'Europe'], codePath })).toThrow('ApinodeStack: "Europe" is not an AWS region name; expected e.g. "eu-west-1"');
    expect(() => buildApinodeApp(new App({ builtinCloudFormationValidation: false }), { regions: [], codePath })).toThrow(/at least one region/);
  });
});
