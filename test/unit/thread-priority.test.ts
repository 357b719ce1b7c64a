import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const linux = existsSync('/proc/thread-self');
/** The nice value of one thread of this process, read from the kernel (field 19 of stat). */
const niceOf = (tid: number) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

describe.skipIf(!linux)('lowerThreadPriority', () => {
  it('lowers the calling thread only, not the process', async () => {
    const before = niceOf(process.pid);
    const url = new URL('../../src/runtime/thread-priority.ts', import.meta.url).href;
    // The worker loads tsx's loader itself (workers ignore --import in execArgv on Node 20).
    const worker = new Worker(
      `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); }).then((m) => {
        const ok = m.lowerThreadPriority();
        const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
        require('node:worker_threads').parentPort.postMessage({ ok, tid });
      });`,
      { eval: true },
    );
    const { ok, tid } = await new Promise<{ ok: boolean; tid: number }>((resolve, reject) => worker.once('message', resolve).once('error', reject));
    try {
      expect(ok).toBe(true);
      expect(niceOf(tid)).toBe(10);
      expect(niceOf(process.pid)).toBe(before);
    } finally {
      await worker.terminate();
    }
  });
});
