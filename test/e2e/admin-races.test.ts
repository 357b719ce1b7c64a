import { beforeEach, describe, expect, it } from 'vitest';
import { packTarGz } from '../../src/services/archive.js';
import { ImportClaim } from '../../src/services/import-claim.js';
import { sha256Hex } from '../../src/storage/content-hash.js';
import { layout } from '../../src/storage/layout.js';
import { adminTestApp } from '../support/admin-app.js';
import { demoGenerationAs } from '../support/demo-archive.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let t: Awaited<ReturnType<typeof adminTestApp>>;
const as = (key: string) => ({ Authorization: `Bearer ${key}` });
/** Rounds of each race; APINODE_RACE_TRIALS=20 for a longer soak. */
const TRIALS = Number(process.env.APINODE_RACE_TRIALS ?? 3);

beforeEach(async () => {
  t = await adminTestApp();
});

/** A mapping per writer, each one distinct, so the one that lands last can be told apart. */
const mappingOf = (i: number) => ({ entries: [{ generation: 'v1', proba: (i + 1) / 16 }, { generation: 'v2', proba: 1 - (i + 1) / 16 }] });

describe('concurrent changes to service.json', () => {
  it('loses no key when 10 addKey race 10 setMapping, and the mapping is one that was acknowledged', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const calls = Array.from({ length: 10 }, (_, i) => [t.call('POST', '/services/demo/keys', { label: `race-${trial}-${i}` }), t.call('POST', '/services/demo/actions/setMapping', mappingOf(i))]).flat();
      const answers = await Promise.all(calls);
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => [201, 200]).flat());
      const added = answers.filter((a) => a.status === 201).map((a) => a.body);
      for (const k of added) expect((await t.predict('demo', k.key)).status, `key ${k.label}`).toBe(200);
      const listed = new Set(((await t.call('GET', '/services/demo/keys')).body.keys as Json[]).map((k) => k.id));
      for (const k of added) expect(listed.has(k.id)).toBe(true);
      const mapping = (await t.call('GET', '/services/demo')).body.mapping;
      expect(answers.filter((a) => a.status === 200).map((a) => a.body.mapping)).toContainEqual(mapping);
    }
  });

  it('loses none of 10 parallel addKey without labels (each gets a label of its own)', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.call('POST', '/services/demo/keys', {})));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((a) => a.body.label)).size).toBe(10);
    for (const a of answers) expect((await t.predict('demo', a.body.key)).status).toBe(200);
    expect((await t.call('GET', '/services/demo/keys')).body.keys).toHaveLength(11);
  });

  it('keeps a revoked service key revoked when 5 additions race the revocation', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const victim = (await t.call('POST', '/services/demo/keys', { label: `victim-${trial}` })).body;
      expect((await t.predict('demo', victim.key)).status).toBe(200);
      const [revoked, ...adds] = await Promise.all([t.call('DELETE', `/services/demo/keys/${victim.id}`), ...Array.from({ length: 5 }, (_, i) => t.call('POST', '/services/demo/keys', { label: `add-${trial}-${i}` }))]);
      expect(revoked!.body).toEqual({ revoked: true, id: victim.id });
      expect((await t.predict('demo', victim.key)).status).toBe(401);
      for (const a of adds) {
        expect(a.status).toBe(201);
        expect((await t.predict('demo', a.body.key)).status).toBe(200);
      }
    }
  });
});

describe('concurrent changes to admin/keys.json', () => {
  it('loses none of 10 parallel admin key additions', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => t.call('POST', '/keys', { label: `admin-${i}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    for (const a of answers) expect((await t.call('GET', '/services', undefined, as(a.body.key))).status).toBe(200);
    expect((await t.call('GET', '/keys')).body.keys).toHaveLength(10);
  });

  it('shuts a revoked admin key out at once, whatever additions race the revocation', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const victim = (await t.call('POST', '/keys', { label: `victim-${trial}` })).body;
      const [revoked, ...adds] = await Promise.all([t.call('DELETE', `/keys/${victim.id}`), ...Array.from({ length: 5 }, (_, i) => t.call('POST', '/keys', { label: `add-${trial}-${i}` }))]);
      expect(revoked!.body).toEqual({ revoked: true, id: victim.id });
      expect((await t.call('GET', '/services', undefined, as(victim.key))).status).toBe(401);
      for (const a of adds) expect((await t.call('GET', '/services', undefined, as(a.body.key))).status).toBe(200);
    }
  });
});

describe('concurrent imports of one generation id', () => {
  /** Writer i's archive: its own description and one data file only it has. */
  const archiveOf = async (i: number, gen = 'race') => {
    const files = await demoGenerationAs('v1', gen, '2026-11-05T00:00:00Z', (m) => (m.description = `writer ${i}`));
    files.set(`data/writer-${i}.json`, new TextEncoder().encode(JSON.stringify({ writer: i })));
    return files;
  };

  it('answers one 201 and nine 409s, and commits exactly the winner\'s files with their hashes', { timeout: 300_000 }, async () => {
    for (let trial = 0; trial < Math.max(1, Math.floor(TRIALS / 3)); trial++) {
      const gen = `race-${trial}`;
      const folder = layout.generation('demo', gen);
      const archives = await Promise.all(Array.from({ length: 10 }, (_, i) => archiveOf(i, gen)));
      const answers = await Promise.all(archives.map((files) => t.call('POST', '/services/demo/generations', packTarGz(files))));
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      const refused = answers.filter((a) => a.status !== 201);
      expect(refused.map((a) => a.status)).toEqual(Array(9).fill(409));
      for (const a of refused) expect(['GENERATION_EXISTS', 'GENERATION_IMPORT_IN_PROGRESS']).toContain(a.body.errorType);

      const manifest = JSON.parse(new TextDecoder().decode((await t.store.get(layout.manifest('demo', gen)))!.body)) as Json;
      const files = archives[Number(/^writer (\d)$/.exec(manifest.description)![1])]!;
      expect((await t.store.list(folder)).map((k) => k.slice(folder.length)).sort()).toEqual([...files.keys()].sort());
      for (const [path, body] of files) {
        if (path === 'manifest.json') continue;
        expect(manifest.files[path], path).toBe(await sha256Hex(body));
        expect(await sha256Hex((await t.store.get(layout.file('demo', gen, path)))!.body), path).toBe(manifest.files[path]);
      }
      expect((await t.call('POST', `/services/demo/actions/switchTo/${gen}`)).status).toBe(200);
      expect((await t.predict('demo', 'demo-key')).status).toBe(200);
    }
  });

  it('answers 409 GENERATION_IMPORT_IN_PROGRESS while another import holds the id, and takes over a claim left by a crashed import', async () => {
    const archive = packTarGz(await archiveOf(1));
    const held = await ImportClaim.take(t.store, 'demo', 'race');
    const busy = await t.call('POST', '/services/demo/generations', archive);
    expect(busy.status).toBe(409);
    expect(busy.body.errorType).toBe('GENERATION_IMPORT_IN_PROGRESS');
    await held.release();

    // A crashed import: a claim last refreshed an hour ago, and a file it never cleaned up.
    const hourAgo = Date.now() - 3_600_000;
    await ImportClaim.take(t.store, 'demo', 'race', () => hourAgo);
    await t.store.put(layout.file('demo', 'race', 'models/half-written.onnx'), new Uint8Array(10));
    expect((await t.call('POST', '/services/demo/generations', archive)).status).toBe(201);
    expect(await t.store.get(layout.file('demo', 'race', 'models/half-written.onnx'))).toBeNull();
    expect(await t.store.get(layout.importClaim('demo', 'race'))).toBeNull();
  });
});

describe('generation files checked against the manifest', () => {
  it('answers 503 GENERATION_CORRUPT, logged at level error, for a model file changed after import', async () => {
    expect((await t.importGen('demo', 'sealed', '2026-11-06T00:00:00Z')).status).toBe(201);
    const manifest = JSON.parse(new TextDecoder().decode((await t.store.get(layout.manifest('demo', 'sealed')))!.body)) as Json;
    expect(Object.keys(manifest.files)).toContain('models/car-mpg.onnx');
    // Another generation's model, of the same kind and inputs, put in its place.
    await t.store.put(layout.file('demo', 'sealed', 'models/car-mpg.onnx'), (await t.store.get(layout.file('demo', 'v2', 'models/car-mpg.onnx')))!.body);
    expect((await t.call('POST', '/services/demo/actions/setMapping', { entries: [{ generation: 'v1', proba: 0.5 }, { generation: 'sealed', proba: 0.5 }] })).status).toBe(200);
    const corrupt = await t.predict('demo', 'demo-key', { dispatch: { forcedGeneration: 'sealed' } });
    expect(corrupt.status).toBe(503);
    expect(((await corrupt.json()) as Json).errorType).toBe('GENERATION_CORRUPT');
    expect(t.audit.find((l) => l.level === 'error' && l.msg === 'generation file does not match its manifest')).toMatchObject({ serviceId: 'demo', generation: 'sealed', path: 'models/car-mpg.onnx' });
  });

  it('refuses an archive whose manifest declares files that are not the archive\'s', async () => {
    const res = await t.importGen('demo', 'liar', '2026-11-06T00:00:00Z', (m) => (m.files = { 'models/car-mpg.onnx': '0'.repeat(64) }));
    expect(res.status).toBe(400);
    expect(res.body.errorType).toBe('INVALID_GENERATION');
    expect(res.body.detailedMessage).toMatch(/files\.models\/car-mpg\.onnx: the SHA-256 is not the file's/);
  });
});
