/**
 * Evaluated in every sandbox before the user's module: builds `console` and `apinode` on the
 * host doors (`__log`, `__call`, `__context`), then removes the doors from the global object.
 * `__invoke` and `__exports` stay, non-enumerable: they only ever call the user's own code.
 */
export const PRELUDE = String.raw`(() => {
  const log = globalThis.__log, call = globalThis.__call, context = globalThis.__context;
  // The intrinsics the answers are made with, as they are before user code can replace them.
  const { stringify, parse } = JSON, keys = Object.keys, apply = Reflect.apply, fnText = Function.prototype.toString;
  const groups = parse(globalThis.__setup);
  for (const k of ['__log', '__call', '__context', '__setup']) delete globalThis[k];
  const text = (x) => {
    if (typeof x === 'string') return x;
    if (x instanceof Error) return String(x);
    try { const s = stringify(x); return s === undefined ? String(x) : s; } catch { return String(x); }
  };
  const console = {};
  // Cut here, in the sandbox: the host never copies more than a log line keeps.
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) console[level] = (...a) => log(level, a.map(text).join(' ').slice(0, 2001));
  const apinode = {};
  for (const [group, methods] of Object.entries(groups)) {
    const o = {};
    for (const m of methods) o[m] = (...args) => call(group, m, stringify(args)).then(parse);
    apinode[group] = Object.freeze(o);
  }
  Object.defineProperty(apinode, 'context', { get: () => parse(context()), enumerable: true });
  apinode.getSelfClient = () => {
    if (!apinode.client) throw new Error('no self-client in this kind of endpoint');
    return apinode.client;
  };
  const hidden = (name, value) => Object.defineProperty(globalThis, name, { value });
  hidden('console', Object.freeze(console));
  hidden('apinode', Object.freeze(apinode));
  hidden('__invoke', async (fn, lists, ctxGroup) => {
    const out = [];
    for (const { args, holes } of parse(lists)) {
      for (const i of holes) args[i] = undefined;
      if (ctxGroup) args.push(apinode[ctxGroup]);
      const r = await fn(...args);
      out.push(r === undefined ? null : r);
    }
    return stringify(out);
  });
  hidden('__exports', (ns) => stringify(keys(ns).map((k) => {
    const f = typeof ns[k] === 'function';
    return [k, f ? 'function' : 'value', f ? apply(fnText, ns[k], []) : ''];
  })));
})();`;
