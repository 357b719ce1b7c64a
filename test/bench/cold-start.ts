/**
 * Cold starts, side by side. Node: spawn of `node dist/node/node.mjs` (what `npm start` runs) to
 * the first answered predict, against spawn of the bare echo built the same way to its first
 * answer, alternating, on a data folder already seeded. Lambda: the BUILT bundle
 * (dist/lambda/index.mjs) imported by a fresh Node process with a real API Gateway v2 event
 * (lambda-cold.mjs), bucket on a real S3-protocol server on loopback (s3rver).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { LocalS3 } from '../s3/s3-server.js';
import { ECHO_ENTRY, NODE_ENTRY, firstAnswer, median, spread, startProc } from './servers.js';
import { KEY, auth, predictBody } from './throughput.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

export async function nodeColdStart(env: Record<string, string>, runs: number): Promise<{ lines: string[]; ratio: number; cpuRatio: number; node: number[]; echo: number[] }> {
  const predict = { method: 'POST', headers: auth, body: predictBody('penguin-species', 'v2') };
  const cpu: Record<string, number[]> = { [NODE_ENTRY]: [], [ECHO_ENTRY]: [] };
  /** Wall ms from spawn to the first answer; the process's CPU ms by then is kept too (less sensitive to a loaded machine). */
  const once = async (entry: string, path: string) => {
    const p = await startProc(entry, env);
    try {
      const ms = await firstAnswer(p.url + path, predict, p.spawnedAt);
      cpu[entry]!.push(p.cpuUs() / 1000);
      return ms;
    } finally {
      await p.stop();
    }
  };
  await once(NODE_ENTRY, '/public/api/v1/demo/penguin-species/predict'); // seeds the folder
  cpu[NODE_ENTRY] = [];
  const node: number[] = [];
  const echo: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(await once(NODE_ENTRY, '/public/api/v1/demo/penguin-species/predict'));
    echo.push(await once(ECHO_ENTRY, '/echo'));
    ratios.push(node.at(-1)! / echo.at(-1)!);
  }
  const lines = [
    `| spawn to first answer, ${runs} runs each, alternating | wall ms, median (min-max) | process CPU ms by then |`,
    '|---|---|---|',
    `| \`node ${NODE_ENTRY}\` (npm start), first predict penguin-species v2, folder seeded | ${spread(node)} | ${spread(cpu[NODE_ENTRY]!)} |`,
    `| \`node ${ECHO_ENTRY}\` (bare Hono echo, same adapter, same build), first echo | ${spread(echo)} | ${spread(cpu[ECHO_ENTRY]!)} |`,
    `| ratio node / echo (per pair) | ${spread(ratios, 1)}x | ${(median(cpu[NODE_ENTRY]!) / median(cpu[ECHO_ENTRY]!)).toFixed(1)}x (medians) |`,
  ];
  return { lines, ratio: median(ratios), cpuRatio: median(cpu[NODE_ENTRY]!) / median(cpu[ECHO_ENTRY]!), node, echo };
}

/** onnxruntime-web against onnxruntime-node: a fresh process to a session on penguin-species v2 (ort-cold.mjs). */
export async function ortColdStart(runs: number): Promise<string[]> {
  const lines = ['| fresh process: import + first session (penguin-species v2) | import ms | session ms | process start to session ms | CPU ms |', '|---|---|---|---|---|'];
  for (const pkg of ['onnxruntime-web', 'onnxruntime-node']) {
    const rs: { importMs: number; sessionMs: number; sinceStartMs: number; cpuMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(process.execPath, ['test/bench/ort-cold.mjs', pkg, 'examples/demo/generations/v2/models/penguin-species.onnx'], { cwd: ROOT });
      rs.push(JSON.parse(stdout.trim()) as (typeof rs)[number]);
    }
    lines.push(`| ${pkg}${pkg === 'onnxruntime-web' ? ' (WASM, what the node runs)' : ' (native)'} | ${spread(rs.map((r) => r.importMs))} | ${spread(rs.map((r) => r.sessionMs))} | ${spread(rs.map((r) => r.sinceStartMs))} | ${spread(rs.map((r) => r.cpuMs))} |`);
  }
  return lines;
}

interface LambdaRun {
  status: number;
  nodeStartMs: number;
  initMs: number;
  firstMs: number;
  secondMs: number;
  compiles: number;
  compiled: string[];
  rssMiB: number;
}

export async function lambdaColdStart(runs: number): Promise<{ lines: string[]; noPreloadMs: number; rssMiB: number }> {
  await run('npm', ['run', 'build'], { cwd: ROOT });
  const s3 = await LocalS3.start();
  try {
    await seedDemo(s3.store(), KEY);
    const lines = [
      `| Lambda, fresh process, ${runs} runs each | Node start ms | init ms (start + import of the bundle, handler built, preload) | first answer ms | second answer ms | init + first ms | WebAssembly compilations | RSS MiB after |`,
      '|---|---|---|---|---|---|---|---|',
    ];
    let noPreloadMs = 0;
    let rssMiB = 0;
    for (const preload of ['', 'demo']) {
      const rs: LambdaRun[] = [];
      for (let i = 0; i < runs; i++) {
        const { stdout } = await run(process.execPath, ['test/bench/lambda-cold.mjs', `${ROOT}dist/lambda/index.mjs`, predictBody('penguin-species', 'v2'), KEY], {
          cwd: ROOT,
          env: { ...process.env, ...s3.env, APINODE_PRELOAD: preload, AWS_LAMBDA_FUNCTION_NAME: 'apinode-bench' },
        });
        const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as LambdaRun;
        if (r.status !== 200) throw new Error(`Lambda cold start answered ${r.status}: ${stdout}`);
        rs.push(r);
      }
      const total = rs.map((r) => r.initMs + r.firstMs);
      if (!preload) noPreloadMs = median(total);
      rssMiB = Math.max(rssMiB, ...rs.map((r) => r.rssMiB));
      lines.push(
        `| ${preload ? 'APINODE_PRELOAD=demo (v1 and v2, every endpoint)' : 'no preload'} | ${spread(rs.map((r) => r.nodeStartMs))} | ${spread(rs.map((r) => r.initMs))} | ${spread(rs.map((r) => r.firstMs))} | ${spread(rs.map((r) => r.secondMs), 1)} | ${spread(total)} | ${[...new Set(rs.map((r) => r.compiled.join(' + ')))].join('; ')} | ${spread(rs.map((r) => r.rssMiB))} |`,
      );
    }
    return { lines, noPreloadMs, rssMiB };
  } finally {
    await s3.destroy();
  }
}
