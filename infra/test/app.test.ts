import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApinodeApp } from '../lib/app.js';
import { EMF_NAMESPACE } from '../lib/dashboard.js';
import { actionsOf, fakeBundle, functions, statements } from './support.js';

const codePath = fakeBundle();

/** The widgets of the template's dashboard: its body, with every reference replaced by "REF", parsed. */
function dashboardWidgets(t: Template): { properties: { title?: string; metrics?: unknown[][] } }[] {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } } }[];
  const body = dashboard!.Properties.DashboardBody['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
  return (JSON.parse(body) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] }).widgets;
}

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

  it('creates the database secret once, on the primary, replicated to every other region', () => {
    // THEN one secret with a replica per regional stack; the regional stack creates none and reads its replica by name
    p.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'apinode/database-url', ReplicaRegions: [{ Region: 'us-east-1' }] });
    r.resourceCountIs('AWS::SecretsManager::Secret', 0);
    r.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ APINODE_SQL_SECRET_ARN: 'apinode/database-url' }) } });
    const regionalGrants = statements(r).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(regionalGrants.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(':secretsmanager:us-east-1:') as string]);
    expect(JSON.stringify(regionalGrants[0]!.Resource)).toContain(':secret:apinode/database-url-??????');
  });

  it('generates the bootstrap admin key in a secret that only the admin function reads, never in the template', () => {
    // GIVEN the synthesised templates / THEN a generated secret, its ARN (not its value) in the admin environment
    p.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'apinode/admin-key', GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true }, SecretString: Match.absent() });
    const adminKeyId = Object.keys(p.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'apinode/admin-key' } }))[0]!;
    const envs = functions(p).map((f) => f.Properties.Environment.Variables);
    expect(envs.filter((e) => e.APINODE_ADMIN === 'on')).toEqual([expect.objectContaining({ APINODE_ADMIN_KEY_SECRET_ARN: { Ref: adminKeyId } })]);
    for (const e of [...envs, ...functions(r).map((f) => f.Properties.Environment.Variables)]) expect(e.APINODE_ADMIN_KEY).toBeUndefined();
    // only the admin function's role may read it
    const readers = Object.entries(p.findResources('AWS::IAM::Policy')).filter(([, v]) => JSON.stringify(v).includes(adminKeyId)).map(([id]) => id);
    expect(readers).toEqual([expect.stringMatching(/^AdminNodeRole/)]);
  });

  it('advances rollouts every minute: an EventBridge schedule invokes the admin function\'s live alias with the scheduled event', () => {
    const rules = Object.values(p.findResources('AWS::Events::Rule')) as { Properties: { ScheduleExpression: string; Targets: { Arn: unknown; Input?: unknown; RetryPolicy: unknown }[] } }[];
    expect(rules).toHaveLength(1);
    const [rule] = rules;
    expect(rule!.Properties.ScheduleExpression).toBe('rate(1 minute)');
    // No Input: EventBridge sends its own {"source": "aws.events", "detail-type": "Scheduled Event", …}, which the handler recognises.
    expect(rule!.Properties.Targets).toEqual([{ Arn: { Ref: expect.stringMatching(/^AdminNodeLive/) as string }, Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } }]);
    p.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { Ref: Match.stringLikeRegexp('^AdminNodeLive') } });
    r.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('draws a dashboard per region with per-generation panels from the node\'s embedded metrics', () => {
    for (const [t, region] of [[p, 'eu-west-1'], [r, 'us-east-1']] as const) {
      t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `apinode-${region}` });
      const expressions = dashboardWidgets(t).flatMap((w) => (w.properties.metrics ?? []).flat()).flatMap((m) => (typeof m === 'object' && m && 'expression' in m ? [m.expression] : []));
      expect(expressions.sort()).toEqual(
        [['ClientErrors', 'Sum'], ['Errors', 'Sum'], ['Latency', 'p99'], ['Requests', 'Sum']].map(([m, stat]) => `SEARCH('{${EMF_NAMESPACE},Service,Generation} MetricName="${m}"', '${stat}', 60)`),
      );
    }
    expect(dashboardWidgets(p).map((w) => w.properties.title)).toContain('Rollout decisions (admin function log)');
    expect(dashboardWidgets(r).map((w) => w.properties.title)).not.toContain('Rollout decisions (admin function log)');
  });

  it('passes cdk-nag\'s AwsSolutions checks, every acknowledged finding with its written reason', () => {
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations: { ruleName: string; reason: string }[] }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag).toMatchObject({ conclusion: 'success', violations: [] });
    expect(nag!.suppressedViolations.filter((v) => v.reason.length < 40)).toEqual([]);
    // What is acknowledged, and nothing else: a new finding fails the synth, a new acknowledgment shows up here.
    expect([...new Set(nag!.suppressedViolations.map((v) => v.ruleName.replace(/\[.*$/, '')))].sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-SMG4']);
  });

  it('passes cdk-nag with the query log\'s store sink on, in the node\'s bucket or a bucket of its own', () => {
    const environments: Record<string, string>[] = [{ APINODE_QUERY_LOG: 'stdout,store' }, { APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_BUCKET: 'my-query-logs' }];
    for (const environment of environments) {
      const withLog = new App({ outdir: mkdtempSync(join(tmpdir(), 'apinode-nag-')) });
      buildApinodeApp(withLog, { regions: ['eu-west-1'], codePath, environment });
      expect(() => withLog.synth()).not.toThrow();
    }
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    // GIVEN the app plus a bucket without access logs / WHEN synthesised / THEN cdk-nag stops it
    const bad = new App({ outdir: mkdtempSync(join(tmpdir(), 'apinode-nag-')) });
    const { primary: stack } = buildApinodeApp(bad, { regions: ['eu-west-1'], codePath });
    new s3.Bucket(stack, 'Unlogged', { enforceSSL: true });
    expect(() => bad.synth()).toThrow(/Apinode-eu-west-1\/Unlogged\/Resource[\s\S]*AwsSolutions-S1/);
  });

  it('rejects what is not a region name before anything is built', () => {
    expect(() => buildApinodeApp(new App({ builtinCloudFormationValidation: false }), { regions: ['eu-west-1', 'Europe'], codePath })).toThrow('ApinodeStack: "Europe" is not an AWS region name; expected e.g. "eu-west-1"');
    expect(() => buildApinodeApp(new App({ builtinCloudFormationValidation: false }), { regions: [], codePath })).toThrow(/at least one region/);
  });
});
