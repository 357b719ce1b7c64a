import { QUERY_LOG_VERSION, queryLogHourPrefix, queryLogKey, queryLogLineSchema, type QueryLogLine } from '@apinode/protocol';
import { describe, expect, it } from 'vitest';

const line: QueryLogLine = {
  v: 1,
  time: '2026-12-02T05:07:08.123Z',
  requestId: 'r1',
  serviceId: 's',
  endpointId: 'e',
  generation: 'g1',
  action: 'predict',
  record: 0,
  caller: 'alice',
  features: { x: 1 },
  context: null,
  result: { prediction: 'a' },
  timing: { preProcessing: 12, wait: 0 },
  status: 'ok',
};

describe('the query-log line schema', () => {
  it('is version 1 and accepts an ok line and an error line', () => {
    expect(QUERY_LOG_VERSION).toBe(1);
    expect(queryLogLineSchema.parse(line)).toEqual(line);
    const failed = { ...line, features: null, result: null, status: 'error', error: { type: 'MODEL_RUN_FAILED', httpStatus: 500 } };
    expect(queryLogLineSchema.parse(failed)).toEqual(failed);
  });

  it('refuses another version, a negative record index, an unknown status and non-numeric timings', () => {
    for (const bad of [{ v: 2 }, { record: -1 }, { record: 0.5 }, { status: 'maybe' }, { timing: { wait: 'slow' } }, { caller: 3 }]) {
      expect(queryLogLineSchema.safeParse({ ...line, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
    const missing: Partial<QueryLogLine> = { ...line };
    delete missing.requestId;
    expect(queryLogLineSchema.safeParse(missing).success).toBe(false);
  });
});

describe('the partition of a query-log batch', () => {
  const time = new Date(Date.UTC(2026, 0, 5, 3, 59, 59, 999));

  it('is hive style, in UTC, with the sequence on six digits', () => {
    expect(queryLogKey({ serviceId: 'svc', endpointId: 'ep.1', time, instance: 'abc123', seq: 42 })).toBe(
      'querylog/service=svc/endpoint=ep.1/date=2026-01-05/hour=03/abc123-000042.ndjson.gz',
    );
    expect(queryLogHourPrefix({ prefix: 'logs/q/', serviceId: 'svc', endpointId: 'e', time })).toBe('logs/q/service=svc/endpoint=e/date=2026-01-05/hour=03/');
  });

  it('uses the UTC hour whatever the local time zone, and rolls over at midnight', () => {
    const midnight = new Date('2026-12-31T23:59:59.999+00:00');
    expect(queryLogHourPrefix({ serviceId: 's', endpointId: 'e', time: midnight })).toBe('querylog/service=s/endpoint=e/date=2026-12-31/hour=23/');
    expect(queryLogHourPrefix({ serviceId: 's', endpointId: 'e', time: new Date(midnight.getTime() + 1) })).toBe('querylog/service=s/endpoint=e/date=2027-01-01/hour=00/');
  });

  it('never lets an id add a path segment or climb out of its partition', () => {
    const key = queryLogKey({ serviceId: '../x', endpointId: 'a/b=c', time, instance: 'i/../j', seq: 0 });
    expect(key).toBe('querylog/service=%2E.%2Fx/endpoint=a%2Fb%3Dc/date=2026-01-05/hour=03/i%2F..%2Fj-000000.ndjson.gz');
    expect(key.split('/')).toHaveLength(6);
  });

  it('keys of one instance sort by sequence number', () => {
    const keys = [7, 100, 3, 99_999].map((seq) => queryLogKey({ serviceId: 's', endpointId: 'e', time, instance: 'i', seq }));
    expect([...keys].sort()).toEqual([3, 7, 100, 99_999].map((seq) => queryLogKey({ serviceId: 's', endpointId: 'e', time, instance: 'i', seq })));
  });

  it('refuses an invalid time or sequence number', () => {
    expect(() => queryLogKey({ serviceId: 's', endpointId: 'e', time: new Date(NaN), instance: 'i', seq: 0 })).toThrow(RangeError);
    expect(() => queryLogKey({ serviceId: 's', endpointId: 'e', time, instance: 'i', seq: -1 })).toThrow(RangeError);
  });
});
