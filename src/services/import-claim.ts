import { ApiError } from '../errors.js';
import { layout } from '../storage/layout.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';

/** A claim not refreshed for this long belongs to an import that died: longer than a Lambda can run (15 min). */
export const CLAIM_STALE_MS = 20 * 60_000;
/** How often a running import refreshes its claim (between two files). */
const HEARTBEAT_MS = 60_000;

interface ClaimBody {
  readonly importId: string;
  readonly claimedAt: string;
  readonly heartbeatAt: string;
}

/**
 * One import's hold on a generation id while it writes the generation's files: an object next to
 * them, created only if absent, refreshed and released only If-Match the etag this import last
 * wrote. Holding it is what entitles an import to write under the generation's folder.
 */
export class ImportClaim {
  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly body: Omit<ClaimBody, 'heartbeatAt'>,
    private etag: string,
    private lastBeat: number,
    private readonly now: () => number,
  ) {}

  /** Claims the id, or breaks a stale claim; 409 GENERATION_IMPORT_IN_PROGRESS when another import holds it. */
  static async take(store: ObjectStore, serviceId: string, gen: string, now: () => number = Date.now): Promise<ImportClaim> {
    const key = layout.importClaim(serviceId, gen);
    const at = now();
    const body = { importId: crypto.randomUUID(), claimedAt: new Date(at).toISOString() };
    const encoded = encode({ ...body, heartbeatAt: body.claimedAt });
    // Twice: a claim released between our create and our read leaves nothing to break.
    for (let i = 0; i < 2; i++) {
      try {
        return new ImportClaim(store, key, body, await store.put(key, encoded, { ifNoneMatch: '*' }), at, now);
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
      }
      const current = await store.get(key);
      if (!current) continue;
      const heartbeat = beatOf(current.body);
      if (heartbeat !== null && at - heartbeat < CLAIM_STALE_MS) throw inProgress(serviceId, gen, new Date(heartbeat).toISOString());
      try {
        return new ImportClaim(store, key, body, await store.put(key, encoded, { ifMatch: current.etag }), at, now);
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
        throw inProgress(serviceId, gen, 'just now'); // another import broke the stale claim first
      }
    }
    throw inProgress(serviceId, gen, 'just now');
  }

  /**
   * Refreshes the claim (always when `force`, else once HEARTBEAT_MS have passed). Fails with 409
   * when the claim is no longer this import's: it was judged stale and taken over.
   */
  async heartbeat(force: boolean): Promise<void> {
    const at = this.now();
    if (!force && at - this.lastBeat < HEARTBEAT_MS) return;
    try {
      this.etag = await this.store.put(this.key, encode({ ...this.body, heartbeatAt: new Date(at).toISOString() }), { ifMatch: this.etag });
      this.lastBeat = at;
    } catch (e) {
      if (!isPreconditionFailed(e)) throw e;
      throw new ApiError(409, 'GENERATION_IMPORT_IN_PROGRESS', 'Another import took this generation id over while this one was writing it', `this import went ${Math.round((at - this.lastBeat) / 1000)} s without refreshing its claim, so another import judged it dead and took over; nothing of this import was committed`);
    }
  }

  /** Whether the claim is still this import's (it has the etag this import last wrote). */
  async held(): Promise<boolean> {
    return (await this.store.get(this.key))?.etag === this.etag;
  }

  /**
   * Drops the claim if it is still this import's. Read, then delete: object stores have no
   * conditional delete we can count on, so a claim broken in between is deleted too; the import
   * that broke it fails at its next heartbeat at worst (it never commits under a lost claim).
   */
  async release(): Promise<void> {
    if (await this.held()) await this.store.delete(this.key);
  }
}

const encode = (b: ClaimBody) => new TextEncoder().encode(JSON.stringify(b) + '\n');

/** The claim's last heartbeat, or null when the object is not a claim this code wrote (then it counts as stale). */
function beatOf(body: Uint8Array): number | null {
  try {
    const at = Date.parse((JSON.parse(new TextDecoder().decode(body)) as Partial<ClaimBody>).heartbeatAt ?? '');
    return Number.isFinite(at) ? at : null;
  } catch {
    return null;
  }
}

const inProgress = (serviceId: string, gen: string, since: string) =>
  new ApiError(
    409,
    'GENERATION_IMPORT_IN_PROGRESS',
    `Generation "${gen}" of service "${serviceId}" is being imported by another request`,
    `another import of generation "${gen}" holds its id (last seen alive ${since}); when it ends the generation exists (409 GENERATION_EXISTS) or the id is free again. A claim left by a crashed import is broken after ${CLAIM_STALE_MS / 60_000} minutes`,
  );
