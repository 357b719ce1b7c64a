import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { type PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { WebSocketServer } from 'ws';

/**
 * A real Postgres wire-protocol server (PGlite behind pglite-socket) reached over WebSocket,
 * the way the Neon driver reaches Postgres: a small WebSocket-to-TCP bridge in between.
 */
export async function startPgOverWebSocket(db: PGlite): Promise<{ wsProxy: string; close(): Promise<void> }> {
  // Several connections: runtimes that open one per call (Workers) overlap their closes.
  const pg = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await pg.start();
  const pgPort = ((pg as unknown as { server: net.Server }).server.address() as AddressInfo).port;
  const bridge = await wsToTcpBridge('127.0.0.1', pgPort);
  return {
    wsProxy: bridge.address,
    close: async () => {
      await bridge.close();
      await pg.stop();
    },
  };
}

/** WebSocket server forwarding each connection's bytes to a TCP port (what websockify does). */
export async function wsToTcpBridge(host: string, port: number): Promise<{ address: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    const tcp = net.connect(port, host);
    ws.on('message', (d) => tcp.write(d as Buffer));
    tcp.on('data', (d) => ws.send(d));
    ws.on('close', () => tcp.end());
    tcp.on('close', () => ws.close());
    tcp.on('error', () => ws.terminate());
  });
  return {
    address: `127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((done) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => done());
      }),
  };
}
