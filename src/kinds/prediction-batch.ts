import type { PredictionResult } from '@apinode/protocol';
import type { FeatureRecord } from '../inference/encoding.js';
import { ModelRuntimeError } from '../inference/model-runtime.js';
import type { Scored } from '../inference/prediction-model.js';

/** Runs a function on the next turn of the event loop, after this turn's I/O callbacks. */
export type NextTurn = (run: () => void) => void;

const immediate = (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate;
const setImmediateTurn: NextTurn | null = immediate ? (run) => void immediate(run) : null;
let enabled = true;

/** APINODE_PREDICT_BATCHING, set by createApp: applies to endpoints loaded from then on, in this process. */
export function setPredictBatching(on: boolean): void {
  enabled = on;
}

/** setImmediate where the runtime has it (Node, Lambda) and batching is on; null otherwise (workerd): predicts are not coalesced. */
export const nextTurn = (): NextTurn | null => (enabled ? setImmediateTurn : null);

/** Most records one coalesced model run takes; what queues past it waits for the next run. */
const MAX_BATCH = 256;

interface Waiting {
  readonly records: readonly FeatureRecord[];
  resolve(scored: Scored): void;
  reject(e: unknown): void;
}

/**
 * Micro-batching: single-record scores asked of one model while the event loop is busy are
 * scored together in ONE model run, which costs about what one record costs (the fixed cost of
 * a call into ONNX Runtime dominates small batches). The batch is run on the next turn of the
 * event loop (setImmediate, after the I/O callbacks of this turn), so a lone request waits for
 * nothing but that turn; under load, every request whose body arrived in the same turn shares
 * the run. Each caller gets its own records' results and the batch's timing.
 */
export class ScoreCoalescer {
  private queue: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly score: (records: readonly FeatureRecord[]) => Promise<Scored>,
    private readonly defer: NextTurn,
  ) {}

  submit(records: readonly FeatureRecord[]): Promise<Scored> {
    return new Promise<Scored>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.defer(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const queue = this.queue;
    let size = 0;
    let take = 0;
    while (take < queue.length && (take === 0 || size + queue[take]!.records.length <= MAX_BATCH)) size += queue[take++]!.records.length;
    const batch = queue.slice(0, take);
    this.queue = queue.slice(take);
    if (this.queue.length) this.defer(() => void this.flush());
    else this.scheduled = false;
    if (batch.length === 1) return this.score(batch[0]!.records).then(batch[0]!.resolve, batch[0]!.reject);
    try {
      const scored = await this.score(batch.flatMap((w) => w.records));
      let at = 0;
      for (const w of batch) {
        const results: PredictionResult[] = scored.results.slice(at, at + w.records.length);
        at += w.records.length;
        w.resolve({ results, timing: { ...scored.timing } });
      }
    } catch (e) {
      // A run past the node's time limit: scoring each alone again could take that long each time.
      if (e instanceof ModelRuntimeError && e.kind === 'time') return batch.forEach((w) => w.reject(e));
      // One request's records can fail the shared run (a model that fails on some input,
      // docs/isolation-models.md): each is scored alone again, so only its own request fails.
      for (const w of batch) await this.score(w.records).then(w.resolve, w.reject);
    }
  }
}
