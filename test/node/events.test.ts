// The diagnostics_channel events, observed during real handshakes: what a user's logger would see.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { onEvent, type ChannelMessages } from '../../src/cache/events.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import type { SessionStore } from '../../src/stores/store.js';
import { makeTestPki } from '../helpers/certs.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
afterAll(() => pki.cleanup());

type Seen = { [K in keyof ChannelMessages]: ChannelMessages[K][] };
let unsubscribe: (() => void)[] = [];
function record(): Seen {
  const seen: Seen = {
    newSession: [],
    resume: [],
    miss: [],
    remove: [],
    rejected: [],
    storeError: [],
    breaker: [],
    storeState: [],
    ticketKeys: [],
  };
  for (const key of Object.keys(seen) as (keyof Seen)[]) {
    unsubscribe.push(onEvent(key, (m) => (seen[key] as unknown[]).push(m)));
  }
  return seen;
}
afterEach(() => {
  for (const u of unsubscribe) u();
  unsubscribe = [];
});

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('events, %s', (version: TlsVersion) => {
  it('new, resume, remove, and a miss for an unknown session', async () => {
    const s = await startServer(pki, { maxVersion: version });
    const seen = record();
    try {
      const made = await connect(s.port, { maxVersion: version });
      expect(seen.newSession.length).toBeGreaterThanOrEqual(1);
      const ns = seen.newSession[0]!.namespace;
      expect(ns).toMatch(/^[\w-]{16}$/);
      const again = await connect(s.port, { maxVersion: version, session: made.sessions[0] });
      expect(again.reused).toBe(true);
      expect(seen.resume).toEqual([expect.objectContaining({ namespace: ns, source: 'internal' })]);
      s.cache.clear();
      expect(seen.remove.map((m) => m.reason)).toContain('flushed');
      const missed = await connect(s.port, { maxVersion: version, session: made.sessions[0] });
      expect(missed.reused).toBe(false);
      expect(seen.miss.at(-1)).toMatchObject({ namespace: ns, reason: 'not-found' });
    } finally {
      await s.close();
    }
  });

  it('a session refused for another host name says why', async () => {
    const s = await startServer(pki, { maxVersion: version });
    const seen = record();
    try {
      const made = await connect(s.port, { maxVersion: version, servername: 'localhost' });
      const other = await connect(s.port, {
        maxVersion: version,
        servername: 'example.com',
        session: made.sessions[0],
      });
      expect(other.reused).toBe(false);
      expect(seen.rejected).toEqual([expect.objectContaining({ reason: 'host-name' })]);
      expect(seen.miss.at(-1)?.reason).toBe('rejected');
      expect(s.attachment.stats()).toMatchObject({ rejected: 1, rejectedHostName: 1 });
    } finally {
      await s.close();
    }
  });

  it('a garbled stored value and a failing store are published, and the handshake completes', async () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const made = await (async () => {
      const a = await startServer(pki, {
        maxVersion: version,
        cache: new SessionCache({ ...adapter.callbacks }),
      });
      try {
        return await connect(a.port, { maxVersion: version });
      } finally {
        await a.close();
      }
    })();
    // Garble every stored value; a fresh server (empty memory) must read it from the store.
    for await (const entry of store.list({ withValues: true })) {
      const value = Uint8Array.from(entry.value!);
      value[value.length - 1]! ^= 0xff;
      store.set(entry.namespace, entry.id, value, entry.expiresAtMs);
    }
    const seen = record();
    const b = await startServer(pki, {
      maxVersion: version,
      cache: new SessionCache({ ...adapter.callbacks }),
    });
    try {
      const again = await connect(b.port, { maxVersion: version, session: made.sessions[0] });
      expect(again.error).toBeUndefined();
      expect(again.reused).toBe(false);
      expect(seen.rejected).toEqual([
        expect.objectContaining({ reason: 'decode', detail: 'BAD_SESSION' }),
      ]);
      expect(seen.storeError).toEqual([
        expect.objectContaining({ store: 'memory', operation: 'decode' }),
      ]);
    } finally {
      await b.close();
    }

    const failing: SessionStore = {
      kind: 'failing',
      maxValueBytes: 1 << 16,
      set: () => Promise.reject(new Error('store down')),
      get: () => Promise.reject(new Error('store down')),
      take: () => Promise.reject(new Error('store down')),
      delete: () => Promise.reject(new Error('store down')),
      close: () => undefined,
    };
    const c = await startServer(pki, {
      maxVersion: version,
      cache: new SessionCache({ ...storeCallbacks(failing).callbacks }),
    });
    try {
      const again = await connect(c.port, { maxVersion: version, session: made.sessions[0] });
      expect(again.reused).toBe(false);
      expect(again.data).toBe('hello');
      const ops = seen.storeError.filter((m) => m.store === 'failing').map((m) => m.operation);
      expect(ops).toContain(version === 'TLSv1.3' ? 'take' : 'get');
      expect(ops).toContain('set');
      expect(seen.miss.at(-1)?.reason).toBe('error');
    } finally {
      await c.close();
    }
  });
});
