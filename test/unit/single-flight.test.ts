import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../src/services/single-flight.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SingleFlight', () => {
  it('runs one task for concurrent callers of a key', async () => {
    const sf = new SingleFlight<number>();
    let runs = 0;
    const task = async () => (runs++, await tick(), 7);
    expect(await Promise.all([sf.run('k', task), sf.run('k', task), sf.run('k', task)])).toEqual([7, 7, 7]);
    expect(runs).toBe(1);
  });

  it('lets a caller that joined a failed task retry once with its own (a cancelled request on Workers)', async () => {
    const sf = new SingleFlight<string>();
    const starter = sf.run('k', async () => {
      await tick();
      throw new Error('the starting request went away');
    });
    const joiner = sf.run('k', async () => 'loaded by the joiner');
    await expect(starter).rejects.toThrow('went away');
    expect(await joiner).toBe('loaded by the joiner');
  });

  it('still surfaces a failure that is the task’s own', async () => {
    const sf = new SingleFlight<string>();
    let runs = 0;
    const broken = async () => {
      runs++;
      await tick();
      throw new Error('bad model');
    };
    const results = await Promise.allSettled([sf.run('k', broken), sf.run('k', broken), sf.run('k', broken)]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    // the first load, then one shared retry for the callers that had joined it
    expect(runs).toBe(2);
  });

  it('starts afresh after a failure', async () => {
    const sf = new SingleFlight<number>();
    await expect(sf.run('k', async () => Promise.reject(new Error('x')))).rejects.toThrow();
    expect(await sf.run('k', async () => 1)).toBe(1);
  });
});
