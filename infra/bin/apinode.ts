// The apinode CDK app. Context (cdk.json or -c): regions (comma-separated, first = primary),
// account, provisionedConcurrency, preload, codePath, database, queryLog (APINODE_QUERY_LOG of every
// function). Synth is offline: no lookups, no Docker; cdk-nag's AwsSolutions checks run in it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { buildApinodeApp } from '../lib/app.js';

// Run by the cdk CLI, the context and output folder come from it; run directly (`npm run synth`),
// from cdk.json, into infra/cdk.out, as the CLI would.
const byCli = process.env.CDK_OUTDIR !== undefined;
const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
const app = new App(byCli ? {} : { context: cdkJson.context, outdir: fileURLToPath(new URL('../cdk.out', import.meta.url)) });
const ctx = (key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return v === undefined || v === '' ? undefined : String(v);
};
const concurrency = ctx('provisionedConcurrency');
const queryLog = ctx('queryLog');

buildApinodeApp(app, {
  regions: (ctx('regions') ?? process.env.CDK_DEFAULT_REGION ?? 'eu-west-1').split(',').map((r) => r.trim()).filter(Boolean),
  account: ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
  provisionedConcurrency: concurrency === undefined ? undefined : Number(concurrency),
  preload: ctx('preload'),
  codePath: ctx('codePath'),
  database: ctx('database') !== 'false',
  environment: queryLog ? { APINODE_QUERY_LOG: queryLog } : undefined,
});
app.synth();
