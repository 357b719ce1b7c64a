/**
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
