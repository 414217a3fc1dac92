// The suite-wide leak check (test/leak-capture/) proves nothing if its recorder records nothing:
// this checks that a test worker and a Node subprocess of the run both record the sessions they
// handle and what they print.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { makeTestPki } from '../helpers/certs.js';
import { connect, startServer } from '../helpers/tls-server.js';

const pki = makeTestPki();
afterAll(() => pki.cleanup());
const dir = process.env.TLS_SESSION_CACHE_LEAK_DIR;

function recorded(pid: number): { sessions: Buffer[]; output: string } {
  const secrets = join(dir!, `secrets-${pid}.txt`);
  const output = join(dir!, `output-${pid}.txt`);
  const sessions = existsSync(secrets)
    ? readFileSync(secrets, 'latin1')
        .split('\n')
        .filter((l) => l.startsWith('session '))
        .map((l) => Buffer.from(l.slice(8), 'hex'))
    : [];
  return { sessions, output: existsSync(output) ? readFileSync(output, 'latin1') : '' };
}

describe.runIf(dir !== undefined)('the leak recorder', () => {
  it('records the sessions of this worker, server and client side, as decodable sessions', async () => {
    const s = await startServer(pki, { maxVersion: 'TLSv1.3' });
    try {
      const made = await connect(s.port, { maxVersion: 'TLSv1.3' });
      const mine = recorded(process.pid).sessions.map((d) => decodeSession(d).masterSecret());
      for (const session of made.sessions) {
        const master = decodeSession(session).masterSecret();
        expect(mine.some((m) => m.equals(master))).toBe(true);
      }
    } finally {
      await s.close();
    }
  });

  it('records the ticket keys a ticket key callback hands OpenSSL (tickets mode)', async () => {
    const hmac = Buffer.alloc(16, 0x3c);
    const aes = Buffer.alloc(16, 0x4d);
    const name = Buffer.alloc(16, 1);
    // A plain server with tickets on: no session cache is attached (attach refuses such a server).
    const server = tls.createServer(
      { key: pki.serverKey, cert: pki.serverCert, maxVersion: 'TLSv1.3' },
      (socket) => socket.end('hello'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const s = {
      server,
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    try {
      const context = (
        s.server as unknown as { _sharedCreds: { context: Record<string, unknown> } }
      )._sharedCreds.context;
      (context.enableTicketKeyCallback as () => void).call(context);
      context.onticketkeycallback = (_n: Buffer, _iv: Buffer, encrypt: boolean) =>
        encrypt ? [1, hmac, aes, name, Buffer.alloc(16, 2)] : [1, hmac, aes];
      await connect(s.port, { maxVersion: 'TLSv1.3' });
      const keys = readFileSync(join(dir!, `secrets-${process.pid}.txt`), 'latin1');
      expect(keys).toContain(`key ${'3c'.repeat(16)}`);
      expect(keys).toContain(`key ${'4d'.repeat(16)}`);
    } finally {
      await s.close();
    }
  });

  it('records what a Node subprocess prints and the keys it uses', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        "const c=require('node:crypto');c.createSecretKey(Buffer.alloc(32,7));console.log('child says hi')",
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout).toContain('child says hi');
    const child = recorded(r.pid!);
    expect(child.output).toContain('child says hi');
    const keys = readFileSync(join(dir!, `secrets-${r.pid}.txt`), 'latin1');
    expect(keys).toContain(`key ${'07'.repeat(32)}`);
  });
});
