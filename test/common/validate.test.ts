// Proves that every layer checks its options with the same rules and the same messages (one
// validation module, src/common/validate.ts): a wrong type is a TypeError, a value out of range a
// RangeError, and the message names the option and what was given — for the cache engine, the
// stores, the store adapter, the circuit breaker, the client cache and the Node wiring alike.
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { resolveRedisOptions } from '../../src/stores/redis-options.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { CircuitBreaker } from '../../src/stores/circuit-breaker.js';
import { ClientSessionCache } from '../../src/client/client-session-cache.js';
import { statefulServerOptions } from '../../src/node/stateful-options.js';

describe('one set of option rules and messages', () => {
  it('out of range: RangeError "<option> must be an integer from <min> to <max>, got <value>"', async () => {
    const cases: [() => unknown, string][] = [
      [
        () => new SessionCache({ cacheSize: -1 }),
        'cacheSize must be an integer from 0 to 4294967295, got -1',
      ],
      [
        () => new SessionCache({ lookupDeadlineMs: 0 }),
        'lookupDeadlineMs must be an integer from 1 to 60000, got 0',
      ],
      [
        () => new MemoryStore({ maxEntries: 1.5 }),
        'maxEntries must be an integer from 1 to 9007199254740991, got 1.5',
      ],
      [
        () => resolveRedisOptions({ db: 70_000 }),
        'db must be an integer from 0 to 65535, got 70000',
      ],
      [
        () => resolveRedisOptions({ commandTimeoutMs: 0 }),
        'commandTimeoutMs must be an integer from 1 to 600000, got 0',
      ],
      [() => resolveRedisOptions({ port: 0 }), 'port must be an integer from 1 to 65535, got 0'],
      [
        () => storeCallbacks(new MemoryStore(), { readTimeoutMs: 60_001 }),
        'readTimeoutMs must be an integer from 1 to 60000, got 60001',
      ],
      [
        () => new ClientSessionCache({ ticketsPerOrigin: 0 }),
        'ticketsPerOrigin must be an integer from 1 to 32, got 0',
      ],
      [
        () => statefulServerOptions({ sessionTimeout: 0 }),
        'sessionTimeout must be an integer from 1 to 2147483647, got 0',
      ],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(RangeError);
      expect(make).toThrow(message);
    }
    await expect(SqliteStore.open({ path: ':memory:', maxEntries: 0 })).rejects.toThrow(
      new RangeError('maxEntries must be an integer from 1 to 9007199254740991, got 0'),
    );
  });

  it('wrong type: TypeError "<option> must be <kind>, got <description>" (never the value)', () => {
    const cases: [() => unknown, string][] = [
      [
        () => new SessionCache({ cacheSize: '10' as never }),
        'cacheSize must be an integer, got a string of length 2',
      ],
      [
        () => new SessionCache({ noAutoClear: 1 as never }),
        'noAutoClear must be a boolean, got number 1',
      ],
      [
        () => new SessionCache({ mode: 'servr' as never }),
        'mode must be one of off, server, client, both, got a string of length 5',
      ],
      [() => new SessionCache({ clock: 5 as never }), 'clock must be a function, got number 5'],
      [
        () => resolveRedisOptions({ requireStore: 'yes' as never }),
        'requireStore must be a boolean, got a string of length 3',
      ],
      [
        () => resolveRedisOptions({ keyPrefix: 7 as never }),
        'keyPrefix must be a string, got number 7',
      ],
      [
        () => resolveRedisOptions({ onError: {} as never }),
        'onError must be a function, got an object (Object)',
      ],
      [
        () => new CircuitBreaker({ failureThreshold: 'x' as never }),
        'failureThreshold must be an integer, got a string of length 1',
      ],
      [
        () => statefulServerOptions({ sessionIdContext: 1 as never }),
        'sessionIdContext must be a string, got number 1',
      ],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(TypeError);
      expect(make).toThrow(message);
    }
  });

  it('a secret option is never described, even when its type is wrong', () => {
    expect(() => resolveRedisOptions({ password: 123456 as never })).toThrow(
      new TypeError('password must be a string'),
    );
  });
});
