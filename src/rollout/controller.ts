import { RolloutState, type RolloutFigures, type RolloutStart, type RolloutStatus } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { layout } from '../storage/layout.js';
import { isPreconditionFailed, type ObjectStore, type StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { encodeJson } from '../storage/update.js';
import { baseEntries, desiredMapping, judge, next, percentOf } from './plan.js';
import type { ServiceMappings } from './service-mapping.js';
import { readFigures } from './window-reader.js';

export interface RolloutControllerOptions {
  readonly store: ObjectStore;
  readonly mappings: ServiceMappings;
  /** The clock every decision reads (a fake one in tests). */
  readonly now: () => number;
  readonly log: Logger;
}

/** What one scheduled pass did for one service. */
export interface AdvanceOutcome {
  readonly serviceId: string;
  readonly phase: RolloutState['phase'] | 'none' | 'failed';
  readonly percent?: number;
  readonly error?: string;
}

/** Tries of a decision racing other controllers, before 409 CONFLICT. */
const ATTEMPTS = 12;

/**
 * Guarded rollouts (docs/rollouts.md), runtime-free. The state is services/{id}/rollout.json,
 * and every decision is one conditional write of it (If-Match the copy it was decided from):
 * of two controllers deciding from the same copy, one writes and the other re-reads and finds
 * the step already taken, so a step is never taken twice nor skipped. The mapping a state asks
 * for is written to service.json after the state, then rollout.json is read again: if a later
 * decision landed meanwhile, its mapping is written instead, so service.json always ends up with
 * the latest decision's mapping, whatever order racing controllers finish in.
 */
export class RolloutController {
  constructor(private readonly o: RolloutControllerOptions) {}

  async start(serviceId: string, req: RolloutStart, by: string): Promise<RolloutState> {
    const previous = await this.o.mappings.get(serviceId);
    if (!previous) throw new ApiError(409, 'SERVICE_NOT_MAPPED', `Service "${serviceId}" has no mapping: a rollout moves traffic from a mapped generation, map one first`);
    if (!(await this.o.store.get(layout.manifest(serviceId, req.generation)))) {
      throw new ApiError(409, 'GENERATION_NOT_COMMITTED', `Generation "${req.generation}" of service "${serviceId}" is not committed`, 'import it first: apinode-admin generation push <folder> --service <id>');
    }
    if (!baseEntries(previous, req.generation).length) throw new ApiError(409, 'CONFLICT', `Generation "${req.generation}" already has all the traffic of service "${serviceId}": there is nothing to roll out from`);
    // The marker first: a state the scheduled pass cannot find would never advance.
    await this.o.store.put(layout.rolloutMarker(serviceId), encodeJson({ serviceId }));
    const state = await this.decide(serviceId, (s) => {
      if (s?.phase === 'running') throw new ApiError(409, 'ROLLOUT_IN_PROGRESS', `A rollout of generation "${s.generation}" is running on service "${serviceId}": promote or abort it first`);
      const at = this.iso();
      return {
        serviceId,
        generation: req.generation,
        phase: 'running',
        steps: req.steps,
        everyS: req.everyS,
        maxErrorRate: req.maxErrorRate,
        ...(req.maxP99Ms !== undefined ? { maxP99Ms: req.maxP99Ms } : {}),
        minRequests: req.minRequests,
        previous,
        step: 0,
        startedAt: at,
        stepStartedAt: at,
        updatedAt: at,
        revision: (s?.revision ?? 0) + 1,
        mappingApplied: false,
        history: [{ at, action: 'start', percent: req.steps[0]!, by }],
      };
    });
    try {
      return await this.apply(serviceId, state!);
    } catch (e) {
      // The candidate was marked by a clean-up after the check above: end the rollout rather than leave it running on a generation that is going.
      if (e instanceof ApiError && e.errorType === 'GENERATION_NOT_COMMITTED') await this.abort(serviceId, `${by} (generation deleted by a clean-up)`).catch(() => undefined);
      throw e;
    }
  }

  async status(serviceId: string): Promise<RolloutStatus> {
    const s = (await this.read(serviceId))?.state;
    if (!s) throw ApiError.notFound('ROLLOUT_NOT_FOUND', `Service "${serviceId}" has no rollout`);
    const running = s.phase === 'running';
    return {
      rollout: s,
      percent: percentOf(s),
      mapping: desiredMapping(s),
      current: running ? await this.figures(s) : null,
      nextStepAt: running ? new Date(Date.parse(s.stepStartedAt) + s.everyS * 1000).toISOString() : null,
    };
  }

  /** One check of a running rollout: roll back, take the next step, complete, or wait. Null when the service has no rollout. */
  async advance(serviceId: string, by = 'scheduler'): Promise<RolloutState | null> {
    let current: RolloutState | null = null;
    const decided = await this.decide(serviceId, async (s) => {
      current = s;
      if (s?.phase !== 'running') return null;
      const figures = await this.figures(s);
      const v = judge(s, figures, this.o.now());
      if (v.action === 'rollback') return next(s, { phase: 'rolled-back', reason: v.reason }, { action: 'rollback', reason: v.reason, figures, by }, this.o.now());
      if (v.action === 'complete') return next(s, { phase: 'completed' }, { action: 'complete', figures, by }, this.o.now());
      if (v.action === 'advance') return next(s, { step: s.step + 1, stepStartedAt: this.iso() }, { action: 'advance', figures, by }, this.o.now());
      return null;
    });
    if (decided) {
      this.o.log.info('rollout', { serviceId, generation: decided.generation, action: decided.history.at(-1)?.action, percent: percentOf(decided), reason: decided.reason, by });
      return this.apply(serviceId, decided);
    }
    const s = current as RolloutState | null;
    // Nothing to decide: make sure service.json has what the state asks for (a controller that
    // stopped between its two writes, or a mapping set by hand while the rollout runs).
    return s && (s.phase === 'running' || !s.mappingApplied) ? this.apply(serviceId, s) : s;
  }

  /** All traffic to the new generation now, without waiting for the remaining steps. */
  promote(serviceId: string, by: string): Promise<RolloutState> {
    return this.end(serviceId, (s) => next(s, { phase: 'completed', step: s.steps.length - 1 }, { action: 'promote', by }, this.o.now()));
  }

  /** Back to the mapping the rollout started from. */
  abort(serviceId: string, by: string): Promise<RolloutState> {
    const reason = `aborted by ${by}`;
    return this.end(serviceId, (s) => next(s, { phase: 'aborted', reason }, { action: 'abort', reason, by }, this.o.now()));
  }

  /** The scheduled pass (EventBridge on Lambda, a Cron Trigger on Workers): every service that ever had a rollout. */
  async advanceAll(): Promise<AdvanceOutcome[]> {
    const ids = (await this.o.store.list(layout.rolloutMarkers())).map((k) => /^rollouts\/([^/]+)\.json$/.exec(k)?.[1]).filter((id): id is string => !!id);
    return Promise.all(
      ids.map(async (serviceId): Promise<AdvanceOutcome> => {
        try {
          const s = await this.advance(serviceId);
          return s ? { serviceId, phase: s.phase, percent: percentOf(s) } : { serviceId, phase: 'none' };
        } catch (e) {
          const error = e instanceof ApiError ? `${e.errorType}: ${e.message}` : String(e);
          this.o.log.warn('rollout check failed; tried again at the next pass', { serviceId, error });
          return { serviceId, phase: 'failed', error };
        }
      }),
    );
  }

  private async end(serviceId: string, change: (s: RolloutState) => RolloutState): Promise<RolloutState> {
    const state = await this.decide(serviceId, (s) => {
      if (!s) throw ApiError.notFound('ROLLOUT_NOT_FOUND', `Service "${serviceId}" has no rollout`);
      if (s.phase !== 'running') throw new ApiError(409, 'ROLLOUT_NOT_RUNNING', `The rollout of generation "${s.generation}" on service "${serviceId}" is ${s.phase}, not running`);
      return change(s);
    });
    return this.apply(serviceId, state!);
  }

  private figures(s: RolloutState): Promise<RolloutFigures> {
    return readFigures(this.o.store, s.serviceId, s.generation, Date.parse(s.stepStartedAt), this.o.now());
  }

  /**
   * Reads the state, asks `decide` for the next one (null: nothing to do) and writes it only
   * If-Match the copy read (created only if absent); when another controller wrote first, reads
   * again and decides again from that copy. Answers the state written, or null.
   */
  private async decide(serviceId: string, decide: (s: RolloutState | null) => RolloutState | null | Promise<RolloutState | null>): Promise<RolloutState | null> {
    const key = layout.rollout(serviceId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
      const got = await this.read(serviceId);
      const state = await decide(got?.state ?? null);
      if (!state) return null;
      try {
        await this.o.store.put(key, encodeJson(state), got ? { ifMatch: got.etag } : { ifNoneMatch: '*' });
        return state;
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
    }
    throw new ApiError(409, 'CONFLICT', `The rollout of service "${serviceId}" kept changing while this change was decided; nothing was changed, try again`);
  }

  /**
   * Writes the mapping `state` asks for to service.json, then reads rollout.json again: a later
   * decision that landed meanwhile gets its mapping written in turn (ours may have overwritten
   * it); else the state is marked applied. Answers the latest state.
   */
  private async apply(serviceId: string, state: RolloutState): Promise<RolloutState> {
    let s = state;
    for (let i = 0; i < ATTEMPTS; i++) {
      await this.o.mappings.set(serviceId, desiredMapping(s));
      const latest = await this.read(serviceId);
      if (!latest) return s;
      if (latest.state.revision !== s.revision) {
        s = latest.state;
        continue;
      }
      if (latest.state.mappingApplied) return latest.state;
      const applied = { ...latest.state, mappingApplied: true };
      try {
        await this.o.store.put(layout.rollout(serviceId), encodeJson(applied), { ifMatch: latest.etag });
        return applied;
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
    }
    return s;
  }

  private async read(serviceId: string): Promise<{ state: RolloutState; etag: string } | null> {
    const obj: StoredObject | null = await this.o.store.get(layout.rollout(serviceId));
    if (!obj) return null;
    return { state: parseStoredJson(obj.body, RolloutState, `services/${serviceId}/rollout.json`, 'SERVICE_CONFIG_INVALID'), etag: obj.etag };
  }

  private iso(): string {
    return new Date(this.o.now()).toISOString();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
