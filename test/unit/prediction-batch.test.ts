import { describe, expect, it } from 'vitest';
import type { FeatureRecord } from '../../src/inference/encoding.js';
import type { Scored } from '../../src/inference/prediction-model.js';
import { ScoreCoalescer, type NextTurn } from '../../src/kinds/prediction-batch.js';

/** A scorer that answers each record's "x" doubled, and remembers every batch it was given. */
function doubler() {
  const batches: number[][] = [];
  const score = async (records: readonly FeatureRecord[]): Promise<Scored> => {
    batches.push(records.map((r) => r.x as number));
    return { results: records.map((r) => ({ ignored: false, prediction: 2 * (r.x as number) })), timing: { preparation: 1, prediction: 2, postProcessing: 3 } };
  };
  return { batches, score };
}

/** A turn the test runs by hand, so what queues in one turn is explicit. */
function manualTurns() {
  const pending: (() => void)[] = [];
  const defer: NextTurn = (run) => void pending.push(run);
  const turn = async () => {
    for (const run of pending.splice(0)) run();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { defer, turn, pending };
}

describe('ScoreCoalescer (micro-batching of single-record predicts)', () => {
  it('scores everything submitted in one turn as one batch, and answers each caller its own records', async () => {
    const { batches, score } = doubler();
    const t = manualTurns();
    const c = new ScoreCoalescer(score, t.defer);
    const answers = [1, 2, 3, 4, 5].map((x) => c.submit([{ x }]));
    expect(t.pending).toHaveLength(1); // one run scheduled, whatever the number of callers
    await t.turn();
    const got = await Promise.all(answers);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(got.map((s) => s.results)).toEqual([1, 2, 3, 4, 5].map((x) => [{ ignored: false, prediction: 2 * x }]));
    expect(got[0]!.timing).toEqual({ preparation: 1, prediction: 2, postProcessing: 3 });
  });

  it('a lone submit is scored alone on the next turn, and a later one in a new batch', async () => {
    const { batches, score } = doubler();
    const t = manualTurns();
    const c = new ScoreCoalescer(score, t.defer);
    const a = c.submit([{ x: 7 }]);
    await t.turn();
    expect((await a).results).toEqual([{ ignored: false, prediction: 14 }]);
    const b = c.submit([{ x: 8 }]);
    await t.turn();
    expect((await b).results).toEqual([{ ignored: false, prediction: 16 }]);
    expect(batches).toEqual([[7], [8]]);
  });

  it('splits what queued past 256 records into the next turn', async () => {
    const { batches, score } = doubler();
    const t = manualTurns();
    const c = new ScoreCoalescer(score, t.defer);
    const answers = Array.from({ length: 300 }, (_, x) => c.submit([{ x }]));
    await t.turn();
    await t.turn();
    const got = await Promise.all(answers);
    expect(batches.map((b) => b.length)).toEqual([256, 44]);
    got.forEach((s, x) => expect(s.results).toEqual([{ ignored: false, prediction: 2 * x }]));
  });

  it('a record that fails the shared run fails only its own caller: the others are scored alone again', async () => {
    const t = manualTurns();
    const runs: number[][] = [];
    const c = new ScoreCoalescer(async (records) => {
      runs.push(records.map((r) => r.x as number));
      if (records.some((r) => (r.x as number) < 0)) throw new Error('the model cannot score a negative x');
      return { results: records.map((r) => ({ ignored: false, prediction: r.x as number })), timing: { preparation: 0, prediction: 0, postProcessing: 0 } };
    }, t.defer);
    const answers = [1, -1, 2].map((x) => c.submit([{ x }]).then((s) => s.results[0]!.prediction, (e: Error) => e.message));
    await t.turn();
    expect(await Promise.all(answers)).toEqual([1, 'the model cannot score a negative x', 2]);
    expect(runs).toEqual([[1, -1, 2], [1], [-1], [2]]);
  });

  it('a failed run fails every caller of its batch, and the next batch runs', async () => {
    const t = manualTurns();
    let fail = true;
    const c = new ScoreCoalescer(async (records) => {
      if (fail) throw new Error('model run failed');
      return { results: records.map(() => ({ ignored: false, prediction: 1 })), timing: { preparation: 0, prediction: 0, postProcessing: 0 } };
    }, t.defer);
    const failed = [c.submit([{ x: 1 }]), c.submit([{ x: 2 }])].map((p) => p.then(() => 'ok', (e: Error) => e.message));
    await t.turn();
    expect(await Promise.all(failed)).toEqual(['model run failed', 'model run failed']);
    fail = false;
    const ok = c.submit([{ x: 3 }]);
    await t.turn();
    expect((await ok).results).toHaveLength(1);
  });
});
