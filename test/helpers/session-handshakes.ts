// Real TLS handshakes that produce real serialized SSL_SESSIONs: Node servers and clients, and the
// `openssl s_client` / `s_server` command line tools. No mocks: every session here was written by
// OpenSSL's i2d_SSL_SESSION during an actual handshake on loopback.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants as cryptoConstants } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TestPki } from './certs.js';
import { eventually, WAIT_MS } from './eventually.js';

/** Which protocol version a handshake is pinned to. */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Options for {@link nodeHandshake}. */
export interface NodeHandshakeOptions {
  pki: TestPki;
  version: TlsVersion;
  /** SNI the client sends; omitted → no SNI (Node sends none when connecting to an IP). */
  servername?: string;
  /** ALPN protocols offered by the client; the server accepts `h2` and `http/1.1`. */
  alpn?: string[];
  /** Server requests and requires a client certificate; the client presents the test one. */
  clientCert?: boolean;
  /** TLS 1.2 PSK instead of certificates. */
  psk?: { identity: string; hint: string; key: Buffer };
}

/** The sessions both ends of one handshake produced. */
export interface CapturedSessions {
  /** sessionData from every server 'newSession' event (TLS 1.3: one per ticket). */
  server: Buffer[];
  /** The client's `tlsSocket.getSession()` after the server closed the connection. */
  client: Buffer | undefined;
}

/** Options shared by the Node test servers. */
export interface NodeServerOptions {
  pki: TestPki;
  version: TlsVersion;
  clientCert?: boolean;
  /** Server `sessionTimeout` in seconds (the session's timeout [2]). */
  sessionTimeout?: number;
  psk?: { identity: string; hint: string; key: Buffer };
}

/** A listening Node TLS server that records server-side sessions and answers "ok" then closes. */
export interface NodeTestServer {
  port: number;
  sessions: Buffer[];
  close(): Promise<void>;
}

/** Starts a Node TLS server on 127.0.0.1 that records every 'newSession'. */
export async function startNodeServer(options: NodeServerOptions): Promise<NodeTestServer> {
  const { pki, version, clientCert, psk, sessionTimeout } = options;
  const serverOptions: tls.TlsOptions = {
    minVersion: version,
    maxVersion: version,
    ALPNProtocols: ['h2', 'http/1.1'],
    // TLS 1.2 only calls 'newSession' for stateful (session id) sessions, so tickets must be off;
    // TLS 1.3 calls it for every ticket either way.
    secureOptions: version === 'TLSv1.2' ? cryptoConstants.SSL_OP_NO_TICKET : 0,
  };
  if (sessionTimeout !== undefined) serverOptions.sessionTimeout = sessionTimeout;
  if (psk === undefined) {
    serverOptions.key = pki.serverKey;
    serverOptions.cert = pki.serverCert;
  } else {
    serverOptions.ciphers = 'PSK-AES128-GCM-SHA256';
    serverOptions.pskIdentityHint = psk.hint;
    serverOptions.pskCallback = (_socket, identity) => (identity === psk.identity ? psk.key : null);
  }
  if (clientCert) {
    serverOptions.requestCert = true;
    serverOptions.rejectUnauthorized = true;
    serverOptions.ca = pki.caCert;
  }
  const server = tls.createServer(serverOptions);
  const sessions: Buffer[] = [];
  server.on('newSession', (_id: Buffer, data: Buffer, done: () => void) => {
    sessions.push(data);
    done();
  });
  server.on('secureConnection', (socket) => {
    socket.on('error', () => undefined);
    socket.end('ok\n');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sessions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Options for {@link nodeClientSession}. */
export interface NodeClientOptions {
  pki: TestPki;
  port: number;
  version: TlsVersion;
  servername?: string;
  alpn?: string[];
  clientCert?: boolean;
  psk?: { identity: string; key: Buffer };
  /** Trust this CA PEM instead of the test CA (for `s_server` with a self-signed certificate). */
  ca?: string;
}

/**
 * Connects a Node client, reads until the server closes, and returns `getSession()` (taken on
 * 'end', when any TLS 1.3 tickets have arrived and the socket is still open).
 */
export async function nodeClientSession(options: NodeClientOptions): Promise<Buffer | undefined> {
  const { pki, port, version, servername, alpn, clientCert, psk } = options;
  const clientOptions: tls.ConnectionOptions = {
    host: '127.0.0.1',
    port,
    minVersion: version,
    maxVersion: version,
    ca: options.ca ?? pki.caCert,
  };
  if (servername !== undefined) clientOptions.servername = servername;
  else clientOptions.checkServerIdentity = () => undefined;
  if (alpn !== undefined) clientOptions.ALPNProtocols = alpn;
  if (clientCert) {
    clientOptions.cert = pki.clientCert;
    clientOptions.key = pki.clientKey;
  }
  if (psk !== undefined) {
    clientOptions.ciphers = 'PSK-AES128-GCM-SHA256';
    clientOptions.pskCallback = () => ({ psk: psk.key, identity: psk.identity });
    clientOptions.checkServerIdentity = () => undefined;
  }
  const socket = tls.connect(clientOptions);
  let session: Buffer | undefined;
  socket.on('end', () => {
    session = socket.getSession();
  });
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  return session;
}

/** One Node-to-Node handshake; returns the server-side and client-side sessions. */
export async function nodeHandshake(options: NodeHandshakeOptions): Promise<CapturedSessions> {
  const server = await startNodeServer(options);
  try {
    const client = await nodeClientSession({ ...options, port: server.port });
    return { server: server.sessions, client };
  } finally {
    await server.close();
  }
}

function waitForExit(child: ChildProcessWithoutNullStreams, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) {
      resolve(child.exitCode);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openssl did not exit within ${ms} ms`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function sessionFileComplete(path: string): boolean {
  return (
    existsSync(path) && readFileSync(path, 'utf8').includes('-----END SSL SESSION PARAMETERS-----')
  );
}

/** Options for {@link opensslClientSession}. */
export interface OpensslClientOptions {
  port: number;
  version: TlsVersion;
  /** PEM file written by `-sess_out`. */
  sessOut: string;
  servername?: string;
  alpn?: string;
  cert?: string;
  key?: string;
  extraArgs?: string[];
  /**
   * `'server-closes'`: wait for the server to close (Node test servers do). `'quit'`: once a
   * session has been written, type `Q` so s_client closes (for `s_server`, which never closes).
   */
  until: 'server-closes' | 'quit';
}

/**
 * Runs `openssl s_client -sess_out` against a local server and returns the PEM session it wrote.
 */
export async function opensslClientSession(options: OpensslClientOptions): Promise<string> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${options.port}`,
    options.version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3',
    '-sess_out',
    options.sessOut,
  ];
  if (options.servername !== undefined) args.push('-servername', options.servername);
  else args.push('-noservername');
  if (options.alpn !== undefined) args.push('-alpn', options.alpn);
  if (options.cert !== undefined && options.key !== undefined) {
    args.push('-cert', options.cert, '-key', options.key);
  }
  args.push(...(options.extraArgs ?? []));
  const child = spawn('openssl', args, { stdio: 'pipe' });
  child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    if (options.until === 'quit') {
      await eventually(() => sessionFileComplete(options.sessOut), 's_client -sess_out', {
        everyMs: 20,
      });
      // TLS 1.3 servers send more than one ticket; give the rest a moment to overwrite the file.
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.stdin.write('Q\n');
    }
    await waitForExit(child, WAIT_MS);
  } catch (error) {
    throw new Error(`${(error as Error).message}; s_client stderr: ${stderr}`);
  } finally {
    child.stdin.destroy();
  }
  if (!sessionFileComplete(options.sessOut)) {
    throw new Error(`s_client wrote no session; stderr: ${stderr}`);
  }
  return readFileSync(options.sessOut, 'utf8');
}

/** A running `openssl s_server`. */
export interface OpensslServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts `openssl s_server` on 127.0.0.1 with an ephemeral port, for one connection.
 *
 * @param args - extra s_server arguments (certificate, `-servername`, `-early_data`, ...)
 */
export async function startOpensslServer(args: string[]): Promise<OpensslServer> {
  const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-naccept', '1', ...args], {
    stdio: 'pipe',
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s_server did not start: ${output}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const at = output.indexOf('ACCEPT ');
      const eol = at < 0 ? -1 : output.indexOf('\n', at);
      if (eol > 0) {
        clearTimeout(timer);
        const line = output.slice(at, eol).trim();
        resolve(Number(line.slice(line.lastIndexOf(':') + 1)));
      }
    });
    child.on('exit', () => reject(new Error(`s_server exited: ${output}`)));
  });
  return {
    port,
    stop: async () => {
      child.stdin.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await waitForExit(child, 5_000).catch(() => undefined);
      }
    },
  };
}
