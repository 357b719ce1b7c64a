import { gzipSync, zipSync } from 'fflate';
import { packTar } from 'modern-tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB, gzipZeros, patchZip, tarGzBomb } from '../support/archive-bombs.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { buildWorker, startWorkerd, type Workerd } from './workerd.js';

const ADMIN_KEY = 'workers-archive-admin-key-0123456789';
const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The deployable bundle in workerd: the upload is the request's Web stream, read with the
// Workers runtime's own streams, fflate and modern-tar (no node: module).
describe('generation archives on Workers (workerd)', () => {
  let w: Workerd;
  beforeAll(async () => {
    w = await startWorkerd(await buildWorker(), { vars: { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN_KEY, APINODE_QUERY_LOG: 'off', APINODE_CONFIG_TTL_S: '0', APINODE_MAX_IMPORT_FILE_BYTES: String(MiB) }, demoKey: 'workers-archive-demo-key' });
  });
  afterAll(() => w?.close());

  const post = async (body: Uint8Array) => {
    const res = await w.fetch('/admin/api/services/demo/generations', { method: 'POST', headers: admin, body: body as Uint8Array<ArrayBuffer> });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('imports the demo generation from a zip', async () => {
    expect(await post(zipSync(Object.fromEntries(await demoGenerationAs('v1', 'wz', '2026-11-05T00:00:00Z'))))).toMatchObject({ status: 201, body: { generation: 'wz' } });
  });

  it('stops bombs at the limit and refuses what a generation never holds, in the Worker\'s words', async () => {
    expect(await post(tarGzBomb('models/huge.onnx', 64 * MiB))).toMatchObject({ status: 413, body: { errorType: 'PAYLOAD_TOO_LARGE', message: `"models/huge.onnx" unpacks to more than ${MiB} bytes` } });
    expect(await post(gzipZeros(64 * MiB, await packTar([{ header: { name: 'manifest.json', size: 2 }, body: '{}' }])))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/belong to no file/) } });
    const lying = patchZip(zipSync({ 'manifest.json': new TextEncoder().encode('{}'), 'm.onnx': new Uint8Array(4 * MiB) }), 'm.onnx', { size: 100 });
    expect(await post(lying)).toMatchObject({ status: 400, body: { message: 'The archive is corrupt: "m.onnx" unpacks to more than the 100 bytes the zip declares' } });
    expect(await post(gzipSync(await packTar([{ header: { name: 'evil', type: 'symlink', size: 0, linkname: '/' } }])))).toMatchObject({ status: 400, body: { errorType: 'INVALID_ARCHIVE', message: expect.stringMatching(/symbolic link/) } });
  });
});
