/**
 * The seed corpus: real ClientHellos and real serialized sessions, captured once per run on
 * loopback. Nothing here is hand-made: every hello was written by Node's `tls.connect` or by
 * `openssl s_client`, every session by OpenSSL's `i2d_SSL_SESSION` during an actual handshake.
 *
 * 1. A real `tls.Server` (stateful options, `attach()`ed to a `SessionCache`, optional client
 *    certificates) hands out TLS 1.2 session ids and TLS 1.3 stateful tickets; the server-side
 *    sessions (DER), Node's client-side sessions (DER) and `s_client -sess_out` files (PEM) are kept.
 * 2. A plain TCP capture server records what each client sends until its first handshake message
 *    is complete, then hangs up: TLS 1.2 / 1.3, with and without SNI and ALPN, offering a TLS 1.2
 *    session id, a TLS 1.3 stateful ticket (PSK identity), an external TLS 1.3 PSK, no legacy
 *    session id (`-no_middlebox`), and a hello big enough (a 20 KB ALPN list) to span two records.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { SessionCache } from '../src/cache/session-cache.js';
import { attach } from '../src/node/attach.js';
import { statefulServerOptions } from '../src/node/stateful-options.js';
import { firstHandshakeMessage } from './bytes.js';

/** One captured ClientHello. */
export interface CorpusHello {
  name: string;
  /** The records that carried the hello, as they came off the wire (nothing after them). */
  wire: Buffer;
  /** The handshake message, reassembled. */
  message: Buffer;
  /** How many records carried it. */
  records: number;
}

/** One real serialized session. */
export interface CorpusSession {
  name: string;
  der: Buffer;
}

/** Everything the targets mutate. */
export interface Corpus {
  hellos: CorpusHello[];
  sessions: CorpusSession[];
  /** PEM files written by `openssl s_client -sess_out`. */
  pems: { name: string; text: string }[];
  /** Milliseconds the capture took. */
  captureMs: number;
}

interface Pki {
  dir: string;
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-fuzz-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,DNS:example.com',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    dir,
    keyFile,
    certFile,
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
  };
}

/** A real server that issues stateful sessions; it answers "ok" and closes. */
async function startRealServer(pki: Pki) {
  const sessions: CorpusSession[] = [];
  const server = tls.createServer({
    key: pki.key,
    cert: pki.cert,
    ...statefulServerOptions({ sessionIdContext: 'fuzz-corpus' }),
    ALPNProtocols: ['h2', 'http/1.1'],
    requestCert: true,
    rejectUnauthorized: false,
  });
  const cache = new SessionCache({
    onNew: (s) => {
      sessions.push({ name: `server-${sessions.length}`, der: Buffer.from(s.data) });
    },
  });
  const attachment = attach(server, cache);
  server.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    socket.end('ok\n');
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sessions,
    close: async () => {
      attachment.detach();
      cache.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects a Node client to the real server and returns the last session it received. */
function nodeSession(port: number, options: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let last: Buffer | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('corpus: no session from the real server'));
    }, 10_000);
    socket.on('session', (s: Buffer) => (last = s));
    socket.on('error', () => {});
    socket.resume();
    socket.on('close', () => {
      clearTimeout(timer);
      if (last === undefined) reject(new Error('corpus: no session from the real server'));
      else resolve(last);
    });
  });
}

/** Resolves once `child` (ours) has exited and its pipes have closed; SIGKILLs it after `timeoutMs`. */
function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (child.stdin === null || child.stdin.destroyed) return resolve();
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs `openssl s_client` against the real server until it closes; returns `-sess_out` PEM. */
async function opensslSession(port: number, dir: string, name: string, args: string[]) {
  const file = join(dir, `${name}.pem`);
  const child = spawn(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', '-sess_out', file, ...args],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  child.stdin?.end();
  await waitForExit(child, 10_000);
  return { file, text: readFileSync(file, 'utf8') };
}

/** Starts a client against `port`; returns how to stop it (waiting for a child process to exit). */
type Client = (port: number) => () => void | Promise<void>;

/** Captures the first handshake message a client sends to a plain TCP server. */
async function capture(name: string, client: Client): Promise<CorpusHello> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let stop: (() => void | Promise<void>) | undefined;
  try {
    return await new Promise<CorpusHello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`corpus: no hello from ${name}`)), 10_000);
      server.on('connection', (socket) => {
        const parts: Buffer[] = [];
        socket.on('error', () => {});
        socket.on('data', (data: Buffer) => {
          parts.push(data);
          const raw = Buffer.concat(parts);
          const found = firstHandshakeMessage(raw);
          if (found === undefined) return;
          clearTimeout(timer);
          socket.destroy();
          resolve({
            name,
            wire: Buffer.from(raw.subarray(0, found.used)),
            message: found.message,
            records: found.records,
          });
        });
      });
      stop = client(port);
    });
  } finally {
    await stop?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function nodeClient(options: tls.ConnectionOptions): Client {
  return (port) => {
    const socket = tls.connect({ host: '127.0.0.1', rejectUnauthorized: false, ...options, port });
    socket.on('error', () => {});
    return () => {
      socket.destroy();
    };
  };
}

function opensslClient(args: string[]): Client {
  return (port) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    return () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return waitForExit(child, 5_000);
    };
  };
}

/** Captures the corpus (a few seconds: about 25 handshakes and captures on loopback). */
export async function captureCorpus(): Promise<Corpus> {
  const started = performance.now();
  const pki = makePki();
  const real = await startRealServer(pki);
  try {
    const clientCert = { key: pki.key, cert: pki.cert };
    const client: CorpusSession[] = [];
    const s12 = await nodeSession(real.port, { maxVersion: 'TLSv1.2', servername: 'localhost' });
    const s13 = await nodeSession(real.port, {
      minVersion: 'TLSv1.3',
      servername: 'localhost',
      ALPNProtocols: ['h2'],
    });
    const s12cert = await nodeSession(real.port, { maxVersion: 'TLSv1.2', ...clientCert });
    const s13cert = await nodeSession(real.port, { minVersion: 'TLSv1.3', ...clientCert });
    client.push(
      { name: 'node-client-tls12', der: s12 },
      { name: 'node-client-tls13', der: s13 },
      { name: 'node-client-tls12-cert', der: s12cert },
      { name: 'node-client-tls13-cert', der: s13cert },
    );
    const o13 = await opensslSession(real.port, pki.dir, 'o13', [
      '-tls1_3',
      '-servername',
      'localhost',
      '-alpn',
      'http/1.1',
    ]);
    const o12 = await opensslSession(real.port, pki.dir, 'o12', ['-tls1_2', '-no_ticket']);
    const o13cert = await opensslSession(real.port, pki.dir, 'o13cert', [
      '-tls1_3',
      '-cert',
      pki.certFile,
      '-key',
      pki.keyFile,
    ]);
    const pskHex = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const psk13 = ['-tls1_3', '-psk', pskHex, '-psk_identity', 'fuzz-external-psk'];
    const clients: [string, Client][] = [
      ['node-tls12-ip', nodeClient({ maxVersion: 'TLSv1.2' })],
      [
        'node-tls12-sni-alpn',
        nodeClient({
          maxVersion: 'TLSv1.2',
          servername: 'example.com',
          ALPNProtocols: ['h2', 'http/1.1'],
        }),
      ],
      ['node-tls12-session', nodeClient({ maxVersion: 'TLSv1.2', session: s12 })],
      ['node-tls13', nodeClient({ minVersion: 'TLSv1.3' })],
      [
        'node-tls13-sni-alpn',
        nodeClient({ minVersion: 'TLSv1.3', servername: 'localhost', ALPNProtocols: ['h2'] }),
      ],
      [
        'node-tls13-psk-ticket',
        nodeClient({ minVersion: 'TLSv1.3', session: s13, servername: 'localhost' }),
      ],
      ['node-any-psk-ticket', nodeClient({ session: s13cert })],
      [
        'node-big-alpn',
        nodeClient({
          servername: 'localhost',
          ALPNProtocols: Array.from({ length: 80 }, (_, i) => `p${i}-`.padEnd(250, 'x')),
        }),
      ],
      ['openssl-tls12-sni', opensslClient(['-tls1_2', '-servername', 'localhost'])],
      [
        'openssl-tls13-alpn',
        opensslClient(['-tls1_3', '-servername', 'example.com', '-alpn', 'h2,http/1.1']),
      ],
      [
        'openssl-tls13-session',
        opensslClient(['-tls1_3', '-servername', 'localhost', '-sess_in', o13.file]),
      ],
      ['openssl-tls12-session', opensslClient(['-tls1_2', '-sess_in', o12.file])],
      ['openssl-tls13-external-psk', opensslClient(psk13)],
      ['openssl-tls13-no-middlebox', opensslClient(['-no_middlebox', '-sess_in', o13cert.file])],
      ['openssl-tls13-no-middlebox-plain', opensslClient(['-tls1_3', '-no_middlebox'])],
      ['openssl-tls12-no-ticket', opensslClient(['-tls1_2', '-no_ticket', '-noservername'])],
    ];
    const hellos: CorpusHello[] = [];
    for (const [name, c] of clients) hellos.push(await capture(name, c));
    const pems = [
      { name: 'openssl-tls13', text: o13.text },
      { name: 'openssl-tls12', text: o12.text },
      { name: 'openssl-tls13-cert', text: o13cert.text },
    ];
    return {
      hellos,
      sessions: [...real.sessions, ...client],
      pems,
      captureMs: performance.now() - started,
    };
  } finally {
    await real.close();
    rmSync(pki.dir, { recursive: true, force: true });
    // Closed handles leave the active list a loop turn later; let them, for callers that count.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Writes a corpus as JSON (hex bytes), so that a finding can be replayed on the same inputs. */
export function saveCorpus(corpus: Corpus, file: string): void {
  const hex = (b: Buffer): string => b.toString('hex');
  const json = {
    hellos: corpus.hellos.map((h) => ({ ...h, wire: hex(h.wire), message: hex(h.message) })),
    sessions: corpus.sessions.map((s) => ({ name: s.name, der: hex(s.der) })),
    pems: corpus.pems,
    captureMs: corpus.captureMs,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
}

/** Reads a corpus written by {@link saveCorpus}. */
export function loadCorpus(file: string): Corpus {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    hellos: { name: string; wire: string; message: string; records: number }[];
    sessions: { name: string; der: string }[];
    pems: { name: string; text: string }[];
    captureMs: number;
  };
  const bytes = (s: string): Buffer => Buffer.from(s, 'hex');
  return {
    hellos: json.hellos.map((h) => ({ ...h, wire: bytes(h.wire), message: bytes(h.message) })),
    sessions: json.sessions.map((s) => ({ name: s.name, der: bytes(s.der) })),
    pems: json.pems,
    captureMs: json.captureMs,
  };
}
