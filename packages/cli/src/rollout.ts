import type { APINodeAdminClient } from '@apinode/client';
import type { RolloutFigures, RolloutState, RolloutStatus } from '@apinode/protocol';
import { UsageError } from './output.js';

export const ROLLOUT_USAGE = `  rollout     start <service> <generation> --steps 10,50,100 --every 10m --max-error-rate 1% [--max-p99-ms 200] [--min-requests N]
              | status <service> | check <service> | promote <service> | abort <service>   (docs/rollouts.md)`;

/** The options `rollout start` reads (registered with parseArgs in main.ts). */
export interface RolloutFlags {
  steps?: string | undefined;
  every?: string | undefined;
  'max-error-rate'?: string | undefined;
  'max-p99-ms'?: string | undefined;
  'min-requests'?: string | undefined;
}

export const ROLLOUT_OPTIONS = {
  steps: { type: 'string' },
  every: { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ms': { type: 'string' },
  'min-requests': { type: 'string' },
} as const;

const START = 'e.g. apinode-admin rollout start demo v3 --steps 10,50,100 --every 10m --max-error-rate 1% --max-p99-ms 200';

/** "10,50,100" -> [10, 50, 100] */
function steps(v: string | undefined): number[] {
  if (!v) throw new UsageError('missing --steps', START);
  const out = v.split(',').map((s) => Number(s.trim().replace(/%$/, '')));
  if (out.some((n) => !Number.isFinite(n))) throw new UsageError(`--steps "${v}" is not a list of percentages`, START);
  return out;
}

/** "90s", "10m", "1h", "1d" (or plain seconds) -> seconds */
export function duration(v: string | undefined): number {
  if (!v) throw new UsageError('missing --every', START);
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new UsageError(`--every "${v}" is not a duration`, 'write it as 90s, 10m, 1h or 1d');
  return Math.round(Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd']);
}

/** "1%" -> 0.01; "0.01" -> 0.01 */
export function rate(v: string | undefined): number {
  if (!v) throw new UsageError('missing --max-error-rate', START);
  const pct = v.trim().endsWith('%');
  const n = Number(pct ? v.trim().slice(0, -1) : v);
  if (!Number.isFinite(n) || n < 0 || (pct ? n > 100 : n > 1)) throw new UsageError(`--max-error-rate "${v}" is not a rate`, 'write a percentage (1%, 0.5%) or a fraction from 0 to 1 (0.01)');
  return pct ? n / 100 : n;
}

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} "${v}" is not a number`, START);
  return n;
}

const pct = (x: number) => `${Math.round(x * 10_000) / 100}%`;
const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function figures(f: RolloutFigures): string {
  const p99 = f.p99Ms === null ? (f.requests ? 'p99 above 5000 ms' : 'no p99') : `p99 ${Math.round(f.p99Ms * 10) / 10} ms`;
  return `${f.requests} requests, ${f.serverErrors} 5xx${f.errorRate === null ? '' : ` (${pct(f.errorRate)})`}, ${p99}`;
}

function state(s: RolloutState): string {
  const lines = [`${s.serviceId}: rollout of ${s.generation} ${s.phase}${s.phase === 'running' ? `, step ${s.step + 1} of ${s.steps.length} (${s.steps[s.step]}%)` : ''}${s.reason ? `: ${s.reason}` : ''}`];
  lines.push(`  thresholds: 5xx rate at most ${pct(s.maxErrorRate)}${s.maxP99Ms !== undefined ? `, p99 at most ${s.maxP99Ms} ms` : ''}, judged from ${s.minRequests} requests; steps ${s.steps.join(', ')}% every ${s.everyS} s`);
  for (const e of s.history) lines.push(`  ${time(e.at)}  ${e.action.padEnd(8)} ${String(e.percent).padStart(5)}%  ${e.by ?? ''}${e.figures ? `  (${figures(e.figures)})` : ''}`);
  return lines.join('\n');
}

function status(st: RolloutStatus): string {
  const lines = [state(st.rollout)];
  if (st.current) lines.push(`  this step so far: ${figures(st.current)}`);
  if (st.nextStepAt) lines.push(`  next step due at ${time(st.nextStepAt)} if the figures stay within the thresholds`);
  return lines.join('\n');
}

/** apinode-admin rollout <verb>: drives the admin API's /services/{id}/rollout routes. */
export async function rolloutCommand(
  verb: string | undefined,
  args: string[],
  f: RolloutFlags,
  client: () => APINodeAdminClient,
  show: (v: unknown, human: () => string) => void,
): Promise<void> {
  const service = () => {
    if (!args[0]) throw new UsageError('missing <service>', `apinode-admin rollout ${verb} <service>`);
    return args[0];
  };
  switch (verb) {
    case 'start': {
      const generation = args[1];
      if (!args[0] || !generation) throw new UsageError('missing <service> <generation>', START);
      const maxP99Ms = number('max-p99-ms', f['max-p99-ms']);
      const minRequests = number('min-requests', f['min-requests']);
      const s = await client().startRollout(args[0], {
        generation,
        steps: steps(f.steps),
        everyS: duration(f.every),
        maxErrorRate: rate(f['max-error-rate']),
        ...(maxP99Ms !== undefined ? { maxP99Ms } : {}),
        ...(minRequests !== undefined ? { minRequests } : {}),
      });
      return show(s, () => state(s));
    }
    case 'status': {
      const st = await client().rolloutStatus(service());
      return show(st, () => status(st));
    }
    case 'check': {
      const st = await client().checkRollout(service());
      return show(st, () => status(st));
    }
    case 'promote': {
      const s = await client().promoteRollout(service());
      return show(s, () => state(s));
    }
    case 'abort': {
      const s = await client().abortRollout(service());
      return show(s, () => state(s));
    }
    default:
      throw new UsageError(`unknown command "rollout ${verb ?? ''}"`.trim(), 'apinode-admin --help lists the commands');
  }
}
