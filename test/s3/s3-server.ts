import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';

export const BUCKET = 'apinode-test';
/** s3rver accepts signed requests only with its own credentials. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const SERVER_SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

/**
 * A real S3-protocol server (s3rver, in a child process) on a loopback port, in a temp folder.
 * stop() kills it (connections refused); start() brings it back on the same port with the same data.
 */
export class LocalS3 {
  private child: ChildProcess | null = null;
  private constructor(
    readonly dir: string,
    public port: number,
  ) {}

  static async start(): Promise<LocalS3> {
    const s3 = new LocalS3(await mkdtemp(join(tmpdir(), 'apinode-s3-')), 0);
    await s3.start();
    return s3;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The variables the Lambda entry reads to reach this server. */
  get env(): Record<string, string> {
    return {
      APINODE_S3_BUCKET: BUCKET,
      APINODE_S3_ENDPOINT: this.endpoint,
      APINODE_S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    };
  }

  store(prefix?: string, listPageSize?: number): S3ObjectStore {
    return new S3ObjectStore({ bucket: BUCKET, prefix, listPageSize, endpoint: this.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3_CREDENTIALS });
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER_SCRIPT, this.dir, String(this.port), BUCKET], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    const [line] = (await Promise.race([once(createInterface({ input: child.stdout! }), 'line'), once(child, 'exit').then(() => [null])])) as [string | null];
    if (!line) throw new Error('s3rver did not start (see its stderr above)');
    this.port = Number(line);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
