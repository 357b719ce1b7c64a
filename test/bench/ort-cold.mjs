// One fresh process: import an onnxruntime package and create a session for a demo model (the
// fixed start-up cost a Node or Lambda cold start pays for its model runtime). Prints one JSON
// line. Usage: node ort-cold.mjs onnxruntime-web|onnxruntime-node MODEL_PATH
import { readFileSync } from 'node:fs';
const [pkg, model] = process.argv.slice(2);
const t0 = performance.now();
const ort = await import(pkg);
if (pkg === 'onnxruntime-web') ort.env.wasm.numThreads = 1;
const t1 = performance.now();
const session = await ort.InferenceSession.create(readFileSync(model));
const t2 = performance.now();
const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
console.log(JSON.stringify({ importMs: t1 - t0, sessionMs: t2 - t1, sinceStartMs: t2, cpuMs: (Number(stat[11]) + Number(stat[12])) * 10 }));
await session.release();
