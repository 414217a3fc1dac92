// Captures the first flight real TLS clients send: a plain TCP server records bytes until the first
// handshake message is complete, then drops the connection.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { firstHandshakeMessage } from './tls-records.js';
import { WAIT_MS } from './eventually.js';

/** What a client sent before the capture server hung up. */
export interface CapturedHello {
  /** Every byte received, as it came (records included). */
  raw: Buffer;
  /** The first handshake message, reassembled from its records. */
  message: Buffer;
}

/**
 * Starts a capture server, lets `startClient(port)` connect to it, and resolves with the first
 * ClientHello received. `startClient` returns a function that stops the client.
 */
export async function captureClientHello(
  startClient: (port: number) => () => void,
  timeoutMs = WAIT_MS,
): Promise<CapturedHello> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let stop: (() => void) | undefined;
  try {
    return await new Promise<CapturedHello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ClientHello captured')), timeoutMs);
      server.on('connection', (socket) => {
        const parts: Buffer[] = [];
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          const raw = Buffer.concat(parts);
          const found = firstHandshakeMessage(raw);
          if (found === undefined) return;
          clearTimeout(timer);
          socket.destroy();
          resolve({ raw, message: Buffer.from(found.message) });
        });
      });
      stop = startClient(port);
    });
  } finally {
    stop?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A `startClient` for {@link captureClientHello} using Node's `tls.connect`. */
export function nodeClient(options: tls.ConnectionOptions): (port: number) => () => void {
  return (port) => {
    const socket = tls.connect({ host: '127.0.0.1', rejectUnauthorized: false, ...options, port });
    socket.on('error', () => {});
    return () => socket.destroy();
  };
}

/** A `startClient` for {@link captureClientHello} running `openssl s_client` with `args`. */
export function opensslClient(args: string[]): (port: number) => () => void {
  return (port) => {
    const child = spawnSClient(port, args);
    return () => stopChild(child);
  };
}

/** Spawns `openssl s_client` against 127.0.0.1:port (stdin kept open so it does not quit early). */
export function spawnSClient(port: number, args: string[]): ChildProcess {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  return child;
}

/** Stops a child we started, by its own handle (never by name). */
export function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

/** Result of {@link runSClient}. */
export interface SClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `openssl s_client` to completion against 127.0.0.1:port: `-ign_eof` keeps it reading until
 * the server closes, so TLS 1.3 tickets (and `-sess_out`) arrive before it exits.
 */
export function runSClient(port: number, args: string[], timeoutMs = 10_000): Promise<SClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawnSClient(port, ['-ign_eof', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.end();
    const timer = setTimeout(() => {
      stopChild(child);
      reject(new Error(`s_client timed out: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
