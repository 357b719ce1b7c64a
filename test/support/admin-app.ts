import type { Ports } from '../../src/app.js';
import { jsonLogger } from '../../src/observability/logger.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { packTarGz } from '../../src/services/archive.js';
import { demoGenerationAs } from './demo-archive.js';
import { demoRecords } from './demo-records.js';
import { testApp } from './node-app.js';
import { tempStore } from './stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export const ADMIN = 'admin-bootstrap-key-0123456789';
export const adminAuth = { Authorization: `Basic ${btoa(`${ADMIN}:`)}` };
const car = demoRecords(3)['car-mpg']![0]!;

/**
 * The app in-process with the admin API on, the demo seeded (key "demo-key"), every log line
 * captured (audit lines included), and helpers to call the admin API and predict.
 */
export async function adminTestApp(env: Record<string, string> = {}, ports: Partial<Ports> = {}) {
  const { store } = await tempStore();
  await seedDemo(store, 'demo-key');
  const audit: Json[] = [];
  const log = jsonLogger((line) => audit.push(JSON.parse(line)));
  const built = testApp(store, { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0', ...env }, { log, ...ports });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = adminAuth) => {
    const init: RequestInit = { method, headers };
    if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const res = await built.app.request(`/admin/api${path}`, init);
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as Json) : await res.text() } as { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const predict = (service: string, key: string | null, extra: Json = {}) =>
    built.app.request(`/public/api/v1/${service}/car-mpg/predict`, {
      method: 'POST',
      headers: key ? { Authorization: `Bearer ${key}` } : {},
      body: JSON.stringify({ features: car, ...extra }),
    });
  const importGen = async (service: string, gen: string, createdAt: string, edit?: (m: Json) => void) =>
    call('POST', `/services/${service}/generations`, packTarGz(await demoGenerationAs('v1', gen, createdAt, edit)));
  return { ...built, store, audit, call, predict, importGen };
}
