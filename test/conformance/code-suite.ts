import { describe, expect, it } from 'vitest';
import { auth, type Target } from './target.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Post = (path: string, body: unknown, headers?: Record<string, string>) => Promise<Response>;
type ExpectError = (res: Response, status: number, errorType: string) => Promise<Json>;

/** The code-endpoint part of the HTTP conformance suite (suite.ts), on the same target. */
export function codeConformance(target: () => Target, post: Post, expectError: ExpectError): void {
  const t = { fetch: (path: string, init?: RequestInit) => target().fetch(path, init) };
  describe('code endpoints (FUNCTION, CUSTOM_PREDICTION) in the sandbox', () => {
    const penguin = { island: 'Biscoe', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' };
    const run = async (endpoint: string, args: unknown) => post(`${endpoint}/run`, args);

    it('runs a function with POST or GET arguments bound by name', async () => {
      for (const res of [await run('sum', { a: 30, b: 12 }), await t.fetch('/public/api/v1/demo/sum/run?a=30&b=12', { headers: auth })]) {
        expect(res.status).toBe(200);
        const body = (await res.json()) as Json;
        expect(body).toEqual({
          response: 42,
          timing: { preProcessing: expect.any(Number), wait: expect.any(Number), execution: expect.any(Number), functionInternal: expect.any(Number) },
          apiContext: { serviceId: 'demo', endpointId: 'sum', serviceGeneration: res.headers.get('x-apinode-generation') },
        });
      }
    });

    it('answers 400 naming a wrong or missing argument', async () => {
      expect((await expectError(await run('sum', { a: 1, bb: 2 }), 400, 'UNKNOWN_ARGUMENT')).message).toContain('"bb"');
      expect((await expectError(await t.fetch('/public/api/v1/demo/sum/run?a=1', { headers: auth }), 400, 'MISSING_ARGUMENT')).message).toContain('"b"');
      await expectError(await run('sum', '{"a": 1,'), 400, 'INVALID_JSON');
    });

    it('hands every argument to the function as sent, even a string like an internal marker', async () => {
      const res = await run('sum', { a: '\u0000apinode:undefined', b: 1 });
      expect(((await res.json()) as Json).response).toBe('\u0000apinode:undefined1');
    });

    it('lets a dispatcher score through the self-client, with the caller\'s credentials', async () => {
      const res = await run('penguin-dispatcher', { penguin });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body.response).toMatchObject({ species: 'Gentoo', seenOnIsland: true, habitat: ['Biscoe'], scoredBy: { endpoint: 'penguin-species', generation: body.apiContext.serviceGeneration } });
      expect(body.response.scoredBy.timing.prediction).toEqual(expect.any(Number));
      await expectError(await post('penguin-dispatcher/run', { penguin }, {}), 401, 'MISSING_CREDENTIALS');
    });

    it('answers a custom prediction like a standard prediction', async () => {
      const one = await post('penguin-species-by-island/predict', { features: { ...penguin, island: 'Torgersen' } });
      expect(one.status).toBe(200);
      expect(((await one.json()) as Json).result).toEqual({ ignored: false, prediction: 'Adelie', probas: { Adelie: 1, Chinstrap: 0, Gentoo: 0 } });
      const multi = await post('penguin-species-by-island/predict-multi', { items: [{ features: penguin }, { features: { ...penguin, island: 'Dream' } }] });
      const { results, timing } = (await multi.json()) as Json;
      expect(results[0]).toMatchObject({ ignored: false, prediction: 'Gentoo' });
      expect(results[1].probas.Gentoo).toBe(0);
      expect(Object.keys(timing).sort()).toEqual(['enrich', 'postProcessing', 'preProcessing', 'prediction', 'preparation', 'wait']);
      await expectError(await post('sum/predict', { features: {} }), 400, 'WRONG_ENDPOINT_TYPE');
    });

    it('stops an infinite loop at the CPU limit and a memory hog at the memory limit', async () => {
      const t0 = Date.now();
      const loop = await expectError(await run('sandbox-limits', { what: 'loop' }), 500, 'CODE_TIMEOUT');
      expect(loop.message).toContain('1000 ms');
      expect(Date.now() - t0).toBeLessThan(5000); // a 1000 ms limit; generous for slow CI machines
      expect((await expectError(await run('sandbox-limits', { what: 'memory' }), 500, 'CODE_MEMORY_LIMIT')).message).toContain('8 MiB');
      expect(((await (await run('sum', { a: 1, b: 2 })).json()) as Json).response).toBe(3); // the sandbox lives on
    });

    it("reports the user's exception, and nothing of the node", async () => {
      const body = await expectError(await run('sandbox-limits', { what: 'throw' }), 500, 'CODE_ERROR');
      expect(body.message).toBe('RangeError: probe("throw") always fails');
      expect(JSON.stringify(body)).not.toMatch(/node_modules|src\/|quickjs|wasm/i);
    });

    it('isolates user code: no env, keys, network or WebAssembly; only ECMAScript, console and apinode', async () => {
      const { response } = (await (await run('sandbox-limits', { what: 'globals' })).json()) as Json;
      expect(response).toMatchObject({ process: 'undefined', fetch: 'undefined', env: 'undefined', require: 'undefined', WebAssembly: 'undefined' });
      // ECMAScript's own globals (QuickJS), the two helpers the node calls, console and apinode: nothing of the host.
      const ecmascript = ['AggregateError', 'Array', 'ArrayBuffer', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Boolean', 'DataView', 'Date', 'Error', 'EvalError', 'FinalizationRegistry', 'Float16Array', 'Float32Array', 'Float64Array', 'Function', 'Infinity', 'Int16Array', 'Int32Array', 'Int8Array', 'InternalError', 'Iterator', 'JSON', 'Map', 'Math', 'NaN', 'Number', 'Object', 'Promise', 'Proxy', 'RangeError', 'ReferenceError', 'Reflect', 'RegExp', 'Set', 'SharedArrayBuffer', 'String', 'Symbol', 'SyntaxError', 'TypeError', 'URIError', 'Uint16Array', 'Uint32Array', 'Uint8Array', 'Uint8ClampedArray', 'WeakMap', 'WeakRef', 'WeakSet', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'eval', 'globalThis', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'undefined', 'unescape'];
      expect(response.globals).toEqual([...ecmascript, '__exports', '__invoke', 'apinode', 'console'].sort());
    });
  });
}
