import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { NOT_MODIFIED } from '../../src/storage/object-store.js';
import { tempStore } from '../support/stores.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('FsObjectStore', () => {
  it('reads back what it wrote, and null for a missing key', async () => {
    const { store } = await tempStore();
    await store.put('services/a/service.json', bytes('{"x":1}'));
    expect(text((await store.get('services/a/service.json'))!.body)).toBe('{"x":1}');
    expect(await store.get('services/b/service.json')).toBeNull();
  });

  it('answers NOT_MODIFIED for an unchanged etag and the new object after a write', async () => {
    const { store } = await tempStore();
    await store.put('k', bytes('one'));
    const first = (await store.get('k'))!;
    expect(await store.getIfChanged('k', first.etag)).toBe(NOT_MODIFIED);
    await store.put('k', bytes('three'));
    const next = await store.getIfChanged('k', first.etag);
    expect(next).not.toBe(NOT_MODIFIED);
    expect(text((next as { body: Uint8Array }).body)).toBe('three');
  });

  it('lists keys under a prefix in order, without temp files', async () => {
    const { store } = await tempStore();
    for (const k of ['s/g/v2/manifest.json', 's/g/v1/models/m.onnx', 's/g/v1/manifest.json', 's/other.json']) await store.put(k, bytes(k));
    expect(await store.list('s/g/')).toEqual(['s/g/v1/manifest.json', 's/g/v1/models/m.onnx', 's/g/v2/manifest.json']);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('writes atomically: no temp file is left behind', async () => {
    const { store, dir } = await tempStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('same', bytes(`v${i}`))));
    expect(await readdir(dir)).toEqual(['same']);
    expect(text((await store.get('same'))!.body)).toMatch(/^v\d+$/);
  });

  it('deletes, and refuses keys that would escape its folder', async () => {
    const { store } = await tempStore();
    await store.put('x', bytes('1'));
    await store.delete('x');
    expect(await store.get('x')).toBeNull();
    await expect(store.get('../etc/passwd')).rejects.toThrow(/invalid object key/);
    await expect(store.put('a//b', bytes(''))).rejects.toThrow(/invalid object key/);
  });
});
