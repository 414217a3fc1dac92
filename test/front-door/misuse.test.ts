// Misuse is loud, at the call, never at the first connection: every case of docs/troubleshooting.md
// (each row names its test here) throws a TypeError/RangeError naming what is wrong and how to fix
// it, from openSessionCache(), sessions.attach(), the low-level attach() and every options object
// of the API — and a bad option opens nothing (no file is created, no connection made).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/session-cache.js';
import { editDistance, nearestKey } from '../../src/common/validate.js';
import { openSessionCache } from '../../src/front-door/index.js';
import { attach, statefulServerOptions } from '../../src/node/index.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { createStore } from '../../src/stores/from-url.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-misuse-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const server = (options: tls.TlsOptions = {}): tls.Server =>
  tls.createServer({ key: pki.serverKey, cert: pki.serverCert, ...options });

describe('a server that issues stateless tickets', () => {
  it('sessions.attach(server made without serverOptions()) → TypeError naming serverOptions()', async () => {
    const sessions = await openSessionCache();
    try {
      const plain = server();
      expect(() => sessions.attach(plain)).toThrow(TypeError);
      expect(() => sessions.attach(plain)).toThrow(
        /stateless TLS tickets.*SSL_OP_NO_TICKET.*sessions\.serverOptions\(\)/,
      );
      // Nothing was wired: the server is as it was.
      expect(plain.listenerCount('newSession')).toBe(0);
      expect(sessions.stats().servers).toBe(0);
    } finally {
      await sessions.close();
    }
  });

  it('attach(server made without statefulServerOptions(), cache) → TypeError naming statefulServerOptions()', () => {
    expect(() => attach(server(), new SessionCache())).toThrow(
      /stateless TLS tickets.*statefulServerOptions\(\)/,
    );
    // Own secureOptions that replaced statefulServerOptions()'s (a spread in the wrong order).
    const overridden = server({ ...statefulServerOptions(), secureOptions: 0 });
    expect(() => attach(overridden, new SessionCache())).toThrow(/SSL_OP_NO_TICKET/);
  });
});

describe("a server whose options disagree with the session cache's", () => {
  it('another sessionIdContext → TypeError saying sessionIdContext', async () => {
    const sessions = await openSessionCache({ sessionIdContext: 'api' });
    try {
      const other = server(statefulServerOptions({ sessionIdContext: 'web', sessionTimeout: 300 }));
      expect(() => sessions.attach(other)).toThrow(TypeError);
      expect(() => sessions.attach(other)).toThrow(
        /sessionIdContext "web" differs from the session cache's "api"/,
      );
    } finally {
      await sessions.close();
    }
  });

  it('another sessionTimeout → TypeError saying sessionTimeout', async () => {
    const sessions = await openSessionCache({ sessionIdContext: 'api', timeout: 600 });
    try {
      const other = server(statefulServerOptions({ sessionIdContext: 'api' }));
      expect(() => sessions.attach(other)).toThrow(
        /sessionTimeout 300 differs from the session cache's timeout 600.*serverOptions\(\)/,
      );
      // What serverOptions() gives is accepted.
      const right = server(sessions.serverOptions());
      expect(() => sessions.attach(right)).not.toThrow();
    } finally {
      await sessions.close();
    }
  });
});

describe('wrong argument types', () => {
  it('attach(server) without a cache → TypeError at the call', () => {
    expect(() => (attach as (s: tls.Server) => unknown)(server(statefulServerOptions()))).toThrow(
      /cache must be a SessionCache, got undefined/,
    );
  });

  it('attach(server, {}) → TypeError naming the missing method, not a crash at the first connection', () => {
    expect(() => attach(server(statefulServerOptions()), {} as SessionCache)).toThrow(
      /cache must be a SessionCache \(it has no handshakeStarted\(\)\)/,
    );
  });

  it('attach(not a server, cache) and sessions.attach(not a server) → TypeError', async () => {
    expect(() => attach({} as tls.Server, new SessionCache())).toThrow(
      /server must be a tls\.Server/,
    );
    const sessions = await openSessionCache();
    try {
      expect(() => sessions.attach({} as tls.Server)).toThrow(/server must be a tls\.Server/);
      const right = server(sessions.serverOptions());
      expect(() =>
        (sessions.attach as (s: tls.Server, o: unknown) => unknown)(right, { tenant: 'a' }),
      ).toThrow(/takes no options: give them to openSessionCache\(\)/);
    } finally {
      await sessions.close();
    }
  });

  it('openSessionCache(non-object) and option values of the wrong type or range', async () => {
    const open = openSessionCache as (options: unknown) => Promise<unknown>;
    await expect(open('sqlite:x.db')).rejects.toThrow(/options must be an object/);
    await expect(open({ timeout: '300' })).rejects.toThrow(TypeError);
    await expect(open({ timeout: '300' })).rejects.toThrow(
      /timeout must be an integer, got a string of length 3/,
    );
    await expect(open({ cacheSize: 0 })).rejects.toThrow(RangeError);
    await expect(open({ lookupDeadlineMs: 0 })).rejects.toThrow(/lookupDeadlineMs/);
    await expect(open({ sessionIdContext: 'x'.repeat(33) })).rejects.toThrow(
      /sessionIdContext must be 1 to 32 bytes/,
    );
    await expect(open({ tenant: 'white space' })).rejects.toThrow(/tenant/);
    await expect(open({ helloMaxBytes: 'big' })).rejects.toThrow(/helloMaxBytes/);
    await expect(open({ readClientHello: 'yes' })).rejects.toThrow(/readClientHello/);
    await expect(open({ mode: 'bogus' })).rejects.toThrow(/mode must be one of 'stateful'/);
    await expect(open({ requireStore: 'yes' })).rejects.toThrow(/requireStore must be a boolean/);
    await expect(open({ internalCache: 1 })).rejects.toThrow(/internalCache must be a boolean/);
    await expect(open({ startupTimeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(open({ wrapStore: 'latency' })).rejects.toThrow(/wrapStore must be a function/);
    await expect(open({ breaker: 'off' })).rejects.toThrow(/breaker/);
  });

  it('a store object that is not a SessionStore → TypeError', async () => {
    const open = openSessionCache as (options: unknown) => Promise<unknown>;
    await expect(open({ store: { get: () => undefined } })).rejects.toThrow(
      /store must be a store URL .* or a SessionStore \(with kind, set, get, take, delete and close\)/,
    );
    await expect(open({ store: 42 })).rejects.toThrow(TypeError);
  });

  it('sessions.attach() after close() → Error saying it is closed', async () => {
    const sessions = await openSessionCache();
    await sessions.close();
    expect(() => sessions.attach(server(sessions.serverOptions()))).toThrow(/closed/);
  });
});

describe('unknown option keys, with the nearest known key', () => {
  it('openSessionCache({ cachesize }) → "did you mean cacheSize?", and nothing is opened', async () => {
    const file = join(dir, 'never.db');
    const open = openSessionCache as (options: unknown) => Promise<unknown>;
    await expect(open({ store: `sqlite:${file}`, cachesize: 10 })).rejects.toThrow(
      /openSessionCache: unknown option "cachesize"; did you mean cacheSize\?/,
    );
    await expect(open({ sessionidcontext: 'api' })).rejects.toThrow(
      /did you mean sessionIdContext\?/,
    );
    await expect(open({ storeUrl: 'memory' })).rejects.toThrow(/unknown option "storeUrl"/);
    // A key far from every known one gets no suggestion.
    await expect(open({ zzzzzzzz: 1 })).rejects.toThrow(/unknown option "zzzzzzzz"$/);
    expect(existsSync(file)).toBe(false);
  });

  it('the low-level API refuses unknown keys too: attach, statefulServerOptions, SessionCache, storeCallbacks, the stores, createStore', async () => {
    const stateful = server(statefulServerOptions());
    expect(() => attach(stateful, new SessionCache(), { tennant: 'a' } as never)).toThrow(
      /attach: unknown option "tennant"; did you mean tenant\?/,
    );
    expect(() => statefulServerOptions({ sessionIDContext: 'a' } as never)).toThrow(
      /did you mean sessionIdContext\?/,
    );
    expect(() => new SessionCache({ cachesize: 1 } as never)).toThrow(/did you mean cacheSize\?/);
    const memory = new MemoryStore();
    expect(() => storeCallbacks(memory, { readTimeout: 5 } as never)).toThrow(
      /storeCallbacks: unknown option "readTimeout"; did you mean readTimeoutMs\?/,
    );
    expect(() => new MemoryStore({ maxEntry: 5 } as never)).toThrow(/did you mean maxEntries\?/);
    await expect(
      SqliteStore.open({ path: join(dir, 'typo.db'), maxEntires: 5 } as never),
    ).rejects.toThrow(/SqliteStore\.open: unknown option "maxEntires"; did you mean maxEntries\?/);
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
    await expect(RedisStore.create({ urls: 'redis://127.0.0.1:1' } as never)).rejects.toThrow(
      /RedisStore\.create: unknown option "urls"; did you mean url\?/,
    );
    await expect(createStore('memory', { maxentries: 1 } as never)).rejects.toThrow(
      /did you mean maxEntries\?/,
    );
    memory.close();
  });

  it('nearestKey: case-insensitive, bounded by the length of the names', () => {
    expect(nearestKey('cachesize', ['cacheSize', 'timeout'])).toBe('cacheSize');
    expect(nearestKey('timout', ['cacheSize', 'timeout'])).toBe('timeout');
    expect(nearestKey('x', ['cacheSize', 'timeout'])).toBeUndefined();
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('store strings', () => {
  it.each([
    ['', /empty store/],
    ['sqlite:', /the sqlite store needs a file: sqlite:PATH/],
    [
      'sqlite://host/file.db',
      /the sqlite store takes a file: sqlite:PATH or sqlite:\/\/\/ABSOLUTE/,
    ],
    ['mysql://db:3306', /unknown store "mysql"; supported: memory, sqlite:PATH/],
    ['redis://', /the redis store needs redis:\/\/HOST:PORT/],
    ['redis+cluster://user:secret@', /the redis\+cluster store needs redis\+cluster:\/\/HOST:PORT/],
    ['memory:/x', /the memory store takes no location/],
    ['/var/lib/sessions.db', /malformed store "\/var\/lib\/sessions\.db"/],
  ])(
    'openSessionCache({ store: %j }) → TypeError naming the part that is wrong',
    async (store, message) => {
      const attempt = openSessionCache({ store });
      await expect(attempt).rejects.toThrow(TypeError);
      await expect(openSessionCache({ store })).rejects.toThrow(message);
      // A password in the string never reaches the message.
      await expect(openSessionCache({ store })).rejects.not.toThrow(/secret/);
    },
  );

  it("createStore('sqlite:PATH') opens a SqliteStore (it used to resolve to undefined)", async () => {
    const store = await createStore(`sqlite:${join(dir, 'create.db')}`);
    try {
      expect(store).toBeInstanceOf(SqliteStore);
      expect(store.kind).toBe('sqlite');
    } finally {
      await store.close();
    }
    await expect(createStore('sqlite:')).rejects.toThrow(TypeError);
    await expect(createStore({ kind: 'sqlite' } as never)).rejects.toThrow(
      /store must be a store URL string or what parseStoreUrl returns/,
    );
  });
});

describe('encryption asked for, no key found', () => {
  it('→ RangeError naming encryption, before the store is opened', async () => {
    const file = join(dir, 'no-key.db');
    await expect(
      openSessionCache({ store: `sqlite:${file}`, encryption: { env: {} } }),
    ).rejects.toThrow(/encryption: no key configured/);
    await expect(
      openSessionCache({ store: `sqlite:${file}`, encryption: { keyFile: join(dir, 'absent') } }),
    ).rejects.toThrow(/encryption/);
    expect(existsSync(file)).toBe(false);
  });
});
