/**
 * Self-check: loads every exported ONNX model with onnxruntime-web, feeds real records encoded
 * the way the manifest says, and compares with the reference scorer. Throws on any mismatch.
 */
import * as ort from 'onnxruntime-web';
import { encodeFeatures, referenceScore, type Reference } from '../reference-scorer.js';

ort.env.wasm.numThreads = 1;

interface EndpointLike {
  id: string;
  predictionType: string;
  features: { name: string; type: string }[];
  classes?: string[];
  model: { inputs: { mode: string; input?: string; columns: Record<string, unknown>[] } };
}

function feeds(e: EndpointLike, ref: Reference, records: Record<string, unknown>[]): Record<string, ort.Tensor> {
  const n = records.length;
  if (e.model.inputs.mode === 'MATRIX') {
    // the MATRIX columns are the reference columns (same encoding semantics)
    const rows = records.map((r) => encodeFeatures(ref.columns, r));
    const w = rows[0]!.length;
    return { [e.model.inputs.input!]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [n, w]) };
  }
  const out: Record<string, ort.Tensor> = {};
  for (const c of e.model.inputs.columns) {
    const name = String(c['feature']);
    const type = e.features.find((f) => f.name === name)!.type;
    const values = records.map((r) => r[name]);
    out[String(c['input'] ?? name)] =
      type === 'NUMERIC'
        ? new ort.Tensor('float32', Float32Array.from(values, (v) => (typeof v === 'number' ? v : NaN)), [n, 1])
        : new ort.Tensor('string', values.map((v) => (typeof v === 'string' ? v : '')), [n, 1]);
  }
  return out;
}

/** Returns the largest deviation seen; throws if it exceeds the tolerance. */
export async function checkEndpoint(e: EndpointLike, ref: Reference, onnx: Uint8Array, records: Record<string, unknown>[]): Promise<number> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const out = await session.run(feeds(e, ref, records));
    let worst = 0;
    const fail = (i: number, what: string): never => {
      throw new Error(`self-check ${ref.generation}/${e.id} record ${i} ${JSON.stringify(records[i])}: ${what}`);
    };
    records.forEach((r, i) => {
      const expected = referenceScore(ref, r);
      if (e.predictionType === 'REGRESSION') {
        const got = (out['prediction']!.data as Float32Array)[i]!;
        const dev = Math.abs(got - Number(expected.prediction)) / Math.max(1, Math.abs(Number(expected.prediction)));
        worst = Math.max(worst, dev);
        if (!(dev <= 1e-3)) fail(i, `ORT ${got} vs reference ${expected.prediction}`);
      } else if (e.predictionType === 'CLUSTERING') {
        const got = Number((out['label']!.data as BigInt64Array)[i]);
        if (got !== expected.prediction) fail(i, `ORT cluster ${got} vs reference ${expected.prediction}`);
      } else {
        const classes = e.classes!;
        const p = out['probabilities']!;
        if (p.dims[1] !== classes.length) fail(i, `probabilities have ${p.dims[1]} columns, expected ${classes.length}`);
        const data = p.data as Float32Array;
        classes.forEach((c, k) => {
          const dev = Math.abs(data[i * classes.length + k]! - expected.probas![c]!);
          worst = Math.max(worst, dev);
          if (!(dev <= 1e-4)) fail(i, `p(${c}) ORT ${data[i * classes.length + k]} vs reference ${expected.probas![c]}`);
        });
      }
    });
    return worst;
  } finally {
    await session.release();
  }
}
