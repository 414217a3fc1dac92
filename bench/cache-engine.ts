// Micro-benchmark of the SessionCache hot path (add / lookup / take) at 20 480 and 1 000 000
// entries, next to a plain Map and lru-cache measured in the same run. Each timed sample runs a
// batch of operations, because one cache operation (~100 ns) is close to the timer's own cost.
//
//   npm run bench:cache [-- --quick] [-- --json FILE]
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import { Bench } from 'tinybench';
import { SessionCache, type CachedSession } from '../src/cache/index.js';
import { namespaceOf } from '../src/node/namespace.js';
import { sessionRecordFromDer } from '../src/session/session-record.js';
import { decodeSession } from '../src/session/decode.js';
import { buildSession } from '../test/helpers/session-der.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const SIZES = quick ? [20_480] : [20_480, 1_000_000];
const BATCH = 1000;
const TIME_MS = quick ? 300 : 1000;
const DATA = randomBytes(180); // a typical TLS 1.2 server-side session is ~150–200 bytes of DER

// Ids are a random prefix plus a counter: unique, and cheap to make, so that making them does not
// dominate what is measured (randomBytes per id costs more than a cache operation).
const PREFIX = randomBytes(28);
let serial = 0;
function freshSession(): CachedSession {
  const id = Buffer.allocUnsafe(32);
  PREFIX.copy(id, 0);
  id.writeUInt32BE(serial++ >>> 0, 28);
  return { id, data: DATA, time: Math.floor(Date.now() / 1000), timeout: 300 };
}

// What the Node wiring caches: a SessionRecord decoded from a session's DER, in the namespace of
// its server. A synthetic TLS 1.2 session shaped like Node's (32-byte id and context, ALPN, SNI).
const NAMESPACE = namespaceOf('', Buffer.from('bench'));
const TEMPLATE = buildSession({
  sessionId: Buffer.alloc(32),
  sidCtx: Buffer.alloc(32, 0x61),
  time: Math.floor(Date.now() / 1000),
  timeout: 300,
  hostname: 'localhost',
  alpn: 'http/1.1',
  flags: 1, // SSL_SESS_FLAG_EXTMS
  kexGroup: 29,
});
const ID_OFFSET = decodeSession(TEMPLATE).sessionId.byteOffset - TEMPLATE.byteOffset;
function freshRecord(): CachedSession {
  const der = Buffer.allocUnsafe(TEMPLATE.length); // its own memory, as Node's newSession's
  TEMPLATE.copy(der);
  PREFIX.copy(der, ID_OFFSET);
  der.writeUInt32BE(serial++ >>> 0, ID_OFFSET + 28);
  return sessionRecordFromDer(der, NAMESPACE, 'localhost');
}

const key = (id: Uint8Array) =>
  Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');

interface Impl {
  name: string;
  /** Makes the sessions it caches. */
  fresh: () => CachedSession;
  add(s: CachedSession): void;
  get(id: Uint8Array): unknown;
  take(id: Uint8Array): CachedSession | undefined;
}

/**
 * The implementations, in groups measured one after the other (the next group is built once the
 * previous one is garbage), so that one million sessions of each do not share one heap.
 */
function implementations(size: number, group: number): Impl[] {
  if (group === 1) {
    const recordEngine = new SessionCache({ cacheSize: size });
    const inNamespace = { namespace: NAMESPACE };
    const takeInNamespace = { namespace: NAMESPACE, singleUse: true };
    return [
      {
        // The add includes decoding the DER into a record (as the wiring does per new session).
        name: 'SessionCache, records in a namespace',
        fresh: freshRecord,
        add: (s) => recordEngine.add(s),
        get: (id) => (recordEngine.lookup(id, inNamespace) as { session?: CachedSession }).session,
        take: (id) =>
          (recordEngine.lookup(id, takeInNamespace) as { session?: CachedSession }).session,
      },
    ];
  }
  const engine = new SessionCache({ cacheSize: size });
  const map = new Map<string, CachedSession>();
  const lru = new LRUCache<string, CachedSession>({ max: size });
  return [
    {
      name: 'SessionCache',
      fresh: freshSession,
      add: (s) => engine.add(s),
      get: (id) => (engine.lookup(id) as { session?: CachedSession }).session,
      take: (id) => (engine.lookup(id, { singleUse: true }) as { session?: CachedSession }).session,
    },
    {
      name: 'Map (FIFO bound)',
      fresh: freshSession,
      add: (s) => {
        map.set(key(s.id), s);
        if (map.size > size) map.delete(map.keys().next().value!);
      },
      get: (id) => map.get(key(id)),
      take: (id) => {
        const k = key(id);
        const s = map.get(k);
        if (s !== undefined) map.delete(k);
        return s;
      },
    },
    {
      name: 'lru-cache',
      fresh: freshSession,
      add: (s) => lru.set(key(s.id), s),
      get: (id) => lru.get(key(id)),
      take: (id) => {
        const k = key(id);
        const s = lru.get(k);
        if (s !== undefined) lru.delete(k);
        return s;
      },
    },
  ];
}

interface Row {
  entries: number;
  op: string;
  impl: string;
  opsPerSec: number;
  nsPerOp: number;
}
const rows: Row[] = [];

for (const [size, group] of SIZES.flatMap((n) => [[n, 0] as const, [n, 1] as const])) {
  const impls = implementations(size, group);
  // Per implementation, the ids of its resident sessions (a record's id is a getter: read once).
  const resident = impls.map(() => [] as Uint8Array[]);
  for (let i = 0; i < size; i++) {
    const s = freshSession();
    impls.forEach((impl, j) => {
      const own = impl.fresh === freshSession ? s : impl.fresh();
      resident[j]!.push(own.id);
      impl.add(own);
    });
  }
  const bench = new Bench({ time: TIME_MS, warmup: true });
  let cursor = 0;
  for (const [j, impl] of impls.entries()) {
    const ids = resident[j]!;
    bench.add(`lookup|${impl.name}`, () => {
      for (let i = 0; i < BATCH; i++) {
        impl.get(ids[cursor]!);
        cursor = (cursor + 7919) % size;
      }
    });
    bench.add(`add (full: evicts one)|${impl.name}`, () => {
      for (let i = 0; i < BATCH; i++) impl.add(impl.fresh());
    });
    bench.add(`take + add|${impl.name}`, () => {
      for (let i = 0; i < BATCH; i++) {
        const s = impl.fresh();
        impl.add(s);
        impl.take(s.id);
      }
    });
  }
  process.stderr.write(`measuring ${size} entries (${impls.map((i) => i.name).join(', ')}) …\n`);
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result;
    if (!('latency' in result)) throw new Error(`${task.name}: ${result.state}`);
    const [op, impl] = task.name.split('|') as [string, string];
    const nsPerOp = (result.latency.p50 * 1e6) / BATCH;
    rows.push({ entries: size, op, impl, opsPerSec: Math.round(1e9 / nsPerOp), nsPerOp });
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
console.log(
  `\nSessionCache micro-benchmark (median of batches of ${BATCH}; Node ${process.version})\n`,
);
console.log('| entries | operation | implementation | ops/s | ns/op | vs Map |');
console.log('|---:|---|---|---:|---:|---:|');
for (const row of rows) {
  const base = rows.find(
    (r) => r.entries === row.entries && r.op === row.op && r.impl.startsWith('Map'),
  );
  const ratio = base ? (row.opsPerSec / base.opsPerSec).toFixed(2) : '';
  console.log(
    `| ${fmt(row.entries)} | ${row.op} | ${row.impl} | ${fmt(row.opsPerSec)} | ${row.nsPerOp.toFixed(0)} | ${ratio}× |`,
  );
}
if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify(rows, null, 2));
