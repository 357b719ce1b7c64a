import { describe, expect, it } from 'vitest';
import { validateGeneration } from '../../src/services/generation-import.js';
import { DEMO_GENERATIONS, readFolder } from '../support/demo-archive.js';
import { ortRuntime } from '../support/node-app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Imports demo v1 with one more endpoint, as a DSS API package would declare it; the refusal. */
async function importWith(endpoint?: Json): Promise<Json> {
  const files = await readFolder(`${DEMO_GENERATIONS}/v1`);
  const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Json;
  if (endpoint) m.endpoints.push(endpoint);
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  return validateGeneration(files, ortRuntime).then(
    () => ({ status: 200 }),
    (e: Json) => ({ status: e.status, errorType: e.errorType, detailedMessage: e.detailedMessage }),
  );
}

describe('endpoint types of a DSS package that this node cannot run', () => {
  it.each([
    ['PY_FUNCTION', { id: 'py', type: 'PY_FUNCTION', userFunctionName: 'f' }, /PY_FUNCTION: Python functions cannot run .* FUNCTION endpoint/],
    ['R_FUNCTION', { id: 'r', type: 'R_FUNCTION' }, /R_FUNCTION: R functions cannot run .* FUNCTION endpoint/],
    ['CUSTOM_R_PREDICTION', { id: 'rp', type: 'CUSTOM_R_PREDICTION' }, /CUSTOM_R_PREDICTION: R custom predictions .* STD_PREDICTION .* CUSTOM_PREDICTION/],
    ['a Python CUSTOM_PREDICTION', { id: 'pp', type: 'CUSTOM_PREDICTION', predictionType: 'REGRESSION', language: 'PYTHON' }, /Python custom predictions cannot run .* STD_PREDICTION/],
    ['a CUSTOM_PREDICTION with a .py module', { id: 'pp', type: 'CUSTOM_PREDICTION', predictionType: 'REGRESSION', code: { file: 'code/predict.py', sha256: '0'.repeat(64) } }, /Python custom predictions/],
  ])('refuses %s at import, saying what to use instead', async (_name, endpoint, advice) => {
    const refusal = await importWith(endpoint);
    expect(refusal.status).toBe(400);
    expect(refusal.detailedMessage).toMatch(advice);
    // The advice names the endpoint's place in the manifest, not zod's "invalid discriminator".
    expect(refusal.detailedMessage).not.toMatch(/discriminator/i);
  });

  it('still accepts the demo generation, whose CUSTOM_PREDICTION is JavaScript', async () => {
    expect(await importWith()).toEqual({ status: 200 });
  });
});
