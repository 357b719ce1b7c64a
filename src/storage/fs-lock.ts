import { randomUUID } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ApiError } from '../errors.js';

/** A lock older than this is taken to belong to a process that died (the locked step takes milliseconds). */
const STALE_MS = 30_000;
/** Waiting longer than this for a lock is an outage, not contention. */
const WAIT_MS = STALE_MS + 5_000;

/** Writers of this process waiting for each path, in order: they queue here instead of polling the lock file. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `step` holding the lock of one object file: first in this process (a promise queue per
 * path), then across processes (a lock file next to it, created with O_EXCL, so exactly one
 * process holds it). A lock file left by a crashed process is broken when its holder is known
 * dead (same host, no such pid) or after STALE_MS. Holds for processes on one host's local
 * disk; a network file system's O_EXCL and rename are not to be relied on.
 */
export async function withFileLock<T>(path: string, step: () => Promise<T>): Promise<T> {
  const before = queues.get(path) ?? Promise.resolve();
  let done!: () => void;
  const released = new Promise<void>((r) => (done = r));
  const mine = before.then(() => released);
  queues.set(path, mine);
  await before;
  try {
    const lock = `${path}.lock.tmp`;
    const token = await acquire(lock);
    try {
      return await step();
    } finally {
      // Only our own lock: after STALE_MS another process may have broken it and taken its own.
      if ((await readFile(lock, 'utf8').catch(() => '')) === token) await rm(lock, { force: true });
    }
  } finally {
    done();
    if (queues.get(path) === mine) queues.delete(path);
  }
}

async function acquire(lock: string): Promise<string> {
  const token = `${process.pid}@${hostname()} ${randomUUID()}`;
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, token, { flag: 'wx' });
      return token;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    await breakIfStale(lock);
    if (Date.now() > deadline) throw ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be written right now', 'local store error: lock timeout');
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 50)));
  }
}

/**
 * Moves a stale lock aside, then checks that what it moved is the lock it judged: when another
 * process broke it first and already holds a new one, that one is put back (link() creates only
 * if the name is free).
 */
async function breakIfStale(lock: string): Promise<void> {
  let seen: string;
  let mtimeMs: number;
  try {
    [seen, { mtimeMs }] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
  } catch {
    return; // released meanwhile
  }
  if (!isStale(seen, mtimeMs)) return;
  const aside = `${lock}.${randomUUID()}.tmp`;
  try {
    await rename(lock, aside);
  } catch {
    return;
  }
  if ((await readFile(aside, 'utf8').catch(() => seen)) !== seen) await link(aside, lock).catch(() => undefined);
  await rm(aside, { force: true });
}

function isStale(token: string, mtimeMs: number): boolean {
  if (Date.now() - mtimeMs > STALE_MS) return true;
  const m = /^(\d+)@(\S+) /.exec(token);
  if (!m || m[2] !== hostname()) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}
