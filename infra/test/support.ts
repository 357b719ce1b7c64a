import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
