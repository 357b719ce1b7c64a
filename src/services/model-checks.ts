import type { EndpointSpec } from '@apinode/protocol';
import { DEFAULT_IMPORT_MODEL_BUDGET, type IsolatedModelRuntime, type ModelRuntime } from '../inference/model-runtime.js';
import type { Checked } from '../kinds/kind.js';

/** What an import measured of one model endpoint's check: stored in manifest.json as `importChecks`. */
export interface ModelCheck {
  /** Milliseconds to load the model and score its examples. */
  readonly ms: number;
  /** Growth of the model runtime's WebAssembly heap during the check, in MiB; null where it cannot be seen. */
  readonly memoryMiB: number | null;
  /** Manifest examples scored, or records generated from the features when it has none. */
  readonly examples: number;
  readonly generated: boolean;
}

const MiB = 2 ** 20;
const GENERATED = 3;

/** Endpoints whose kind loads an ONNX model. */
const modelOf = (spec: EndpointSpec): boolean => 'model' in spec && typeof (spec as { model?: { file?: unknown } }).model?.file === 'string';

/**
 * Runs each endpoint's import check, the model endpoints' in a throwaway runtime where the
 * platform has one (Node: a worker thread, ended after the import), and holds each model
 * endpoint to the import budget: a check that takes longer, or grows the runtime's heap more,
 * than the operator allows is a problem (docs/isolation-models.md#import-budgets).
 */
export class ModelChecks {
  readonly checks: Record<string, ModelCheck> = {};
  private isolated: IsolatedModelRuntime | null = null;
  private readonly budget;

  constructor(private readonly runtime: ModelRuntime) {
    this.budget = runtime.importBudget ?? DEFAULT_IMPORT_MODEL_BUDGET;
  }

  /** The runtime model endpoints are checked in: a fresh isolated one after one was ended. */
  async models(spec: EndpointSpec): Promise<ModelRuntime> {
    if (!modelOf(spec) || !this.runtime.isolated) return this.runtime;
    if (!this.isolated || this.isolated.expired()) {
      await this.isolated?.close();
      this.isolated = await this.runtime.isolated(this.budget);
    }
    return this.isolated;
  }

  /** Runs `check` on the runtime `models(spec)` gave, measured; returns its problems with the budget's. */
  async measure(spec: EndpointSpec, models: ModelRuntime, check: () => Promise<Checked>): Promise<Checked> {
    if (!modelOf(spec)) return check();
    const heap0 = models.heapBytes?.();
    const from = performance.now();
    const checked = await check();
    const ms = Math.round(performance.now() - from);
    const heap1 = models.heapBytes?.();
    // A heap of 0 after a model ran: the watch was set up after onnxruntime started, it sees nothing.
    const grown = heap0 === undefined || heap1 === undefined || heap1 === 0 ? null : heap1 - heap0;
    const examples = 'examples' in spec && Array.isArray(spec.examples) ? spec.examples.length : 0;
    // Prediction and clustering endpoints without examples score records generated from their features (prediction.ts).
    const generated = examples === 0 && (spec.type === 'STD_PREDICTION' || spec.type === 'STD_CLUSTERING');
    this.checks[spec.id] = { ms, memoryMiB: grown === null ? null : Math.round(grown / MiB), examples: generated ? GENERATED : examples, generated };
    const at = `endpoint "${spec.id}"`;
    const expired = this.isolated === models ? this.isolated.expired() : null;
    if (expired) return { problems: [`${at}: loading its model and scoring its examples was stopped: ${expired}`], examplesChecked: 0 };
    const problems = [...checked.problems];
    if (ms > this.budget.maxMs) problems.push(`${at}: loading its model and scoring its examples took ${ms} ms, more than the import's budget of ${this.budget.maxMs} ms (APINODE_IMPORT_MODEL_MAX_MS)`);
    if (grown !== null && grown > this.budget.maxMemoryBytes) {
      problems.push(`${at}: scoring its examples needed ${Math.round(grown / MiB)} MiB of model-runtime memory, more than the import's budget of ${Math.round(this.budget.maxMemoryBytes / MiB)} MiB (APINODE_IMPORT_MODEL_MAX_MEMORY_MIB)`);
    }
    return { problems, examplesChecked: checked.examplesChecked };
  }

  /** Ends the isolated runtime, returning its memory. */
  async close(): Promise<void> {
    await this.isolated?.close();
    this.isolated = null;
  }
}
