// RedisStore on each supported ioredis major (peer `^5 || ^6`): the store loads ioredis through
// useIoredisModule, here pointed at ioredis 6 (`ioredis`) and ioredis 5 (the `ioredis5` npm alias
// devDependency), both real clients against a real redis-server. For each: the module loaded is
// the one meant, set/get/take/delete and expiry behave, and sessions made by one TLS server resume
// on a second one (its own cache) through Redis, for TLS 1.2 session ids and TLS 1.3 tickets.
import { createRequire } from 'node:module';
import type * as Ioredis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { RedisStore, useIoredisModule } from '../../src/stores/redis-store.js';
import { SHARED_STORE_LOOKUP_DEADLINE_MS } from '../helpers/eventually.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  CONNECTED,
  skipWithoutRedis,
  startRedis,
  type RedisServer,
} from '../helpers/redis-server.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const NO_REDIS = skipWithoutRedis('the ioredis majors tests');
const require = createRequire(import.meta.url);
const MAJORS = [
  { name: 'ioredis', major: 6, load: () => import('ioredis') },
  { name: 'ioredis5', major: 5, load: () => import('ioredis5') },
] as const;
const NS = 'tenant/abcdefghijklmnop';

let pki: TestPki;
let redis: RedisServer;
beforeAll(async () => {
  if (NO_REDIS) return;
  pki = makeTestPki();
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  pki?.cleanup();
});

describe.skipIf(NO_REDIS).each(MAJORS)('RedisStore on $name', ({ name, major, load }) => {
  let loads = 0;
  let restore: () => void;
  const stores: RedisStore[] = [];
  const open = async (keyPrefix: string): Promise<RedisStore> => {
    // Connected before the first command (a store failing open may still be connecting).
    const store = await RedisStore.create({ url: redis.url, keyPrefix, ...CONNECTED });
    stores.push(store);
    return store;
  };
  beforeAll(() => {
    restore = useIoredisModule(async () => {
      loads++;
      return load();
    });
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    restore();
  });

  it(`loads ioredis ${major} through the store's loader`, async () => {
    const version = (require(`${name}/package.json`) as { version: string }).version;
    expect(Number(version.split('.')[0])).toBe(major);
    const before = loads;
    await open(`majors-${major}-load:`);
    expect(loads).toBe(before + 1);
  });

  it('sets, gets, takes (once) and deletes, and Redis expires at the deadline', async () => {
    const store = await open(`majors-${major}-ops:`);
    const id = Buffer.from('0102030405', 'hex');
    const value = Buffer.from('stored session');
    await store.set(NS, id, value, Date.now() + 60_000);
    expect(Buffer.from((await store.get(NS, id))!)).toEqual(value);
    expect(Buffer.from((await store.take(NS, id))!)).toEqual(value);
    expect(await store.take(NS, id)).toBeUndefined();
    await store.set(NS, id, value, Date.now() + 60_000);
    expect(await store.delete(NS, id)).toBe(true);
    expect(await store.get(NS, id)).toBeUndefined();
    // The deadline is Redis's own (SET … PXAT): ask Redis, not a clock of ours.
    const expiring = Buffer.from('0a0b', 'hex');
    const deadline = Date.now() + 60_000;
    await store.set(NS, expiring, value, deadline);
    // Keys are binary (prefix, NUL, namespace, NUL, id): read them with this major's own client.
    const { Redis } = (await load()) as unknown as typeof Ioredis;
    const client = new Redis(redis.url);
    try {
      const keys = await client.keysBuffer(`majors-${major}-ops:*`);
      expect(keys).toHaveLength(1);
      const expireAt = Number(await client.call('PEXPIRETIME', keys[0]!));
      expect(Math.abs(expireAt - deadline)).toBeLessThanOrEqual(1000);
    } finally {
      client.disconnect();
    }
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as TlsVersion[])(
    'a session made by one server resumes on another through Redis (%s)',
    async (version) => {
      const prefix = `majors-${major}-${version}:`;
      const servers = await Promise.all(
        [await open(prefix), await open(prefix)].map((store) =>
          startServer(pki, {
            maxVersion: version,
            cache: new SessionCache({
              ...storeCallbacks(store).callbacks,
              lookupDeadlineMs: SHARED_STORE_LOOKUP_DEADLINE_MS,
            }),
          }),
        ),
      );
      try {
        const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
        const first = await connect(a.port, { ca: pki.caCert, maxVersion: version });
        expect(first.reused).toBe(false);
        expect(first.protocol).toBe(version);
        const session = first.sessions.at(-1);
        expect(session).toBeDefined();
        const second = await connect(b.port, { ca: pki.caCert, maxVersion: version, session });
        expect(second.error).toBeUndefined();
        expect(second.reused).toBe(true);
        expect(second.data).toBe('hello');
      } finally {
        await Promise.all(servers.map((server) => server.close()));
      }
    },
  );
});
