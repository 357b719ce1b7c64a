import type { Mapping, RolloutEvent, RolloutFigures, RolloutState } from '@apinode/protocol';

type Entry = { generation: string; proba: number };

/** A mapping as generation -> share, duplicates merged. */
export function sharesOf(m: Mapping): Map<string, number> {
  const out = new Map<string, number>();
  if (m.mode === 'SINGLE_GENERATION') return out.set(m.generation, 1);
  for (const e of m.entries) out.set(e.generation, (out.get(e.generation) ?? 0) + e.proba);
  return out;
}

/** The mapping without `generation`, scaled back to a sum of 1: what the new generation's steps take their share from. Empty when nothing else is mapped. */
export function baseEntries(previous: Mapping, generation: string): Entry[] {
  const rest = [...sharesOf(previous)].filter(([g, p]) => g !== generation && p > 0);
  const total = rest.reduce((s, [, p]) => s + p, 0);
  return total > 0 ? rest.map(([g, p]) => ({ generation: g, proba: p / total })) : [];
}

/** The mapping with `percent` of the traffic on `generation` and the rest split as the base mapping splits it. */
export function mappingAt(previous: Mapping, generation: string, percent: number): Mapping {
  if (percent >= 100) return { mode: 'SINGLE_GENERATION', generation };
  const base = baseEntries(previous, generation);
  const share = percent / 100;
  const entries = base.map((e) => ({ generation: e.generation, proba: e.proba * (1 - share) }));
  if (share > 0) entries.push({ generation, proba: share });
  // What is left after rounding goes to the first entry: probas must sum to 1 (within 1e-6).
  entries[0]!.proba += 1 - entries.reduce((s, e) => s + e.proba, 0);
  return base.length === 1 && share === 0 ? { mode: 'SINGLE_GENERATION', generation: base[0]!.generation } : { mode: 'SPLIT', entries };
}

/** The mapping a rollout's state asks for: its step's split while it runs, all on the new generation once completed, the previous one after a rollback or an abort. */
export function desiredMapping(s: RolloutState): Mapping {
  switch (s.phase) {
    case 'running':
      return mappingAt(s.previous, s.generation, s.steps[s.step]!);
    case 'completed':
      return { mode: 'SINGLE_GENERATION', generation: s.generation };
    case 'aborted':
      return s.previous;
    case 'rolled-back':
      // The failed generation gets nothing, even if the mapping before the rollout gave it a share.
      return mappingAt(s.previous, s.generation, 0);
  }
}

/** The new generation's share in percent under the state's mapping. */
export const percentOf = (s: RolloutState): number => Math.round((sharesOf(desiredMapping(s)).get(s.generation) ?? 0) * 10_000) / 100;

export function sameMapping(a: Mapping, b: Mapping): boolean {
  const x = sharesOf(a);
  const y = sharesOf(b);
  const gens = new Set([...x.keys(), ...y.keys()]);
  return [...gens].every((g) => Math.abs((x.get(g) ?? 0) - (y.get(g) ?? 0)) < 1e-9);
}

/** What a check of a running step concludes. */
export type Verdict = { readonly action: 'rollback'; readonly reason: string } | { readonly action: 'advance' | 'complete' } | { readonly action: 'wait'; readonly reason: string };

const pct = (x: number) => `${Math.round(x * 10_000) / 100}%`;

/**
 * The rules (docs/rollouts.md): once the step has `minRequests` requests, a 5xx rate above
 * maxErrorRate or a p99 above maxP99Ms rolls back at once, whether or not the step is over;
 * a step that is over and within the thresholds moves to the next one (the last one completes);
 * a step over with too few requests waits for them.
 */
export function judge(s: RolloutState, f: RolloutFigures, nowMs: number): Verdict {
  if (f.requests >= s.minRequests) {
    if (f.errorRate !== null && f.errorRate > s.maxErrorRate) {
      return { action: 'rollback', reason: `error rate ${pct(f.errorRate)} (${f.serverErrors} 5xx of ${f.requests} requests) is above the maximum ${pct(s.maxErrorRate)}` };
    }
    if (s.maxP99Ms !== undefined && (f.p99Ms === null || f.p99Ms > s.maxP99Ms)) {
      const p99 = f.p99Ms === null ? 'above 5000 ms' : `${Math.round(f.p99Ms * 10) / 10} ms`;
      return { action: 'rollback', reason: `p99 latency ${p99} (over ${f.requests} requests) is above the maximum ${s.maxP99Ms} ms` };
    }
  }
  const stepOver = nowMs - Date.parse(s.stepStartedAt) >= s.everyS * 1000;
  if (!stepOver) return { action: 'wait', reason: 'the step is not over' };
  if (f.requests < s.minRequests) return { action: 'wait', reason: `${f.requests} of the ${s.minRequests} requests needed to judge the step` };
  return { action: s.step === s.steps.length - 1 ? 'complete' : 'advance' };
}

/** The state after an event: one more revision, the event in the history, the mapping still to be written. */
export function next(s: RolloutState, change: Partial<RolloutState>, event: Omit<RolloutEvent, 'at' | 'percent'>, nowMs: number): RolloutState {
  const at = new Date(nowMs).toISOString();
  const n: RolloutState = { ...s, ...change, updatedAt: at, revision: s.revision + 1, mappingApplied: false };
  return { ...n, history: [...s.history, { at, percent: percentOf(n), ...event }].slice(-200) };
}
