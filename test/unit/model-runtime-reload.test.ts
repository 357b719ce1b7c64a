import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { allocatingModel } from '../support/hostile-models.js';
import { ModelRuntimeError, runFailureKind } from '../../src/inference/model-runtime.js';
import { ortModelRuntime, type OrtModule } from '../../src/inference/ort-runtime.js';
import { generatedRecords } from '../../src/kinds/generated-examples.js';

ort.env.wasm.numThreads = 1;

/** y = x + 0 * sum(ConstantOfShape([int(x)])) on one record: a negative x fails the run, any other answers x. */
const model = allocatingModel('x');

/** onnxruntime-web, counting the sessions created and released. */
function counting() {
  const counts = { created: 0, released: 0 };
  const module: OrtModule = {
    Tensor: ort.Tensor,
    InferenceSession: {
      create: (async (bytes: Uint8Array, options?: ort.InferenceSession.SessionOptions) => {
        const s = await ort.InferenceSession.create(bytes, options);
        counts.created++;
        const release = s.release.bind(s);
        s.release = async () => (counts.released++, release());
        return s;
      }) as OrtModule['InferenceSession']['create'],
    },
  };
  return { runtime: ortModelRuntime(module), counts };
}

const x = (v: number) => ({ x: { type: 'float32' as const, data: new Float32Array([v]), dims: [1, 1] } });

describe('an onnxruntime session that fails a run', () => {
  it('throws a ModelRuntimeError, and is replaced by a new session before the next run', async () => {
    const { runtime, counts } = counting();
    const session = await runtime.load(model);
    expect(Array.from((await session.run(x(3), ['y'])).y!.data as Float32Array)).toEqual([3]);
    expect(counts).toEqual({ created: 1, released: 0 });

    const failed = await session.run(x(-2), ['y']).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ModelRuntimeError);
    expect((failed as ModelRuntimeError).kind).toBe('graph');
    await new Promise((r) => setTimeout(r, 0));
    expect(counts).toEqual({ created: 2, released: 1 });

    expect(Array.from((await session.run(x(5), ['y'])).y!.data as Float32Array)).toEqual([5]);
    expect(counts.created).toBe(2);
    session.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(counts).toEqual({ created: 2, released: 2 });
  });

  it('fails only itself when it fails among concurrent runs (bare onnxruntime-web breaks the run after it)', async () => {
    const { runtime } = counting();
    const [a, b] = await Promise.all([runtime.load(model), runtime.load(model)]);
    const runs = [[a, 1], [a, -2], [a, 3], [b, -4], [b, 5], [a, 6]] as const;
    const settled = await Promise.allSettled(runs.map(([s, v]) => s!.run(x(v), ['y'])));
    settled.forEach((r, i) => {
      const v = runs[i]![1];
      if (v < 0) expect(r.status).toBe('rejected');
      else expect(r.status === 'fulfilled' && Array.from(r.value.y!.data as Float32Array)).toEqual([v]);
    });
    // Each failure carries onnxruntime's own reason (lost when runs of two sessions overlap).
    for (const r of settled) if (r.status === 'rejected') expect((r.reason as Error).message).toMatch(/shape|Size/i);
  });

  it('tells an allocation failure (503) from a graph failure (500)', () => {
    expect(runFailureKind(new Error('failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /x/safeint.h:17 SafeIntExceptionHandler'))).toBe('resources');
    expect(runFailureKind(new RangeError('Array buffer allocation failed'))).toBe('resources');
    expect(runFailureKind(new Error('RuntimeError: Aborted(). Build with -sASSERTIONS'))).toBe('resources');
    expect(runFailureKind(new Error('failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: op_kernel.cc:83 OutputMLValue shape'))).toBe('graph');
  });
});

describe('generated examples', () => {
  it('are a typical record, one a unit away and one with every input missing, from the manifest features', () => {
    const records = generatedRecords({
      features: [
        { name: 'a', type: 'NUMERIC', role: 'INPUT' },
        { name: 'c', type: 'CATEGORY', role: 'INPUT' },
        { name: 'r', type: 'NUMERIC', role: 'REJECT' },
      ],
      model: {
        file: 'models/m.onnx',
        inputs: { mode: 'MATRIX', input: 'X', columns: [{ feature: 'a', shift: 10, scale: 0.5 }, { feature: 'c', oneHot: ['x', 'y', 'z'], unknown: 'ZEROS' }] },
        outputs: { prediction: 'y' },
      },
    });
    expect(records).toEqual([
      { a: 10, c: 'x' },
      { a: 12, c: 'z' },
      { a: null, c: null },
    ]);
  });
});
