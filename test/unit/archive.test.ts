import { join } from 'node:path';
import { Zip, ZipDeflate, gzipSync, zipSync } from 'fflate';
import fc from 'fast-check';
import { packTar, type TarEntry } from 'modern-tar';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { ApiError } from '../../src/errors.js';
import { importLimits, packTarGz, unpackArchive, type ArchiveInput, type ArchiveLimits, type FileSet } from '../../src/services/archive.js';
import { MiB, gzipZeros, noise, patchZip, tarGzBomb } from '../support/archive-bombs.js';
import { DEMO_GENERATIONS, readFolder } from '../support/demo-archive.js';

const enc = (s: string) => new TextEncoder().encode(s);
const limits = (o: Partial<ArchiveLimits> = {}): ArchiveLimits => ({ maxArchiveBytes: 8 * MiB, maxUnpackedBytes: 8 * MiB, maxEntries: 100, maxFileBytes: 8 * MiB, ...o });
const file = (name: string, body: Uint8Array | string): TarEntry => {
  const bytes = typeof body === 'string' ? enc(body) : body;
  return { header: { name, size: bytes.length, mtime: new Date(0) }, body: bytes };
};
const tar = (entries: TarEntry[]) => packTar(entries);
const tgz = async (entries: TarEntry[]) => gzipSync(await tar(entries));

/** Chunks of `bytes` as an upload would bring them, counting how many the unpacker pulled. */
function counted(bytes: Uint8Array, chunk = 4096) {
  const seen = { bytes: 0 };
  const source = (async function* () {
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, at + chunk);
      seen.bytes += piece.length;
      yield piece;
    }
  })();
  return { source, seen };
}

async function refusal(input: ArchiveInput, lim: ArchiveLimits = limits()): Promise<ApiError> {
  try {
    await unpackArchive(input, lim);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('the archive was accepted');
}

const expectSame = (got: FileSet, want: FileSet) => {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [path, bytes] of want) expect(Buffer.from(got.get(path)!).equals(Buffer.from(bytes)), path).toBe(true);
};

describe('unpackArchive: valid archives', async () => {
  const demo = await readFolder(join(DEMO_GENERATIONS, 'v1'));
  const entries = [...demo].map(([p, b]) => file(p, b));

  /** The demo generation packed by the tools a user has at hand. */
  const formats: Record<string, () => Promise<Uint8Array> | Uint8Array> = {
    'tar.gz (packTarGz)': () => packTarGz(demo),
    'tar (modern-tar)': () => tar(entries),
    'tar.gz in a top folder': () => tgz([{ header: { name: 'v1/', type: 'directory', size: 0 } }, ...[...demo].map(([p, b]) => file(`v1/${p}`, b))]),
    'zip (deflate)': () => zipSync(Object.fromEntries(demo)),
    'zip (stored)': () => zipSync(Object.fromEntries(demo), { level: 0 }),
    'zip with data descriptors (streamed)': () => {
      const out: Uint8Array[] = [];
      const z = new Zip((err, chunk) => {
        if (err) throw err;
        out.push(chunk);
      });
      for (const [p, b] of demo) {
        const entry = new ZipDeflate(p, { level: 6 });
        z.add(entry);
        entry.push(b, true);
      }
      z.end();
      return Buffer.concat(out);
    },
  };

  for (const [name, pack] of Object.entries(formats)) {
    it(`unpacks the demo generation byte for byte from a ${name}, whole or streamed`, async () => {
      const bytes = await pack();
      expectSame(await unpackArchive(bytes, limits()), demo);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let at = 0; at < bytes.length; at += 1000) c.enqueue(bytes.slice(at, at + 1000));
          c.close();
        },
      });
      expectSame(await unpackArchive(stream, limits()), demo);
      expectSame(await unpackArchive(counted(bytes, 777).source, limits()), demo);
    });
  }

  it('reads pax and GNU long names', async () => {
    const long = `models/${'deep/'.repeat(40)}model.onnx`;
    const pax = await unpackArchive(await tgz([file('manifest.json', '{}'), file(long, 'onnx')]), limits());
    expect(new TextDecoder().decode(pax.get(long))).toBe('onnx');
    const gnuName = enc(`data/${'x'.repeat(150)}.json`);
    const gnu = await tar([file('manifest.json', '{}'), { header: { name: '././@LongLink', type: 'gnu-long-name', size: gnuName.length }, body: gnuName }, file('short', '[1]')]);
    expect([...(await unpackArchive(gnu, limits())).keys()]).toEqual(['manifest.json', `data/${'x'.repeat(150)}.json`]);
  });

  it('takes its limits from the configuration: APINODE_MAX_IMPORT_FILE_BYTES follows APINODE_MAX_IMPORT_BYTES unless set', () => {
    expect(importLimits(parseConfig({}))).toEqual({ maxArchiveBytes: 256 * MiB, maxUnpackedBytes: 256 * MiB, maxEntries: 10_000, maxFileBytes: 256 * MiB });
    expect(importLimits(parseConfig({ APINODE_MAX_IMPORT_BYTES: '1000', APINODE_MAX_IMPORT_FILES: '5', APINODE_MAX_IMPORT_FILE_BYTES: '10' }))).toEqual({ maxArchiveBytes: 1000, maxUnpackedBytes: 1000, maxEntries: 5, maxFileBytes: 10 });
  });
});

describe('unpackArchive: bombs stop at the limit, not after it', () => {
  it('a tar.gz whose file header declares more than a file may hold: 413 from the header, the rest never read', async () => {
    const bomb = tarGzBomb('model.onnx', 64 * MiB);
    const { source, seen } = counted(bomb);
    const e = await refusal(source, limits({ maxFileBytes: MiB }));
    expect(e).toMatchObject({ status: 413, errorType: 'PAYLOAD_TOO_LARGE', message: `"model.onnx" unpacks to more than ${MiB} bytes` });
    expect(e.detailedMessage).toContain('APINODE_MAX_IMPORT_FILE_BYTES');
    expect(seen.bytes).toBeLessThan(bomb.length / 4);
  });

  it('a tar.gz whose files add up to more than the archive may unpack to: 413 at the file that passes it', async () => {
    const e = await refusal(await tgz([file('a.bin', new Uint8Array(600)), file('b.bin', new Uint8Array(600))]), limits({ maxUnpackedBytes: 1000 }));
    expect(e).toMatchObject({ status: 413, message: 'The archive unpacks to more than 1000 bytes' });
    expect(e.detailedMessage).toContain('APINODE_MAX_IMPORT_BYTES');
  });

  it('a gzip of zeros (no tar inside): 400 after the first bytes', async () => {
    const bomb = gzipZeros(64 * MiB);
    const { source, seen } = counted(bomb);
    expect(await refusal(source)).toMatchObject({ status: 400, errorType: 'INVALID_ARCHIVE', message: 'The gzip file holds no tar archive' });
    expect(seen.bytes).toBeLessThan(bomb.length / 4);
  });

  it('a tar.gz going on with zeros after its end: 400 once 16 MiB belong to no file', async () => {
    const bomb = gzipZeros(128 * MiB, await tar([file('manifest.json', '{}')]));
    const { source, seen } = counted(bomb);
    expect(await refusal(source)).toMatchObject({ status: 400, message: expect.stringMatching(/belong to no file/) });
    expect(seen.bytes).toBeLessThan(bomb.length / 2);
  });

  it('a zip declaring a huge file: 413 from its central directory, nothing inflated', async () => {
    const bomb = zipSync({ 'model.onnx': new Uint8Array(16 * MiB) }, { level: 9 });
    expect(await refusal(bomb, limits({ maxFileBytes: MiB }))).toMatchObject({ status: 413, message: `"model.onnx" unpacks to more than ${MiB} bytes` });
  });

  it('a zip whose central directory lies about sizes: 400, inflation stopped at the declared size', async () => {
    const zip = zipSync({ 'manifest.json': enc('{}'), 'model.onnx': new Uint8Array(4 * MiB) }, { level: 9 });
    expect(await refusal(patchZip(zip, 'model.onnx', { size: 1000 }))).toMatchObject({ status: 400, message: 'The archive is corrupt: "model.onnx" unpacks to more than the 1000 bytes the zip declares' });
    expect(await refusal(patchZip(zip, 'manifest.json', { size: 3 }))).toMatchObject({ status: 400, message: 'The archive is corrupt: "manifest.json" unpacks to 2 bytes where the zip declares 3' });
    expect(await refusal(patchZip(zip, 'model.onnx', { size: 0xffff_fff0 }))).toMatchObject({ status: 413 });
  });

  it('an archive larger than allowed, streamed: 413 as soon as the count passes the limit', async () => {
    const big = new Uint8Array(4 * MiB);
    big.set(await tar([file('a', 'a')]));
    const { source, seen } = counted(big, 64 * 1024);
    expect(await refusal(source, limits({ maxArchiveBytes: MiB }))).toMatchObject({ status: 413, message: `The archive is larger than ${MiB} bytes` });
    expect(seen.bytes).toBeLessThanOrEqual(MiB + 64 * 1024);
  });

  it('too many files and folders: 413, for a zip before its first entry is read', async () => {
    const many = Array.from({ length: 6 }, (_, i) => file(`f${i}.json`, '{}'));
    const e = await refusal(await tgz(many), limits({ maxEntries: 5 }));
    expect(e).toMatchObject({ status: 413, message: 'The archive holds more than 5 files and folders' });
    expect(e.detailedMessage).toContain('APINODE_MAX_IMPORT_FILES');
    expect(await refusal(await tgz([{ header: { name: 'a/', type: 'directory', size: 0 } }, { header: { name: 'b/', type: 'directory', size: 0 } }, file('a/x', '1')]), limits({ maxEntries: 2 }))).toMatchObject({ status: 413 });
    expect(await refusal(zipSync(Object.fromEntries(many.map((f) => [f.header.name, enc('{}')]))), limits({ maxEntries: 5 }))).toMatchObject({ status: 413 });
  });
});

describe('unpackArchive: entries a generation never holds', () => {
  const zipWith = (name: string, attrs?: number) => zipSync({ [name]: attrs === undefined ? enc('x') : [enc('x'), { os: 3, attrs }] });
  const cases: [string, string, RegExp][] = [
    ['a parent folder', '../evil.json', /leads out of the archive/],
    ['a parent folder deeper down', 'models/../../evil.json', /leads out of the archive/],
    ['an absolute path', '/etc/cron.d/evil', /is an absolute path/],
    ['a drive letter', 'C:/evil', /is an absolute path/],
    ['a backslash', 'models\\..\\evil', /backslash/],
    ['an empty segment', 'models//m.onnx', /not a plain relative path/],
  ];
  for (const [what, name, message] of cases) {
    it(`refuses a path with ${what}, in a tar and in a zip`, async () => {
      expect(await refusal(await tgz([file('manifest.json', '{}'), file(name, 'x')]))).toMatchObject({ status: 400, errorType: 'INVALID_ARCHIVE', message: expect.stringMatching(message) });
      expect(await refusal(zipWith(name))).toMatchObject({ status: 400, message: expect.stringMatching(message) });
    });
  }

  it('refuses symbolic links, hard links, devices and FIFOs', async () => {
    const link = (type: 'symlink' | 'link' | 'character-device' | 'fifo'): TarEntry => ({ header: { name: 'x', type, size: 0, linkname: '/etc/passwd' } });
    expect(await refusal(await tgz([link('symlink')]))).toMatchObject({ status: 400, message: '"x" is a symbolic link: a generation archive holds only regular files and folders' });
    expect(await refusal(await tgz([link('link')]))).toMatchObject({ message: expect.stringMatching(/is a hard link/) });
    expect(await refusal(await tgz([link('character-device')]))).toMatchObject({ message: expect.stringMatching(/device, FIFO/) });
    expect(await refusal(await tar([link('fifo')]))).toMatchObject({ message: expect.stringMatching(/device, FIFO/) });
    expect(await refusal(zipWith('x', (0o120777 << 16) >>> 0))).toMatchObject({ message: expect.stringMatching(/is a symbolic link/) });
    expect(await refusal(zipWith('x', (0o010644 << 16) >>> 0))).toMatchObject({ message: expect.stringMatching(/device, FIFO/) });
  });

  it('refuses a path met twice (also as ./path) and one that is both a file and a folder', async () => {
    expect(await refusal(await tgz([file('a.json', '1'), file('./a.json', '2')]))).toMatchObject({ status: 400, message: '"a.json" appears twice in the archive' });
    expect(await refusal(await tgz([file('data', '1'), file('data/x.json', '2')]))).toMatchObject({ message: '"data" is both a file and a folder in the archive' });
    expect(await refusal(await tgz([file('data/x.json', '2'), file('data', '1')]))).toMatchObject({ message: '"data" is both a file and a folder in the archive' });
    expect(await refusal(patchZip(zipSync({ 'a.json': enc('1'), 'b.json': enc('2') }), 'b.json', { rename: 'a.json' }))).toMatchObject({ message: '"a.json" appears twice in the archive' });
  });
});

describe('unpackArchive: truncated and corrupt archives', async () => {
  const good = await tgz([file('manifest.json', JSON.stringify({ generation: 'g', pad: 'x'.repeat(5000) })), file('models/m.onnx', noise(20_000))]);
  const plain = await tar([file('manifest.json', '{}'.padEnd(3000, ' '))]);
  const zip = zipSync({ 'manifest.json': enc('{}'.padEnd(3000, ' ')), 'models/m.onnx': noise(20_000) });

  it('says a tar.gz, a tar or a zip cut short is truncated', async () => {
    expect(await refusal(good.subarray(0, good.length >> 1))).toMatchObject({ status: 400, message: expect.stringMatching(/truncated/) });
    expect(await refusal(good.subarray(0, good.length - 4))).toMatchObject({ status: 400, message: expect.stringMatching(/truncated|corrupt/) });
    expect(await refusal(plain.subarray(0, 1500))).toMatchObject({ status: 400, message: expect.stringMatching(/truncated/) });
    expect(await refusal(zip.subarray(0, zip.length - 10))).toMatchObject({ status: 400, message: expect.stringMatching(/truncated or corrupt/) });
  });

  it('says a damaged one is corrupt: tar header checksum, gzip checksum, zip data', async () => {
    const badHeader = plain.slice();
    badHeader[10] = 0x41;
    expect(await refusal(badHeader)).toMatchObject({ status: 400, message: expect.stringMatching(/corrupt/) });
    const badTrailer = good.slice();
    badTrailer[good.length - 6]! ^= 0xff;
    expect(await refusal(badTrailer)).toMatchObject({ status: 400, message: 'The archive is truncated or corrupt: its gzip checksum does not match what it holds' });
    const badData = zip.slice();
    badData[zip.length >> 1]! ^= 0x55;
    expect(await refusal(badData)).toMatchObject({ status: 400, message: expect.stringMatching(/corrupt/) });
  });

  it('refuses what is not an archive, and an empty body', async () => {
    expect(await refusal(enc('hello'))).toMatchObject({ status: 400, message: 'The archive is not a tar.gz, tar or zip file' });
    expect(await refusal(new Uint8Array(0))).toMatchObject({ status: 400, message: 'The archive is empty' });
    expect(await refusal(gzipSync(enc('hello')))).toMatchObject({ status: 400, message: 'The gzip file holds no tar archive' });
  });

  it('never answers with a library message: every damaged archive is a 400 or 413 ApiError (property)', async () => {
    const formats = { 'tar.gz': good, tar: plain, zip };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...(Object.keys(formats) as (keyof typeof formats)[])), fc.nat(), fc.nat(255), fc.boolean(), async (format, at, byte, cut) => {
        const bytes = formats[format].slice();
        const where = at % bytes.length;
        const damaged = cut ? bytes.subarray(0, where) : ((bytes[where] = byte), bytes);
        try {
          await unpackArchive(damaged, limits());
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect([400, 413]).toContain((e as ApiError).status);
          expect((e as ApiError).message).not.toMatch(/invalid (block|distance|length)|unexpected EOF|Invalid tar|Tar archive/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('unpackArchive: round trips (property)', () => {
  const segment = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
  const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
  const body = fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.tuple(fc.nat(255), fc.nat(20_000)).map(([b, n]) => new Uint8Array(n).fill(b)));
  // No path may be both a file and another file's folder.
  const fileSet = fc.uniqueArray(fc.tuple(path, body), { minLength: 1, maxLength: 12, selector: ([p]) => p }).filter((fs) => fs.every(([p]) => !fs.some(([q]) => q.startsWith(`${p}/`))));

  it('unpacks what tar, tar.gz and zip pack, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fileSet, fc.constantFrom('tar', 'tar.gz', 'zip', 'zip-stored'), async (files, format) => {
        const want: FileSet = new Map(files);
        if (!want.has('manifest.json') && new Set(files.map(([p]) => p.split('/')[0])).size === 1) want.set('manifest.json', enc('{}'));
        const entries = [...want].map(([p, b]) => file(p, b));
        const packed = format === 'tar' ? await tar(entries) : format === 'tar.gz' ? await tgz(entries) : zipSync(Object.fromEntries(want), { level: format === 'zip' ? 6 : 0 });
        expectSame(await unpackArchive(packed, limits()), want);
      }),
      { numRuns: 60 },
    );
  });
});
