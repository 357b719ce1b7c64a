import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EndpointSpec } from '../../packages/protocol/src/index.js';

/** The demo's FUNCTION: `run?a=30&b=12` answers 42. */
const SUM = `/** The demo's FUNCTION endpoint: GET run?a=30&b=12 or POST {"a": 30, "b": 12} answers 42. */
export function sum(a, b) {
  return a + b;
}
`;

/** A dispatcher: scores with penguin-species through the self-client and enriches the answer. */
const DISPATCHER = `/**
 * A dispatcher (FUNCTION): scores a penguin with the penguin-species endpoint of the same
 * generation through the self-client, and answers a readable verdict around the prediction.
 */
const HABITATS = { Adelie: ['Biscoe', 'Dream', 'Torgersen'], Chinstrap: ['Dream'], Gentoo: ['Biscoe'] };

export async function describePenguin(penguin) {
  const client = apinode.getSelfClient();
  const { generation } = apinode.context;
  const scored = await client.predictRecord('penguin-species', penguin, { forcedGeneration: generation });
  const { prediction, probas } = scored.result;
  const confidence = probas[prediction];
  const seenOnIsland = penguin.island == null || HABITATS[prediction].includes(penguin.island);
  console.log(\`penguin-dispatcher: \${prediction} (\${Math.round(confidence * 100)}%)\`);
  return {
    species: prediction,
    confidence,
    verdict: \`\${confidence >= 0.9 ? 'Almost certainly' : confidence >= 0.6 ? 'Probably' : 'Perhaps'} a \${prediction} penguin\`,
    seenOnIsland,
    habitat: HABITATS[prediction],
    probas,
    scoredBy: { endpoint: 'penguin-species', generation: scored.apiContext.serviceGeneration, timing: scored.timing },
  };
}
`;

/** A custom prediction: the ONNX model's probabilities, restricted to the species living on the island. */
const BY_ISLAND = `/**
 * CUSTOM_PREDICTION: runs the generation's penguin-species model, then keeps only the species
 * that live on the penguin's island (Palmer Archipelago field data) and renormalizes.
 */
const LIVES_ON = { Biscoe: ['Adelie', 'Gentoo'], Dream: ['Adelie', 'Chinstrap'], Torgersen: ['Adelie'] };

export async function predict(features, ctx) {
  const scored = await ctx.predict('penguin-species', features);
  if (scored.ignored) return { ignored: true, ignoreReason: scored.ignoreReason };
  const possible = LIVES_ON[features.island] ?? Object.keys(scored.probas);
  const total = possible.reduce((s, c) => s + scored.probas[c], 0);
  const probas = {};
  for (const c of Object.keys(scored.probas)) probas[c] = total > 0 ? (possible.includes(c) ? scored.probas[c] / total : 0) : scored.probas[c];
  const prediction = Object.keys(probas).reduce((a, b) => (probas[b] > probas[a] ? b : a));
  return { prediction, probas };
}
`;

/** Shows the sandbox's walls: what user code sees, and what its limits do (the conformance suite calls it on every runtime). */
const LIMITS = `/**
 * The sandbox's walls, on purpose: probe("globals") lists what user code can see, "loop" never
 * ends (stopped at the CPU limit), "memory" allocates forever (stopped at the memory limit),
 * "throw" fails with a message of its own.
 */
export function probe(what) {
  if (what === 'globals') {
    return { globals: Object.getOwnPropertyNames(globalThis).sort(), process: typeof process, fetch: typeof fetch, env: typeof env, require: typeof require, WebAssembly: typeof WebAssembly };
  }
  if (what === 'loop') for (;;) {}
  if (what === 'memory') {
    const hoard = [];
    let chunk = ['penguin', 'krill', 'ice', 'fish'];
    for (;;) {
      hoard.push(chunk);
      chunk = chunk.concat(chunk);
    }
  }
  if (what === 'throw') throw new RangeError('probe("throw") always fails');
  return 'try globals, loop, memory or throw';
}
`;

const FILES: Record<string, string> = {
  'code/sum.js': SUM,
  'code/penguin-dispatcher.js': DISPATCHER,
  'code/penguin-species-by-island.js': BY_ISLAND,
  'code/sandbox-limits.js': LIMITS,
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const code = (file: string) => ({ file, sha256: sha256(FILES[file]!), limits: { cpuTimeMs: 1000, memoryMiB: 32 }, keepState: false });

/** Writes the demo's code modules into a generation folder and answers their endpoint specs. */
export function codeEndpointSpecs(genDir: string, classes: string[]): Record<string, unknown>[] {
  mkdirSync(join(genDir, 'code'), { recursive: true });
  for (const [file, text] of Object.entries(FILES)) writeFileSync(join(genDir, file), text);
  const specs = [
    { id: 'sum', type: 'FUNCTION', description: 'Adds two numbers (a FUNCTION endpoint)', code: code('code/sum.js'), function: 'sum', parameters: ['a', 'b'] },
    {
      id: 'penguin-dispatcher',
      type: 'FUNCTION',
      description: 'Scores a penguin with penguin-species through the self-client and explains the answer',
      code: code('code/penguin-dispatcher.js'),
      function: 'describePenguin',
    },
    {
      id: 'penguin-species-by-island',
      type: 'CUSTOM_PREDICTION',
      predictionType: 'MULTICLASS',
      description: "penguin-species' probabilities restricted to the species living on the penguin's island (custom prediction)",
      code: code('code/penguin-species-by-island.js'),
      function: 'predict',
      classes,
    },
    {
      id: 'sandbox-limits',
      type: 'FUNCTION',
      description: 'Shows the sandbox: probe("globals"), or hit its CPU ("loop") and memory ("memory") limits',
      code: { ...code('code/sandbox-limits.js'), limits: { cpuTimeMs: 1000, memoryMiB: 8 } },
      function: 'probe',
    },
  ];
  for (const s of specs) EndpointSpec.parse(s);
  return specs;
}
