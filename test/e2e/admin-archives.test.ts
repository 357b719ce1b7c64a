import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { gzipSync, zipSync } from 'fflate';
import { packTar } from 'modern-tar';
import { describe, expect, it } from 'vitest';
import { packTarGz } from '../../src/services/archive.js';
import { adminAuth, adminTestApp } from '../support/admin-app.js';
import { MiB, noise, tarGzBomb } from '../support/archive-bombs.js';
import { demoGenerationAs } from '../support/demo-archive.js';

const enc = (s: string) => new TextEncoder().encode(s);
const upload = '/services/demo/generations';

describe('generation archives through the admin API', () => {
  it('imports the demo generation from a zip, and from a tar.gz streamed without a Content-Length', async () => {
    const t = await adminTestApp();
    const zipped = await t.call('POST', upload, zipSync(Object.fromEntries(await demoGenerationAs('v1', 'z1', '2026-11-05T00:00:00Z'))));
    expect(zipped).toMatchObject({ status: 201, body: { generation: 'z1' } });

    const bytes = packTarGz(await demoGenerationAs('v1', 'z2', '2026-11-06T00:00:00Z'));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.length; at += 4096) c.enqueue(bytes.slice(at, at + 4096));
        c.close();
      },
    });
    const res = await t.app.request(`/admin/api${upload}`, { method: 'POST', headers: adminAuth, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { generation: string }).generation).toBe('z2');
  });

  it('answers a tar.gz bomb with 413 naming the file and the setting, from its header', async () => {
    const t = await adminTestApp({ APINODE_MAX_IMPORT_FILE_BYTES: String(MiB) });
    const res = await t.call('POST', upload, tarGzBomb('models/huge.onnx', 64 * MiB));
    expect(res).toMatchObject({ status: 413, body: { errorType: 'PAYLOAD_TOO_LARGE', message: `"models/huge.onnx" unpacks to more than ${MiB} bytes` } });
    expect(res.body.detailedMessage).toContain('APINODE_MAX_IMPORT_FILE_BYTES');
  });

  it('counts files against APINODE_MAX_IMPORT_FILES', async () => {
    const t = await adminTestApp({ APINODE_MAX_IMPORT_FILES: '3' });
    const res = await t.call('POST', upload, packTarGz(await demoGenerationAs('v1', 'f', '2026-11-05T00:00:00Z')));
    expect(res).toMatchObject({ status: 413, body: { message: 'The archive holds more than 3 files and folders' } });
  });

  it('refuses a declared Content-Length above APINODE_MAX_IMPORT_BYTES before reading, saying which setting to raise', async () => {
    const t = await adminTestApp({ APINODE_MAX_IMPORT_BYTES: '1000' });
    const res = await t.call('POST', upload, new Uint8Array(5000));
    expect(res).toMatchObject({ status: 413, body: { message: 'The archive is larger than 1000 bytes', detailedMessage: 'raise APINODE_MAX_IMPORT_BYTES' } });
  });

  it('answers a corrupt archive with its own words and logs the library message', async () => {
    const t = await adminTestApp();
    const good = packTarGz(await demoGenerationAs('v1', 'c', '2026-11-05T00:00:00Z'));
    const corrupt = good.slice();
    corrupt.fill(0xff, 30, 60);
    const res = await t.call('POST', upload, corrupt);
    expect(res).toMatchObject({ status: 400, body: { errorType: 'INVALID_ARCHIVE', message: 'The archive is corrupt: its gzip stream cannot be inflated' } });
    expect(JSON.stringify(res.body)).not.toMatch(/invalid (block|distance|length)/i);
    expect(t.audit.find((l) => l.msg === 'archive refused')).toMatchObject({ level: 'warn', cause: expect.stringMatching(/invalid/i) });
  });

  it('refuses links and traversal from importFromArchive too', async () => {
    const t = await adminTestApp();
    await t.store.put('imports/link.zip', zipSync({ 'manifest.json': enc('{}'), 'models/m.onnx': [enc('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] }));
    await t.store.put('imports/dots.tar.gz', gzipSync(await packTar([{ header: { name: '../../service.json', size: 2 }, body: '{}' }])));
    const path = (p: string) => `/services/demo/generations/actions/importFromArchive?filePath=${p}`;
    expect(await t.call('POST', path('imports/link.zip'))).toMatchObject({ status: 400, body: { message: '"models/m.onnx" is a symbolic link: a generation archive holds only regular files and folders' } });
    expect(await t.call('POST', path('imports/dots.tar.gz'))).toMatchObject({ status: 400, body: { message: '"../../service.json" leads out of the archive (..)' } });
  });

  it('over real HTTP on Node, answers a refused upload before reading all of it, and keeps serving', async () => {
    const t = await adminTestApp();
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/api${upload}`;
    try {
      // A symlink first, then 8 MiB that does not compress: refused at the first header.
      const pad = noise(8 * MiB);
      const archive = gzipSync(await packTar([{ header: { name: 'x', type: 'symlink', size: 0, linkname: '/' } }, { header: { name: 'pad', size: pad.length }, body: pad }]), { level: 1 });
      const res = await fetch(url, { method: 'POST', headers: adminAuth, body: archive });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/symbolic link/);
      expect((await fetch(url.replace(/generations$/, ''), { headers: adminAuth })).status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
