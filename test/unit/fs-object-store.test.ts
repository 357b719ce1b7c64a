import { describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
});
