import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { type PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { WebSocketServer } from 'ws';

/**
 * A real Postgres wire-protocol server (PGlite behind pglite-socket) reached over WebSocket,
 * the way the Neon driver reaches Postgres: a small WebSocket-to-TCP bridge in between.
 */
export async function startPgOverWebSocket(db: PGlite): Promise<{ wsProxy: string; bridge: Bridge; close(): Promise<void> }> {
  // Several connections: runtimes that open one per call (Workers) overlap their closes.
  const pg = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await pg.start();
  const pgPort = ((pg as unknown as { server: net.Server }).server.address() as AddressInfo).port;
  const bridge = await wsToTcpBridge('127.0.0.1', pgPort);
  return {
    wsProxy: bridge.address,
    bridge,
    close: async () => {
      await bridge.close();
      await pg.stop();
    },
  };
}

/** A bridge's controls: `stall()` makes every connection it holds (and every new one) go silent, both ways. */
export interface Bridge {
  readonly address: string;
  /** Client connections (WebSocket) the bridge has accepted so far, and how many are still open. */
  readonly connections: { opened: number; open: number };
  stall(stalled: boolean): void;
  close(): Promise<void>;
}

/** WebSocket server forwarding each connection's bytes to a TCP port (what websockify does). */
export async function wsToTcpBridge(host: string, port: number): Promise<Bridge> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const connections = { opened: 0, open: 0 };
  let stalled = false;
  wss.on('connection', (ws) => {
    const tcp = net.connect(port, host);
    connections.opened++;
    connections.open++;
    // A stalled bridge drops what passes: the database has "stopped answering".
    ws.on('message', (d) => stalled || tcp.write(d as Buffer));
    tcp.on('data', (d) => stalled || ws.send(d));
    ws.on('close', () => {
      connections.open--;
      tcp.end();
    });
    tcp.on('close', () => ws.close());
    tcp.on('error', () => ws.terminate());
  });
  return {
    address: `127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    connections,
    stall: (s) => void (stalled = s),
    close: () =>
      new Promise((done) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => done());
      }),
  };
}

/** A TCP server that accepts connections, reads, and never answers: a database that hangs. */
export async function silentTcpServer(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.resume(); // reads what it is sent, answers nothing
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}

/** A WebSocket server that accepts connections and never sends a byte: a WebSocket proxy (or Neon) that hangs. */
export async function silentWebSocketServer(): Promise<{ wsProxy: string; open(): number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  return {
    wsProxy: `127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    open: () => wss.clients.size,
    close: () =>
      new Promise((done) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => done());
      }),
  };
}
