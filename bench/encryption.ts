/**
 * Encryption at rest micro-benchmark: µs per stored session to encode and decode the plain
 * envelope and the AES-256-GCM one, on real sessions (one TLS 1.2 and one TLS 1.3 handshake on
 * loopback make them), plus the cipher set-up the codec avoids by keeping KeyObjects.
 *
 *   npm run bench:encryption [-- --ops N] [-- --rounds N] [-- --json FILE]
 *
 * Each round runs `ops` operations per case, cases interleaved; the report gives the median per
 * operation over the rounds (µs) and the spread (min–max of the rounds). Decode includes the DER
 * decoding and checks of `decodeStoredSession`, as a store read on the handshake path does.
 *
 * @module
 */
import {
  constants,
  createCipheriv,
  createSecretKey,
  randomBytes,
  randomFillSync,
} from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { generateSelfSigned } from '../src/cli/self-signed.js';
import { sessionRecordFromDer, type SessionRecord } from '../src/session/session-record.js';
import { AesGcmCodec, Keyring } from '../src/stores/encryption/index.js';
import {
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionOptions,
} from '../src/session/stored-record.js';
import { numberOption, parseArgs } from './handshake/common.js';

const { values, flags } = parseArgs(process.argv.slice(2), {
  values: ['ops', 'rounds', 'json'],
  flags: ['help', 'quick'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:encryption -- [options]
  --ops N      operations per case and round (default 20000; --quick 2000)
  --rounds N   rounds, report medians (default 7; --quick 3)
  --json FILE  also write the results as JSON
`);
  process.exit(0);
}
const ops = numberOption(values, 'ops', flags.has('quick') ? 2000 : 20_000, { integer: true });
const rounds = numberOption(values, 'rounds', flags.has('quick') ? 3 : 7, { integer: true });
const NS = 'bench/AbCdEf0123456789';

/** One real server-side session per protocol, from a handshake on loopback. */
async function realSessions(): Promise<Record<'TLSv1.2' | 'TLSv1.3', SessionRecord>> {
  const pair = await generateSelfSigned();
  const out: Partial<Record<'TLSv1.2' | 'TLSv1.3', SessionRecord>> = {};
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const ders: Buffer[] = [];
    const server = tls.createServer(
      {
        ...pair,
        minVersion: version,
        maxVersion: version,
        secureOptions: constants.SSL_OP_NO_TICKET,
        sessionIdContext: 'bench',
      },
      (socket) => socket.end('ok'),
    );
    server.on('newSession', (_id: Buffer, data: Buffer, done: () => void) => {
      ders.push(data);
      done();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = tls.connect({
        port,
        host: '127.0.0.1',
        ca: pair.cert,
        servername: 'localhost',
      });
      socket.on('error', reject);
      socket.resume();
      socket.on('close', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    out[version] = sessionRecordFromDer(ders[0]!, NS, 'localhost');
  }
  return out as Record<'TLSv1.2' | 'TLSv1.3', SessionRecord>;
}

interface Case {
  name: string;
  run(): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const sessions = await realSessions();
const keyring = new Keyring([{ id: 'bench-key', key: randomBytes(32) }]);
const sealed: StoredSessionOptions = { codec: new AesGcmCodec(keyring) };
const plain: StoredSessionOptions = {};
const keyBytes = randomBytes(32);
const keyObject = createSecretKey(keyBytes);
const nonce = randomBytes(12);
const nonceOut = Buffer.alloc(12);
const pool = Buffer.alloc(4092);
let poolUses = 0;

const cases: Case[] = [];
const sizes: Record<string, number> = {};
for (const [version, record] of Object.entries(sessions)) {
  for (const [codec, options] of [
    ['plain', plain],
    ['aes-256-gcm', sealed],
  ] as const) {
    const value = encodeStoredSession(record, options);
    sizes[`${version} ${codec}`] = value.length;
    cases.push(
      { name: `${version} ${codec} encode`, run: () => void encodeStoredSession(record, options) },
      {
        name: `${version} ${codec} decode`,
        run: () => void decodeStoredSession(value, NS, record.id, options),
      },
      {
        name: `${version} ${codec} encode+decode`,
        run: () =>
          void decodeStoredSession(encodeStoredSession(record, options), NS, record.id, options),
      },
    );
  }
}
// Why the keyring keeps KeyObjects: the cipher set-up alone, with each kind of key; and the nonce.
cases.push(
  {
    name: 'createCipheriv, cached KeyObject',
    run: () => void createCipheriv('aes-256-gcm', keyObject, nonce),
  },
  {
    name: 'createCipheriv, raw key bytes',
    run: () => void createCipheriv('aes-256-gcm', keyBytes, nonce),
  },
  // Why nonces come from a pool: one CSPRNG call per record, against one per 341 records.
  { name: 'randomFillSync, 12 bytes', run: () => void randomFillSync(nonceOut) },
  {
    name: 'randomFillSync, 4 KiB ÷ 341 nonces',
    run: () => {
      if (++poolUses === 341) {
        poolUses = 0;
        randomFillSync(pool);
      }
    },
  },
  {
    name: 'createSecretKey + createCipheriv',
    run: () => void createCipheriv('aes-256-gcm', createSecretKey(keyBytes), nonce),
  },
);

const perOp = new Map<string, number[]>(cases.map((c) => [c.name, []]));
// Warm-up: let V8 optimise every path before anything is measured.
for (const c of cases) for (let i = 0; i < Math.min(ops, 2000); i++) c.run();
for (let round = 0; round < rounds; round++) {
  // Rotated order, so that no case always runs right after the same other one.
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(k + round) % cases.length]!;
    const start = performance.now();
    for (let i = 0; i < ops; i++) c.run();
    perOp.get(c.name)!.push(((performance.now() - start) * 1000) / ops);
  }
}

const rows = cases.map((c) => {
  const samples = perOp.get(c.name)!;
  return {
    case: c.name,
    medianUs: Number(median(samples).toFixed(2)),
    minUs: Number(Math.min(...samples).toFixed(2)),
    maxUs: Number(Math.max(...samples).toFixed(2)),
  };
});
const header = `bench:encryption — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version} (OpenSSL ${process.versions.openssl}), ${ops} ops × ${rounds} rounds, 1-min load ${loadavg()[0]!.toFixed(2)}`;
process.stdout.write(`${header}\n\n| case | µs/op (median) | rounds min–max |\n|---|---:|---:|\n`);
for (const row of rows) {
  process.stdout.write(`| ${row.case} | ${row.medianUs} | ${row.minUs}–${row.maxUs} |\n`);
}
process.stdout.write(
  `\nstored value bytes: ${Object.entries(sizes)
    .map(([name, bytes]) => `${name} ${bytes}`)
    .join(', ')}\n`,
);
if (values.get('json') !== undefined) {
  writeFileSync(
    values.get('json')!,
    `${JSON.stringify({ header, ops, rounds, rows, sizes }, null, 2)}\n`,
  );
}
