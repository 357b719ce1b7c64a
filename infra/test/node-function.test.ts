import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { NodeFunction, type NodeFunctionProps } from '../lib/node-function.js';
import { actionsOf, fakeBundle } from './support.js';

const codePath = fakeBundle();

function synth(props: Partial<NodeFunctionProps> = {}) {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S', { env: { region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const secret = new secretsmanager.Secret(stack, 'Db');
  new NodeFunction(stack, 'Node', { bucket, access: 'read', codePath, databaseSecret: secret, ...props });
  return Template.fromStack(stack);
}

/** Every action the function's role may perform. */
function roleActions(t: Template): string[] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap(actionsOf));
}

describe('NodeFunction', () => {
  it('runs the shared bundle on arm64 and Node 22, serving the bucket', () => {
    const t = synth();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 30,
      Environment: { Variables: Match.objectLike({ APINODE_S3_BUCKET: { Ref: Match.stringLikeRegexp('^Bucket') }, APINODE_SQL_SECRET_ARN: { Ref: Match.stringLikeRegexp('^Db') } }) },
    });
  });

  it('gives the user-facing node read access only: it cannot write or delete', () => {
    // GIVEN access "read" / WHEN synthesised / THEN
    const actions = roleActions(synth({ access: 'read' }));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a) => /^s3:(Put|Delete|\*)|^s3:.*Acl|^\*$/.test(a))).toEqual([]);
    const env = Object.values(synth({ access: 'read' }).findResources('AWS::Lambda::Function'))[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(env.Properties.Environment.Variables.APINODE_ADMIN).toBeUndefined();
  });

  it('gives the admin node write access and turns the admin routes on', () => {
    const t = synth({ access: 'read-write', urlAuth: 'IAM' });
    expect(roleActions(t)).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:DeleteObject']));
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ APINODE_ADMIN: 'on' }) } });
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: 'live' });
  });

  it('exposes a public HTTPS Function URL on the live alias by default', () => {
    const t = synth();
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', Qualifier: 'live' });
    t.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: Match.absent() });
  });

  it('keeps logs for the configured retention', () => {
    synth().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('alarms on errors, throttles and p99 latency', () => {
    const t = synth({ alarms: { p99LatencyMs: 1500 } });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Statistic: 'Sum', Threshold: 5 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Threshold: 1 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 1500 });
  });

  it('keeps provisioned instances warm on the alias when asked, and preloads generations', () => {
    const t = synth({ provisionedConcurrency: 2, preload: 'demo' });
    t.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ APINODE_PRELOAD: 'demo' }) } });
  });

  it('rejects bad sizes, old runtimes and a missing bundle with what it got', () => {
    expect(() => synth({ memoryMiB: 64 })).toThrow('NodeFunction: memoryMiB must be an integer from 128 to 10240, got 64');
    expect(() => synth({ timeoutSec: 901 })).toThrow(/timeoutSec .* got 901/);
    expect(() => synth({ provisionedConcurrency: -1 })).toThrow(/provisionedConcurrency/);
    expect(() => synth({ runtime: lambda.Runtime.NODEJS_18_X })).toThrow(/Node.js 20 or newer, got nodejs18.x/);
    expect(() => synth({ codePath: '/nonexistent/apinode' })).toThrow(/npm run build/);
  });
});
