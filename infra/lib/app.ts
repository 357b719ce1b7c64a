import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { ApinodeStack } from './apinode-stack.js';

export interface ApinodeAppProps {
  /** Regions to deploy to; the first is the primary (admin function, replication source). */
  readonly regions: readonly string[];
  /** @default - the deploying account, resolved at deploy time (env-agnostic synth) */
  readonly account?: string;
  /** @default - ApinodeStack's defaults */
  readonly codePath?: string;
  /** @default 0 */
  readonly provisionedConcurrency?: number;
  /** @default - nothing preloaded */
  readonly preload?: string;
  /** @default - one month */
  readonly logRetention?: logs.RetentionDays;
  /** @default true: a connection-string secret on the primary, replicated to every region */
  readonly database?: boolean;
  /**
   * Run cdk-nag's AwsSolutions checks when the app synthesises (a finding without its written
   * acknowledgment fails the synth).
   * @default true
   */
  readonly policyChecks?: boolean;
  /** Extra APINODE_* variables of every function. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
}

/** One stack per region: `Apinode-<region>`. Regional stacks deploy before the primary, whose bucket replicates to theirs. */
export function buildApinodeApp(app: App, props: ApinodeAppProps): { primary: ApinodeStack; regional: ApinodeStack[] } {
  const [primaryRegion, ...others] = props.regions;
  if (!primaryRegion) throw new Error('apinode: at least one region is required, e.g. -c regions=eu-west-1,us-east-1');
  if (props.policyChecks ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const shared = { env: { account: props.account }, codePath: props.codePath, provisionedConcurrency: props.provisionedConcurrency, preload: props.preload, logRetention: props.logRetention, database: props.database, environment: props.environment };
  const regional = others.map((region) => new ApinodeStack(app, `Apinode-${region}`, { ...shared, region, primaryRegion, description: `apinode ${region} (replica of ${primaryRegion})` }));
  const primary = new ApinodeStack(app, `Apinode-${primaryRegion}`, { ...shared, region: primaryRegion, replicaRegions: others, description: `apinode ${primaryRegion} (primary)` });
  for (const r of regional) primary.addStackDependency(r, 'replication needs the regional buckets to exist');
  return { primary, regional };
}
