// examples/tickets-mode.ts, which docs/tickets.md shows, runs: two servers made by it on one SQLite
// file resume each other's TLS 1.3 and TLS 1.2 tickets (Node's tls client).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { startTicketsServer } from '../../examples/tickets-mode.js';
import { makeTestPki } from '../helpers/certs.js';

const pki = makeTestPki();
const dir = mkdtempSync(join(tmpdir(), 'tickets-example-'));
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function get(port: number, version: 'TLSv1.2' | 'TLSv1.3', session?: Buffer) {
  return new Promise<{ reused: boolean; session?: Buffer }>((resolve, reject) => {
    let newest: Buffer | undefined;
    let reused = false;
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        maxVersion: version,
        minVersion: version,
        ...(session ? { session } : {}),
      },
      () => {
        reused = socket.isSessionReused();
        socket.end('GET / HTTP/1.0\r\n\r\n');
      },
    );
    socket.on('session', (s: Buffer) => (newest = s));
    socket.on('data', () => undefined);
    socket.on('end', () => (newest ??= socket.getSession()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, ...(newest ? { session: newest } : {}) }));
  });
}

describe('examples/tickets-mode.ts', () => {
  it('two servers on one file resume each other’s tickets', async () => {
    const options = {
      path: join(dir, 'sessions.db'),
      sealKey: 'cd'.repeat(32),
      key: pki.serverKey,
      cert: pki.serverCert,
    };
    const a = await startTicketsServer(options);
    const b = await startTicketsServer(options);
    try {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        const first = await get(a.port, version);
        expect(first.reused).toBe(false);
        expect((await get(b.port, version, first.session)).reused).toBe(true);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
