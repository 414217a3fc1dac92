// A session resumes only in the context that created it: same session id context, same tenant,
// and the same SNI (RFC 8446 §4.6.1; the CVE-2025-23419 class of cross-virtual-host resumption).
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { makeTestPki } from '../helpers/certs.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
afterAll(() => pki.cleanup());

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('isolation, %s', (version: TlsVersion) => {
  it.each([
    [
      'the same context and tenant share sessions',
      { sessionIdContext: 'a' },
      { sessionIdContext: 'a' },
      true,
    ],
    [
      'different session id contexts do not',
      { sessionIdContext: 'a' },
      { sessionIdContext: 'b' },
      false,
    ],
    [
      'different tenants do not',
      { sessionIdContext: 'a', attach: { tenant: 'red' } },
      { sessionIdContext: 'a', attach: { tenant: 'blue' } },
      false,
    ],
    [
      'the same tenant does',
      { sessionIdContext: 'a', attach: { tenant: 'red' } },
      { sessionIdContext: 'a', attach: { tenant: 'red' } },
      true,
    ],
  ])('two servers on one cache: %s', async (_name, optionsA, optionsB, shared) => {
    const cache = new SessionCache();
    const a = await startServer(pki, { maxVersion: version, cache, ...optionsA });
    const b = await startServer(pki, { maxVersion: version, cache, ...optionsB });
    try {
      const made = await connect(a.port, { maxVersion: version });
      const onB = await connect(b.port, { maxVersion: version, session: made.sessions[0] });
      expect(onB.error).toBeUndefined();
      expect(onB.data).toBe('hello');
      expect(onB.reused).toBe(shared);
      if (!shared) {
        // ... while it still resumes where it was made.
        const onA = await connect(a.port, { maxVersion: version, session: made.sessions[0] });
        expect(onA.reused).toBe(true);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a session made for one SNI is not resumed under another', async () => {
    const s = await startServer(pki, { maxVersion: version });
    try {
      const made = await connect(s.port, { maxVersion: version, servername: 'localhost' });
      const other = await connect(s.port, {
        maxVersion: version,
        servername: 'example.com',
        session: made.sessions[0],
      });
      expect(other.error).toBeUndefined();
      expect(other.reused).toBe(false);
      expect(s.cache.stats().rejected).toBe(1);
      const same = await connect(s.port, {
        maxVersion: version,
        servername: 'LOCALHOST',
        session: made.sessions[0],
      });
      expect(same.reused).toBe(true);
    } finally {
      await s.close();
    }
  });
});
