import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { NodeFunction, type NodeFunctionProps } from '../lib/node-function.js';
import { actionsOf, fakeBundle, functions, statements } from './support.js';

const codePath = fakeBundle();

function synth(props: Partial<NodeFunctionProps> = {}) {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S', { env: { region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const secret = new secretsmanager.Secret(stack, 'Db');
  new NodeFunction(stack, 'Node', { bucket, access: 'read', codePath, databaseSecret: secret, ...props });
  return Template.fromStack(stack);
}

/** Every action the function's role may perform. */
const roleActions = (t: Template): string[] => statements(t).flatMap(actionsOf);

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

  it("caps onnxruntime's heap below the function's memory and limits malloc arenas; the environment may override both", () => {
    const vars = (props: Partial<NodeFunctionProps>) => functions(synth(props))[0]!.Properties.Environment.Variables;
    expect(vars({})).toMatchObject({ APINODE_MODEL_MAX_MEMORY_MIB: '1024', MALLOC_ARENA_MAX: '2' });
    expect(vars({ memoryMiB: 1024 })).toMatchObject({ APINODE_MODEL_MAX_MEMORY_MIB: '512' });
    expect(vars({ memoryMiB: 256 })).toMatchObject({ APINODE_MODEL_MAX_MEMORY_MIB: '64' });
    expect(vars({ memoryMiB: 1024, environment: { APINODE_MODEL_MAX_MEMORY_MIB: '300', MALLOC_ARENA_MAX: '4' } })).toMatchObject({ APINODE_MODEL_MAX_MEMORY_MIB: '300', MALLOC_ARENA_MAX: '4' });
  });

  it('gives the user-facing node read access only: it writes its metric windows under metrics/ and nothing else', () => {
    // GIVEN access "read" / WHEN synthesised / THEN
    const t = synth({ access: 'read' });
    const actions = roleActions(t);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a) => /^s3:(Delete|\*)|^s3:.*Acl|^\*$/.test(a))).toEqual([]);
    const puts = statements(t).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:Put')));
    expect(puts).toEqual([expect.objectContaining({ Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Bucket/), 'Arn'] }, '/metrics/*']] } })]);
    const env = functions(t)[0]!.Properties.Environment.Variables;
    expect(env.APINODE_ADMIN).toBeUndefined();
    expect(env.APINODE_ADMIN_KEY_SECRET_ARN).toBeUndefined();
  });

  it('runs under its own role, which writes to its own log group only (no AWS managed policy)', () => {
    const t = synth();
    t.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }), ManagedPolicyArns: Match.absent() });
    const logs = statements(t).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
    expect(logs).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^NodeLogs/), 'Arn'] } })]);
  });

  it('hands the admin node the bootstrap key secret by ARN, readable by its role, and refuses it to the user node', () => {
    // GIVEN an admin node with a key secret
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S', { env: { region: 'eu-west-1' } });
    const key = new secretsmanager.Secret(stack, 'AdminKey');
    new NodeFunction(stack, 'Admin', { bucket: new s3.Bucket(stack, 'Bucket'), access: 'read-write', urlAuth: 'IAM', codePath, adminKeySecret: key });
    const t = Template.fromStack(stack);
    // THEN its environment holds the ARN, never the key, and its role may read that secret
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ APINODE_ADMIN_KEY_SECRET_ARN: { Ref: Match.stringLikeRegexp('^AdminKey') }, APINODE_ADMIN_KEY: Match.absent() }) } });
    expect(statements(t).filter((s) => JSON.stringify(s.Resource).includes('AdminKey')).flatMap(actionsOf)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']);
    expect(() => synth({ access: 'read', adminKeySecret: new secretsmanager.Secret(new Stack(), 'K') })).toThrow(/adminKeySecret needs access 'read-write'/);
    // and the admin node is never on a public URL
    expect(() => synth({ access: 'read-write' })).toThrow("NodeFunction: access 'read-write' (the admin node) needs urlAuth 'IAM'");
    expect(() => synth({ access: 'read-write', urlAuth: 'PUBLIC' })).toThrow(/needs urlAuth 'IAM'/);
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

  it('lets the query log\'s store sink write under its prefix when it is on, and only then', () => {
    // GIVEN the store sink on, in the node's bucket, then in a bucket of its own / THEN PutObject on exactly that prefix
    const puts = (t: Template) => statements(t).filter((s) => actionsOf(s).includes('s3:PutObject')).map((s) => JSON.stringify(s.Resource));
    expect(puts(synth({ environment: { APINODE_QUERY_LOG: 'stdout, store' } }))).toEqual([expect.stringContaining('"/metrics/*"'), expect.stringContaining('"/querylog/*"')]);
    expect(puts(synth({ environment: { APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_BUCKET: 'my-query-logs', APINODE_QUERY_LOG_PREFIX: 'ql/' } })).at(-1)).toContain(':s3:::my-query-logs/ql/*');
    expect(puts(synth({ environment: { APINODE_QUERY_LOG: 'stdout' } }))).toHaveLength(1);
  });

  it('rejects bad sizes, old runtimes and a missing bundle with what it got', () => {
    expect(() => synth({ memoryMiB: 64 })).toThrow('NodeFunction: memoryMiB must be an integer from 128 to 10240, got 64');
    expect(() => synth({ timeoutSec: 901 })).toThrow(/timeoutSec .* got 901/);
    expect(() => synth({ provisionedConcurrency: -1 })).toThrow(/provisionedConcurrency/);
    expect(() => synth({ runtime: lambda.Runtime.NODEJS_18_X })).toThrow(/Node.js 20 or newer, got nodejs18.x/);
    expect(() => synth({ codePath: '/nonexistent/apinode' })).toThrow(/npm run build/);
  });
});
