import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bytes, objectStoreContract, text } from '../support/object-store-contract.js';
import { tempStore } from '../support/stores.js';

// A folder has no pages: listPageSize does not apply.
objectStoreContract('FsObjectStore', async () => (await tempStore()).store);

describe('FsObjectStore', () => {
  it('writes atomically: no temp file is left behind', async () => {
    const { store, dir } = await tempStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('same', bytes(`v${i}`))));
    expect(await readdir(dir)).toEqual(['same']);
    expect(text((await store.get('same'))!.body)).toMatch(/^v\d+$/);
  });

  it('does not list the temp file of a write that never finished', async () => {
    const { store, dir } = await tempStore();
    await store.put('s/a.json', bytes('a'));
    await writeFile(join(dir, 's', 'b.json.0f2c.tmp'), 'half');
    expect(await store.list('s/')).toEqual(['s/a.json']);
  });

  it('refuses keys that would escape its folder', async () => {
    const { store } = await tempStore();
    await expect(store.get('../etc/passwd')).rejects.toThrow(/invalid object key/);
    await expect(store.put('a//b', bytes(''))).rejects.toThrow(/invalid object key/);
  });

  it('keeps the lock file of a key out of listings and removes it after each write', async () => {
    const { store, dir } = await tempStore();
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.put('s/k', bytes(`v${i}`), i % 2 ? undefined : { ifNoneMatch: '*' }).catch(() => undefined)));
    expect(await readdir(join(dir, 's'))).toEqual(['k']);
  });

  it('breaks a lock left by a process that died, or one older than 30 s', async () => {
    const { store, dir } = await tempStore();
    await store.put('k', bytes('v1'));
    await writeFile(join(dir, 'k.lock.tmp'), `999999999@${hostname()} crashed-writer`);
    const start = Date.now();
    await store.put('k', bytes('v2'));
    await writeFile(join(dir, 'k.lock.tmp'), 'elsewhere@another-host old-writer');
    await utimes(join(dir, 'k.lock.tmp'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await store.put('k', bytes('v3'));
    expect(Date.now() - start).toBeLessThan(2000);
    expect(text((await store.get('k'))!.body)).toBe('v3');
    expect(await readdir(dir)).toEqual(['k']);
  });

  it('makes check-and-rename atomic across processes: 3 processes x 15 read-modify-writes lose no increment', { timeout: 60_000 }, async () => {
    const { store, dir } = await tempStore();
    const writer = fileURLToPath(new URL('../support/fs-counter-writer.ts', import.meta.url));
    const run = promisify(execFile);
    await Promise.all(['a', 'b', 'c'].map((id) => run(process.execPath, ['--import', 'tsx', writer, dir, 'counter.json', id, '15'])));
    const final = JSON.parse(text((await store.get('counter.json'))!.body)) as { n: number; by: string[] };
    expect(final.n).toBe(45);
    for (const id of ['a', 'b', 'c']) expect(final.by.filter((w) => w === id)).toHaveLength(15);
    expect(await readdir(dir)).toEqual(['counter.json']);
  });
});
