// Encryption at rest against someone who can write to the store, with real TLS handshakes. A
// server (openSessionCache({ store: SqliteStore or RedisStore, encryption })) makes sessions; the
// store is then tampered with; a fresh server — its own store handle and an empty internal cache,
// as a new process would have, so every lookup goes to the store — must answer with a full
// handshake, never a resumption, an error or a dropped connection, and its counters say why:
//
// - one byte of a stored record flipped (header, key id, nonce, ciphertext, tag);
// - the records of two ids swapped;
// - a record sealed under a key that has been retired (and, as a control, read after rotation);
// - an oversize value planted;
// - tenant A's record copied to tenant B;
// - an EMS-less TLS 1.2 session (RFC 7627), made by a client with EMS switched off;
// - a plain (unencrypted) record planted while a key is configured.
//
// Every scenario ends with a control: the untouched record resumes on a fresh server, so a "full
// handshake" can only come from the protection under test. The last part runs the built CLI
// (`serve --key-file`, TLS_SESSION_CACHE_KEYS) against `openssl s_client -sess_out/-sess_in`.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSessionCache } from '../../src/front-door/index.js';
import { decodeSession } from '../../src/session/decode.js';
import type { StoreAdapter } from '../../src/stores/cache-adapter.js';
import {
  AES_256_GCM_CODEC_ID,
  AesGcmCodec,
  KEYS_ENV_VAR,
  Keyring,
} from '../../src/stores/encryption/index.js';
import { PLAIN_CODEC_ID, decodeStoredSession } from '../../src/session/stored-record.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import type { SessionStore, StoredEntry } from '../../src/stores/store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { cliProcesses } from '../helpers/cli-processes.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { opensslTextOfFile } from '../helpers/session-openssl.js';
import { SHARED_STORE_LOOKUP_DEADLINE_MS } from '../helpers/eventually.js';
import { connect, startServer, type ClientResult, type TestServer } from '../helpers/tls-server.js';

type Version = 'TLSv1.2' | 'TLSv1.3';

/** OpenSSL 3.0's SSL_OP_NO_EXTENDED_MASTER_SECRET (Node has no constant for it). */
const SSL_OP_NO_EXTENDED_MASTER_SECRET = 0x1;

const OLD = { id: 'old', key: randomBytes(32) };
const NEW = { id: 'new', key: randomBytes(32) };
const ring = (...entries: { id: string; key: Buffer }[]): Keyring => new Keyring(entries);

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-tampered-'));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Where sessions live: each `open()` is a new handle, as another process would have. */
interface Backend {
  open(options?: { maxValueBytes?: number }): Promise<SessionStore>;
}

/** A server of the fleet: its own store handle, adapter and (empty) internal cache. */
interface FleetServer {
  server: TestServer;
  adapter: StoreAdapter;
  /** `operation:code` of every failure the adapter reported, e.g. `decode:KEY_RETIRED`. */
  codes: string[];
  close(): Promise<void>;
}

const open: FleetServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function fleetServer(
  backend: Backend,
  version: Version,
  options: { keyring?: Keyring; tenant?: string } = {},
): Promise<FleetServer> {
  const codes: string[] = [];
  const sessions = await openSessionCache({
    store: await backend.open(),
    sessionIdContext: 'tampered-store',
    ...(options.keyring === undefined ? {} : { encryption: options.keyring }),
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    onError: (error, operation) =>
      codes.push(`${operation}:${(error as { code?: string }).code ?? String(error)}`),
    // A busy machine must not turn a slow Redis answer into a "full handshake".
    lookupDeadlineMs: SHARED_STORE_LOOKUP_DEADLINE_MS,
  });
  const server = await startServer(pki, {
    sessions,
    maxVersion: version,
    tls: { minVersion: version },
  });
  let closing: Promise<void> | undefined;
  const fleet: FleetServer = {
    server,
    adapter: sessions.adapter,
    codes,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await sessions.close();
      })()),
  };
  open.push(fleet);
  return fleet;
}

function client(
  port: number,
  version: Version,
  session?: Buffer,
  extra: { secureOptions?: number } = {},
): Promise<ClientResult> {
  return connect(port, {
    minVersion: version,
    maxVersion: version,
    ...(session === undefined ? {} : { session }),
    ...extra,
  });
}

/** A complete full handshake: the server's answer arrived, nothing was resumed, no error. */
function expectFull(result: ClientResult): void {
  expect(result.error).toBeUndefined();
  expect(result.data).toBe('hello');
  expect(result.reused).toBe(false);
}

function expectResumed(result: ClientResult): void {
  expect(result.error).toBeUndefined();
  expect(result.data).toBe('hello');
  expect(result.reused).toBe(true);
}

/**
 * Full handshakes on a writer server; returns the client's sessions (TLS 1.3: both tickets of the
 * last connection) once the writer has stored them and closed.
 */
async function makeSessions(
  backend: Backend,
  version: Version,
  options: { keyring?: Keyring; tenant?: string; connections?: number; secureOptions?: number },
): Promise<Buffer[]> {
  const writer = await fleetServer(backend, version, options);
  const sessions: Buffer[] = [];
  for (let i = 0; i < (options.connections ?? 1); i++) {
    const first = await client(
      writer.server.port,
      version,
      undefined,
      options.secureOptions === undefined ? {} : { secureOptions: options.secureOptions },
    );
    expectFull(first);
    sessions.push(...first.sessions);
  }
  expect(sessions.length).toBe((options.connections ?? 1) * (version === 'TLSv1.3' ? 2 : 1));
  await writer.close();
  expect(writer.adapter.stats()).toMatchObject({ writeErrors: 0, notStored: 0 });
  return sessions;
}

/** What an attacker with write access sees: every stored entry, value included. */
async function storedEntries(backend: Backend): Promise<StoredEntry[]> {
  const store = await backend.open();
  try {
    const entries: StoredEntry[] = [];
    for await (const entry of store.list!({ withValues: true })) entries.push(entry);
    return entries;
  } finally {
    await store.close();
  }
}

/** Writes values as an attacker would: through a store handle of its own, with no size limit. */
async function plant(
  backend: Backend,
  entries: readonly Pick<StoredEntry, 'namespace' | 'id' | 'expiresAtMs' | 'value'>[],
): Promise<void> {
  const store = await backend.open({ maxValueBytes: 4 * 1024 * 1024 });
  try {
    for (const e of entries) {
      expect(await store.set(e.namespace, e.id, e.value!, e.expiresAtMs)).toBe(true);
    }
  } finally {
    await store.close();
  }
}

function flipped(value: Uint8Array, at: number): Buffer {
  // A Buffer ignores writes past its end: that would be no flip at all.
  if (at < 0 || at >= value.length) throw new RangeError(`no byte ${at} in ${value.length}`);
  const copy = Buffer.from(value);
  copy[at]! ^= 0x01;
  return copy;
}

/** The scenarios, for one backend and one protocol version. */
function scenarios(backend: () => Backend, version: Version): void {
  const keyring = ring(NEW);

  it('control: an untouched sealed record resumes on a fresh server, and shows no secret', async () => {
    const sessions = await makeSessions(backend(), version, { keyring });
    const entries = await storedEntries(backend());
    expect(entries.length).toBe(sessions.length);
    const secret = decodeSession(sessions.at(-1)!).masterSecret();
    for (const entry of entries) {
      expect(entry.value![1]).toBe(AES_256_GCM_CODEC_ID);
      expect(Buffer.from(entry.value!).includes(secret)).toBe(false);
    }
    const reader = await fleetServer(backend(), version, { keyring });
    expectResumed(await client(reader.server.port, version, sessions.at(-1)));
    expect(reader.adapter.stats()).toMatchObject({ reads: 1, found: 1, decodeErrors: 0 });
    expect(reader.codes).toEqual([]);
  });

  it('one byte flipped anywhere in a stored record → full handshake, counted', async () => {
    const sessions = await makeSessions(backend(), version, { keyring });
    const originals = await storedEntries(backend());
    // Header (version, codec), key id, nonce, ciphertext (start, middle), tag (last byte). By
    // position from the start or the end of each record: the two TLS 1.3 tickets of a connection
    // may differ in length by a byte.
    const cases: [string, (length: number) => number, string][] = [
      ['version', () => 0, 'UNSUPPORTED_VERSION'],
      ['codec id', () => 1, 'CODEC_MISMATCH'],
      ['key id', () => 3, 'KEY_RETIRED'],
      ['nonce', () => 6, 'AUTHENTICATION_FAILED'],
      ['ciphertext start', () => 18, 'AUTHENTICATION_FAILED'],
      ['ciphertext middle', (length) => length >> 1, 'AUTHENTICATION_FAILED'],
      ['tag end', (length) => length - 1, 'AUTHENTICATION_FAILED'],
    ];
    const reader = await fleetServer(backend(), version, { keyring });
    for (const [what, at, code] of cases) {
      await plant(
        backend(),
        originals.map((e) => ({ ...e, value: flipped(e.value!, at(e.value!.length)) })),
      );
      reader.codes.length = 0;
      expectFull(await client(reader.server.port, version, sessions.at(-1)));
      expect(reader.codes, what).toEqual([`decode:${code}`]);
    }
    expect(reader.adapter.stats()).toMatchObject({
      reads: cases.length,
      found: 0,
      decodeErrors: cases.length,
    });
    // The same record, untouched, resumes on the same server: the flipped byte was the only reason.
    await plant(backend(), originals);
    expectResumed(await client(reader.server.port, version, sessions.at(-1)));
  });

  it('the records of two ids swapped → full handshake for both', async () => {
    // TLS 1.2: two connections, two session ids; TLS 1.3: the two tickets of one connection.
    const sessions = await makeSessions(backend(), version, {
      keyring,
      connections: version === 'TLSv1.2' ? 2 : 1,
    });
    const [a, b] = (await storedEntries(backend())) as [StoredEntry, StoredEntry];
    expect(a.id).not.toEqual(b.id);
    await plant(backend(), [
      { ...a, value: b.value! },
      { ...b, value: a.value! },
    ]);
    const reader = await fleetServer(backend(), version, { keyring });
    for (const session of sessions) {
      expectFull(await client(reader.server.port, version, session));
    }
    // Each lookup fails to authenticate, or — on Redis, where the first failure's removal is
    // published to every reader — the second read is overtaken by that revocation and counted as
    // stale: a miss either way, never a resumption.
    const stats = reader.adapter.stats();
    expect(stats.found).toBe(0);
    expect(stats.decodeErrors + stats.staleReads).toBe(2);
    expect(reader.codes).toEqual(Array(stats.decodeErrors).fill('decode:AUTHENTICATION_FAILED'));
    await plant(backend(), [a, b]);
    expectResumed(await client(reader.server.port, version, sessions[0]));
  });

  it('a record under a retired key → full handshake; before retirement it resumes', async () => {
    const sessions = await makeSessions(backend(), version, { keyring: ring(OLD) });
    const originals = await storedEntries(backend());
    // After rotation: only the new key is listed.
    const retired = await fleetServer(backend(), version, { keyring: ring(NEW) });
    expectFull(await client(retired.server.port, version, sessions[0]));
    expect(retired.codes).toEqual(['decode:KEY_RETIRED']);
    expect(retired.adapter.stats()).toMatchObject({ found: 0, decodeErrors: 1 });

    // During rotation (new key first, old key still listed) the old record resumes, and the
    // sessions made meanwhile are sealed under the new key.
    await plant(backend(), originals);
    const rotating = await fleetServer(backend(), version, { keyring: ring(NEW, OLD) });
    expectResumed(await client(rotating.server.port, version, sessions.at(-1)));
    expectFull(await client(rotating.server.port, version));
    await rotating.adapter.drain();
    const keyIds = (await storedEntries(backend())).map((e) =>
      Buffer.from(e.value!.subarray(3, 3 + e.value![2]!)).toString('latin1'),
    );
    expect(keyIds).toContain('new');
    expect(rotating.codes).toEqual([]);
  });

  it('an oversize value planted in the store → miss, refused before decrypting', async () => {
    const sessions = await makeSessions(backend(), version, { keyring });
    const originals = await storedEntries(backend());
    const huge = Buffer.concat([originals[0]!.value!.subarray(0, 5), randomBytes(1024 * 1024)]);
    await plant(
      backend(),
      originals.map((e) => ({ ...e, value: huge })),
    );
    const reader = await fleetServer(backend(), version, { keyring });
    expectFull(await client(reader.server.port, version, sessions.at(-1)));
    expect(reader.codes).toEqual(['decode:TOO_LARGE']);
    expect(reader.adapter.stats()).toMatchObject({ found: 0, decodeErrors: 1 });
  });

  it("tenant A's record offered to tenant B → full handshake", async () => {
    const sessions = await makeSessions(backend(), version, { keyring, tenant: 'tenant-a' });
    const originals = await storedEntries(backend());
    expect(originals.every((e) => e.namespace.startsWith('tenant-a/'))).toBe(true);
    const readerB = await fleetServer(backend(), version, { keyring, tenant: 'tenant-b' });
    const nsB = readerB.server.attachment.namespace;
    // Whoever writes to the store copies A's records to the same ids in B's namespace.
    await plant(
      backend(),
      originals.map((e) => ({ ...e, namespace: nsB })),
    );
    expectFull(await client(readerB.server.port, version, sessions.at(-1)));
    expect(readerB.codes).toEqual(['decode:AUTHENTICATION_FAILED']);
    expect(readerB.adapter.stats()).toMatchObject({ reads: 1, found: 0, decodeErrors: 1 });
    // Tenant A itself still resumes it (TLS 1.3: the other ticket).
    const readerA = await fleetServer(backend(), version, { keyring, tenant: 'tenant-a' });
    expectResumed(await client(readerA.server.port, version, sessions[0]));
  });

  it('a plain record planted while a key is configured → full handshake', async () => {
    // A writer without encryption: what an attacker can produce without the key.
    const sessions = await makeSessions(backend(), version, {});
    const entries = await storedEntries(backend());
    expect(entries.every((e) => e.value![1] === PLAIN_CODEC_ID)).toBe(true);
    const reader = await fleetServer(backend(), version, { keyring });
    expectFull(await client(reader.server.port, version, sessions.at(-1)));
    expect(reader.codes).toEqual(['decode:CODEC_MISMATCH']);
    expect(reader.adapter.stats()).toMatchObject({ found: 0, decodeErrors: 1 });
  });

  if (version === 'TLSv1.2') {
    it('an EMS-less TLS 1.2 session (RFC 7627) → not resumed, counted as rejected', async () => {
      const noEms = { secureOptions: SSL_OP_NO_EXTENDED_MASTER_SECRET };
      const sessions = await makeSessions(backend(), version, { keyring, ...noEms });
      // It really is an EMS-less session, sealed correctly: only the EMS rule can refuse it.
      const [entry] = (await storedEntries(backend())) as [StoredEntry];
      const record = decodeStoredSession(entry.value!, entry.namespace, entry.id, {
        codec: new AesGcmCodec(keyring),
      });
      expect(record.extendedMasterSecret).toBe(false);
      const reader = await fleetServer(backend(), version, { keyring });
      expectFull(await client(reader.server.port, version, sessions[0], noEms));
      expect(reader.adapter.stats()).toMatchObject({ reads: 1, found: 1, decodeErrors: 0 });
      expect(reader.server.cache.stats().rejected).toBe(1);
      expect(reader.server.attachment.stats().resumed).toBe(0);
      expect(reader.codes).toEqual([]);
    });
  }
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('SqliteStore with encryption, %s', (version) => {
  let n = 0;
  let path = '';
  const backend = (): Backend => ({
    open: (options = {}) => SqliteStore.open({ path, ...options }),
  });
  // A new file per test: scenarios must not see each other's records.
  beforeEach(() => {
    path = join(dir, `sqlite-${version}-${++n}.db`);
  });
  scenarios(backend, version);
});

describe.skipIf(skipWithoutRedis('tampered RedisStore tests'))('RedisStore with encryption', () => {
  let redis: RedisServer;
  let prefix = '';
  let n = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const backend = (): Backend => ({
    // requireStore: open only once connected. A store that fails open may still be connecting at
    // the first lookup, which is then a plain miss and would hide the protection under test.
    open: (options = {}) =>
      RedisStore.create({ url: redis.url, keyPrefix: prefix, requireStore: true, ...options }),
  });
  describe.each(['TLSv1.2', 'TLSv1.3'] as const)('%s', (version) => {
    // A new key prefix per test: scenarios must not see each other's records.
    beforeEach(() => {
      prefix = `tampered-${version}-${++n}`;
    });
    scenarios(backend, version);
  });
});

describe('serve --key-file / TLS_SESSION_CACHE_KEYS with openssl s_client -sess_out/-sess_in', () => {
  const cli = cliProcesses();
  afterEach(() => cli.stopAll());

  const keyLine = (k: { id: string; key: Buffer }): string => `${k.id}:${k.key.toString('base64')}`;

  function serve(db: string, tls: string, keys: { file?: string; env?: string }) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[KEYS_ENV_VAR];
    if (keys.env !== undefined) env[KEYS_ENV_VAR] = keys.env;
    return cli.startServe(
      [
        '--mode',
        'stateful',
        '--store',
        `sqlite:${db}`,
        '--session-id-context',
        'enc',
        '--tls',
        tls,
        '--cert',
        pki.files.serverCert,
        '--key',
        pki.files.serverKey,
        ...(keys.file === undefined ? [] : ['--key-file', keys.file]),
      ],
      env,
    );
  }

  const reused = (out: string, protocol: string): boolean => {
    if (new RegExp(`^Reused, ${protocol.replace('.', '\\.')}, Cipher`, 'm').test(out)) {
      expect(out).toMatch(/^resumed: yes$/m);
      return true;
    }
    expect(out).toMatch(new RegExp(`^New, ${protocol.replace('.', '\\.')}, Cipher`, 'm'));
    expect(out).toMatch(/^resumed: no$/m);
    return false;
  };

  it.each([
    { tls: '1.2', flag: '-tls1_2', protocol: 'TLSv1.2' },
    { tls: '1.3', flag: '-tls1_3', protocol: 'TLSv1.3' },
  ] as const)(
    'TLS $tls: sealed at rest, tampering and a retired key cost a full handshake, rotation resumes',
    async ({ tls, flag, protocol }) => {
      const db = join(dir, `cli-${tls}.db`);
      const keyFile = join(dir, `keys-${tls}`);
      writeFileSync(keyFile, `# newest first\n${keyLine(OLD)}\n`, { mode: 0o600 });
      const sqlite: Backend = {
        open: (options = {}) => SqliteStore.open({ path: db, ...options }),
      };

      const a = await serve(db, tls, { file: keyFile });
      const pem = join(dir, `s-${tls}.pem`);
      const first = await cli.sClient(a.port, [flag, '-sess_out', pem]);
      expect(reused(first.stdout, protocol)).toBe(false);

      // No master secret (or resumption PSK) in the database or its WAL, byte for byte.
      const secret = Buffer.from(opensslTextOfFile(pem, 'PEM').secretHex, 'hex');
      expect(secret.length).toBeGreaterThanOrEqual(32);
      for (const file of [db, `${db}-wal`]) {
        if (existsSync(file)) expect(readFileSync(file).includes(secret)).toBe(false);
      }
      const originals = await storedEntries(sqlite);
      // serve answers only after its handshake, and SQLite writes synchronously in newSession.
      expect(originals.length).toBe(tls === '1.3' ? 2 : 1);

      // Another process, one byte of every record flipped: a full handshake.
      const b = await serve(db, tls, { file: keyFile });
      await plant(
        sqlite,
        originals.map((e) => ({ ...e, value: flipped(e.value!, e.value!.length >> 1) })),
      );
      expect(reused((await cli.sClient(b.port, [flag, '-sess_in', pem])).stdout, protocol)).toBe(
        false,
      );
      // Untouched again: it resumes there.
      await plant(sqlite, originals);
      expect(reused((await cli.sClient(b.port, [flag, '-sess_in', pem])).stdout, protocol)).toBe(
        true,
      );

      // A process whose keys (from the environment) no longer list the old key.
      await plant(sqlite, originals);
      const c = await serve(db, tls, { env: keyLine(NEW) });
      expect(reused((await cli.sClient(c.port, [flag, '-sess_in', pem])).stdout, protocol)).toBe(
        false,
      );
      // Mid-rotation (new key first, old one still listed): it resumes.
      await plant(sqlite, originals);
      const d = await serve(db, tls, { env: `${keyLine(NEW)},${keyLine(OLD)}` });
      expect(reused((await cli.sClient(d.port, [flag, '-sess_in', pem])).stdout, protocol)).toBe(
        true,
      );

      // The CLI said nothing but its one line, and nothing about keys.
      for (const p of [a, b, c, d]) {
        expect(p.stdout()).toMatch(/^listening on https:\/\/127\.0\.0\.1:\d+\n$/);
        expect(p.stderr()).toBe('');
      }
    },
  );
});
