import { describe, expect, it } from 'vitest';
import { EMF_NAMESPACE, EmfBatch } from '../../src/observability/emf.js';

interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}
const T = 1_767_225_600_000;
const drain = (batch: EmfBatch): EmfLine[] => batch.drain(T).map((l) => JSON.parse(l) as EmfLine);

describe('CloudWatch embedded metrics (EMF)', () => {
  it('writes one line per series an invocation touched, with what it did, in the EMF shape, then starts afresh', () => {
    // GIVEN an invocation that answered one request of v2 in 7.25 ms (Metrics.record's arguments)
    const batch = new EmfBatch();
    batch.record('demo', 'car-mpg', 'v2', 7.25, 3, undefined);
    // WHEN drained / THEN one line: v2, one request, its latency
    expect(drain(batch)).toEqual([
      {
        _aws: {
          Timestamp: T,
          CloudWatchMetrics: [
            {
              Namespace: 'apinode',
              Dimensions: [['Service', 'Generation'], ['Service', 'Endpoint', 'Generation']],
              Metrics: [
                { Name: 'Requests', Unit: 'Count' },
                { Name: 'Errors', Unit: 'Count' },
                { Name: 'ClientErrors', Unit: 'Count' },
                { Name: 'Latency', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        Service: 'demo',
        Endpoint: 'car-mpg',
        Generation: 'v2',
        Requests: 1,
        Errors: 0,
        ClientErrors: 0,
        Latency: 7.25,
      },
    ]);
    // the next invocation starts from nothing
    expect(batch.drain(T)).toEqual([]);
  });

  it('counts 5xx answers as Errors and 4xx as ClientErrors, by the status of each errorType, one latency per request', () => {
    const batch = new EmfBatch();
    // MODEL_RUN_FAILED is a 500, GENERATION_CORRUPT a 503, INVALID_RECORD a 400 (packages/protocol ERROR_TYPES)
    batch.record('demo', 'penguin-species', 'v2', 3, 0, 'MODEL_RUN_FAILED');
    batch.record('demo', 'penguin-species', 'v2', 5, 0, 'GENERATION_CORRUPT');
    batch.record('demo', 'penguin-species', 'v2', 1, 0, 'INVALID_RECORD');
    batch.record('demo', 'penguin-species', 'v2', 2.5, 1, undefined);
    batch.record('demo', 'penguin-species', 'v1', 4, 1, undefined);
    const lines = drain(batch);
    expect(lines.map((l) => [l.Generation, l.Requests, l.Errors, l.ClientErrors, l.Latency])).toEqual([
      ['v2', 4, 2, 1, [3, 5, 1, 2.5]],
      ['v1', 1, 0, 0, 4],
    ]);
  });

  it('leaves out requests that reached no generation', () => {
    const batch = new EmfBatch();
    // An unknown service, refused credentials: recorded under generation "-"; the overflow series
    batch.record('no-such-service', 'x', '-', 1, 0, 'SERVICE_NOT_FOUND');
    batch.record('demo', 'car-mpg', '-', 1, 0, 'INVALID_CREDENTIALS');
    batch.record('(other)', '(other)', '(other)', 1, 0, undefined);
    expect(batch.drain(T)).toEqual([]);
  });

  it('does not let a caller mint an Endpoint dimension by asking for an endpoint that does not exist', () => {
    const batch = new EmfBatch();
    batch.record('demo', 'invented-by-caller', 'v2', 1, 0, 'ENDPOINT_NOT_FOUND');
    const [line] = drain(batch);
    expect(line!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Service', 'Generation']]);
    expect(line).toMatchObject({ Service: 'demo', Generation: 'v2', Requests: 1, ClientErrors: 1, Errors: 0 });
  });

  it('stays bounded: 100 latency values a line (CloudWatch\'s limit), 100 series a batch', () => {
    const batch = new EmfBatch();
    for (let i = 0; i < 250; i++) batch.record('s', 'e', 'g', i, 1, undefined);
    for (let i = 0; i < 500; i++) batch.record('s', `e${i}`, 'g', 1, 1, undefined);
    const lines = drain(batch);
    expect(lines).toHaveLength(100);
    expect(lines[0]).toMatchObject({ Endpoint: 'e', Requests: 250 });
    expect(lines[0]!.Latency).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('uses the namespace the CDK dashboards search', async () => {
    const { EMF_NAMESPACE: dashboards } = await import('../../infra/lib/dashboard.js');
    expect(EMF_NAMESPACE).toBe(dashboards);
  });
});
