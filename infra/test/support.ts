import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';

/** A stand-in for dist/lambda, so infra tests do not need `npm run build`; removed after the test file. */
export function fakeBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'apinode-bundle-'));
  writeFileSync(join(dir, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200, body: "" });\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The Action of a policy statement as a list, however CloudFormation spells it. */
export const actionsOf = (statement: { Action: string | string[] }): string[] => [statement.Action].flat();

/** Every statement of every IAM policy in the template. */
export function statements(t: Template): { Action: string | string[]; Resource: unknown }[] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The Lambda functions of the template. */
export const functions = (t: Template) =>
  Object.values(t.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
