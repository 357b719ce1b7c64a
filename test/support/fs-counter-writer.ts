// One process of the cross-process test in test/unit/fs-object-store.test.ts: increments a
// counter in a local-folder store N times, each a read-modify-write with conditional writes.
// Usage: node --import tsx fs-counter-writer.ts DIR KEY WRITER_ID N
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { StoredObject } from '../../src/storage/object-store.js';
import { updateJson } from '../../src/storage/update.js';

const [dir, key, writer, times] = process.argv.slice(2) as [string, string, string, string];
const store = new FsObjectStore(dir);
const parse = (o: StoredObject | null) => (o ? (JSON.parse(new TextDecoder().decode(o.body)) as { n: number; by: string[] }) : { n: 0, by: [] });
for (let i = 0; i < Number(times); i++) {
  await updateJson(store, key, parse, (c) => ({ n: c.n + 1, by: [...c.by, writer] }), { attempts: 200, baseDelayMs: 2, maxDelayMs: 50 });
}
