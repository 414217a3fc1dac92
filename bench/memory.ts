/**
 * `npm run bench:memory`: bytes per cached session in a {@link SessionCache} at 20 480 (OpenSSL's
 * default bound) and 1 000 000 sessions, next to alternative layouts measured the same way, so that
 * the cost of each part of an entry can be read off and a leaner layout judged by numbers.
 *
 *   npm run bench:memory [-- --quick] [-- --sizes 20480,1000000] [-- --layouts a,b] [-- --json FILE]
 *
 * The session: a real TLS 1.2 server-side `SSL_SESSION` DER, taken from a real handshake with
 * Node 20 (ECDSA P-256 certificate, `statefulServerOptions()`, a 32-byte session id context as
 * Node's default one is, ALPN `http/1.1`): about 170 bytes. Every cached copy gets its own
 * ArrayBuffer (Node's `newSession` hands out a Buffer with its own backing store) and a unique
 * 32-byte id written into the DER; each record is built by `sessionRecordFromDer()` exactly as
 * `attach()` builds it, with the SNI host name as a fresh string per session (as parsed from each
 * ClientHello).
 *
 * Method: every (layout, size) runs in a fresh process with `--expose-gc`; it takes
 * `process.memoryUsage()` after two full GCs, builds the sessions, keeps them reachable, collects
 * twice more and measures again. "heap + external" is V8's `heapUsed` plus `external` (ArrayBuffer
 * contents); it does not see the C++ side of each ArrayBuffer (V8's BackingStore and extension
 * objects, malloc headers), which RSS does — RSS also sees freed pages not yet returned to the OS,
 * so it is an upper bound and is noisier at 20 480.
 *
 * @module
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { SessionCache } from '../src/cache/index.js';
import { namespaceOf } from '../src/node/namespace.js';
import { sessionRecordFromDer } from '../src/session/session-record.js';
import { statefulServerOptions } from '../src/node/stateful-options.js';
import { decodeSession } from '../src/session/decode.js';
import { generateCert, readCert, removeCert } from './handshake/certs.js';
import { exited, TSX_ARGS } from './handshake/orchestrator.js';

// --- the layouts --------------------------------------------------------------------------------------

/** Makes session `i`: its DER (own ArrayBuffer, unique id) and its SNI (a fresh string). */
interface SessionSource {
  der(i: number): Buffer;
  host(): string;
  namespace: string;
}

interface Layout {
  name: string;
  what: string;
  /** Builds `n` sessions and returns what keeps them reachable. */
  build(n: number, source: SessionSource): unknown;
}

/**
 * A leaner cache entry: the record and the cache entry in one object, no per-entry Buffer views
 * (the id is the tail of the key; the sid_ctx is the namespace's), no per-entry hit object.
 */
class CompactEntry {
  constructor(
    /** `namespace \0 id` as one flat string: the map key, and the id (latin1) when needed. */
    readonly key: string,
    /** The DER: a Buffer with its own ArrayBuffer, or a latin1 string. */
    readonly data: Buffer | string,
    /** Seconds since the cache's epoch (OpenSSL keeps session times in seconds too). */
    readonly timeS: number,
    readonly expiresAtS: number,
    /** Interned: one string per distinct host name. */
    readonly hostName: string | undefined,
    /** protocolVersion << 1 | extendedMasterSecret. */
    readonly flags: number,
    public prev: CompactEntry | undefined,
    public next: CompactEntry | undefined,
  ) {}
}

/** Builds the compact entries of `n` sessions into a Map, linked in insertion (= expiry) order. */
function buildCompact(
  n: number,
  source: SessionSource,
  data: 'buffer' | 'slab' | 'string',
  flatKey: boolean,
) {
  const map = new Map<string, CompactEntry>();
  // A bump allocator over one big buffer: what a slab with a free list approaches (no holes here).
  const slab = data === 'slab' ? Buffer.allocUnsafeSlow(source.der(0).length * n) : undefined;
  let used = 0;
  const hosts = new Map<string, string>();
  const epochS = Math.floor(Date.now() / 1000);
  let tail: CompactEntry | undefined;
  const prefix = Buffer.from(`${source.namespace}\u0000`, 'latin1');
  for (let i = 0; i < n; i++) {
    const der = source.der(i);
    const record = sessionRecordFromDer(der, source.namespace, source.host());
    const id = Buffer.from(record.id.buffer, record.id.byteOffset, record.id.byteLength);
    const key = flatKey
      ? Buffer.concat([prefix, id]).toString('latin1') // one flat one-byte string
      : `${source.namespace}\u0000${id.toString('latin1')}`; // what src/cache does today
    let host = record.hostName;
    if (host !== undefined) {
      const interned = hosts.get(host);
      if (interned === undefined) hosts.set(host, host);
      else host = interned;
    }
    const timeS = record.time - epochS;
    let kept: Buffer | string = der;
    if (data === 'string') {
      kept = der.toString('latin1');
    } else if (slab !== undefined) {
      kept = slab.subarray(used, used + der.length);
      der.copy(kept);
      used += der.length;
    }
    const entry = new CompactEntry(
      key,
      kept,
      timeS,
      timeS + record.timeout,
      host,
      (record.protocolVersion << 1) | (record.extendedMasterSecret ? 1 : 0),
      tail,
      undefined,
    );
    if (tail !== undefined) tail.next = entry;
    tail = entry;
    map.set(key, entry);
  }
  return map;
}

const LAYOUTS: readonly Layout[] = [
  {
    name: 'session-cache',
    what: 'SessionCache + sessionRecordFromDer(), as attach() stores a session',
    build: (n, source) => {
      const cache = new SessionCache({ cacheSize: n });
      for (let i = 0; i < n; i++) {
        cache.sessionNegotiated(
          sessionRecordFromDer(source.der(i), source.namespace, source.host()),
        );
      }
      return cache;
    },
  },
  {
    name: 'records',
    what: 'the SessionRecords alone, in an array (no cache)',
    build: (n, source) =>
      Array.from({ length: n }, (_, i) =>
        sessionRecordFromDer(source.der(i), source.namespace, source.host()),
      ),
  },
  {
    name: 'der-buffers',
    what: 'the DER Buffers alone (own ArrayBuffer each), in an array',
    build: (n, source) => Array.from({ length: n }, (_, i) => source.der(i)),
  },
  {
    name: 'der-slab-views',
    what: 'the DER as Buffer views into one big ArrayBuffer, in an array',
    build: (n, source) => {
      const size = source.der(0).length;
      const slab = Buffer.allocUnsafeSlow(size * n);
      return Array.from({ length: n }, (_, i) => {
        const view = slab.subarray(i * size, (i + 1) * size);
        source.der(i).copy(view);
        return view;
      });
    },
  },
  {
    name: 'views',
    what: 'a 32-byte Buffer view (subarray) per session into one shared buffer: the cost of a view',
    build: (n) => {
      const shared = Buffer.alloc(64);
      return Array.from({ length: n }, () => shared.subarray(16, 48));
    },
  },
  {
    name: 'der-strings',
    what: 'the DER as latin1 strings, in an array',
    build: (n, source) => Array.from({ length: n }, (_, i) => source.der(i).toString('latin1')),
  },
  {
    name: 'bare-map',
    what: "Map<hex id, DER Buffer>: the hand-written Map of the handshake bench's `map` server",
    build: (n, source) => {
      const map = new Map<string, Buffer>();
      for (let i = 0; i < n; i++) {
        const der = source.der(i);
        map.set(decodeSession(der).sessionId.toString('hex'), der);
      }
      return map;
    },
  },
  {
    name: 'compact',
    what: 'experiment: record and entry merged into one object, times in seconds, a linked list for expiry; DER Buffer',
    build: (n, source) => buildCompact(n, source, 'buffer', false),
  },
  {
    name: 'compact-flat-key',
    what: 'the same with the map key built as one flat string (no cons string)',
    build: (n, source) => buildCompact(n, source, 'buffer', true),
  },
  {
    name: 'compact-slab',
    what: 'the same with the DER copied into a shared slab (a Buffer view per session, exact sizes)',
    build: (n, source) => buildCompact(n, source, 'slab', true),
  },
  {
    name: 'compact-string',
    what: 'the same with the DER kept as a latin1 string (Buffer.from(s, "latin1") per resumption)',
    build: (n, source) => buildCompact(n, source, 'string', true),
  },
  {
    name: 'arena',
    what: 'lower bound: Map<key, slot> + typed arrays; DER in one slab, 256-byte slots',
    build: (n, source) => {
      const slots = new Map<string, number>();
      const expires = new Int32Array(n);
      const lengths = new Uint16Array(n);
      const slab = Buffer.allocUnsafeSlow(256 * n);
      const prefix = Buffer.from(`${source.namespace}\u0000`, 'latin1');
      for (let i = 0; i < n; i++) {
        const der = source.der(i);
        const record = sessionRecordFromDer(der, source.namespace, source.host());
        const id = Buffer.from(record.id.buffer, record.id.byteOffset, record.id.byteLength);
        slots.set(Buffer.concat([prefix, id]).toString('latin1'), i);
        expires[i] = record.time + record.timeout - 1_700_000_000;
        lengths[i] = der.length;
        der.copy(slab, i * 256);
      }
      return { slots, expires, lengths, slab };
    },
  },
];

// --- the child: one layout, one size ------------------------------------------------------------------

interface Measurement {
  layout: string;
  size: number;
  derBytes: number;
  /** (heapUsed + external) growth per session. */
  bytesPerSession: number;
  heapPerSession: number;
  externalPerSession: number;
  /** RSS growth per session (includes ArrayBuffers' C++ objects and malloc overhead). */
  rssPerSession: number;
  buildSeconds: number;
  /** With `--breakdown`: what the build left on the V8 heap, per session, by kind of object. */
  breakdown?: BreakdownRow[];
}

interface BreakdownRow {
  what: string;
  /** Objects of this kind per session. */
  count: number;
  /** Their bytes per session (V8's self size; ArrayBuffer contents are not on the V8 heap). */
  bytes: number;
}

/** One row per kind of heap object: its name in a heap snapshot, strings by length. */
function kindOf(type: string, name: string): string {
  switch (type) {
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return `${type} of ${name.length} chars`;
    case 'number':
      return 'heap number';
    case 'object':
    case 'array':
    case 'hidden':
    case 'native':
      return `${type} ${name.replace(/ @\d+$/, '')}`.trimEnd();
    default:
      return type;
  }
}

/** Counts and bytes of the V8 heap's live objects by kind, from a heap snapshot. */
async function heapByKind(): Promise<Map<string, { count: number; bytes: number }>> {
  gc();
  gc();
  const chunks: Buffer[] = [];
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map<string, { count: number; bytes: number }>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = kindOf(types[nodes[i + typeAt!]!]!, strings[nodes[i + nameAt!]!]!);
    const row = kinds.get(kind) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += nodes[i + sizeAt!]!;
    kinds.set(kind, row);
  }
  return kinds;
}

declare const gc: () => void;

function collect(): NodeJS.MemoryUsage {
  gc();
  gc();
  return process.memoryUsage();
}

async function child(
  layoutName: string,
  size: number,
  templateHex: string,
  host: string,
  breakdown: boolean,
) {
  const layout = LAYOUTS.find((l) => l.name === layoutName);
  if (layout === undefined) throw new Error(`unknown layout ${layoutName}`);
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  const template = Buffer.from(templateHex, 'hex');
  const decoded = decodeSession(template);
  const idOffset = decoded.sessionId.byteOffset - template.byteOffset;
  if (decoded.sessionId.length !== 32) throw new Error('the template needs a 32-byte session id');
  // The SNI as a ClientHello parser produces it: a new string per hello, sliced from bytes.
  const helloBytes = Buffer.from(host, 'latin1');
  const source: SessionSource = {
    der: (i) => {
      const der = Buffer.alloc(template.length); // its own ArrayBuffer, as Node's newSession's
      template.copy(der);
      der.writeUInt32BE(i >>> 0, idOffset + 28);
      return der;
    },
    host: () => helloBytes.toString('latin1'),
    namespace: namespaceOf('', createHash('sha256').update('bench').digest().subarray(0, 32)),
  };
  if (breakdown) {
    const heapBefore = await heapByKind();
    const kept = layout.build(size, source);
    const heapAfter = await heapByKind();
    const rows: BreakdownRow[] = [];
    for (const [what, after] of heapAfter) {
      const before = heapBefore.get(what) ?? { count: 0, bytes: 0 };
      const bytes = (after.bytes - before.bytes) / size;
      if (Math.abs(bytes) >= 0.5)
        rows.push({ what, count: (after.count - before.count) / size, bytes });
    }
    rows.sort((a, b) => b.bytes - a.bytes);
    if (kept === undefined) throw new Error('nothing built');
    process.send!({ layout: layoutName, size, derBytes: template.length, breakdown: rows });
    return;
  }
  const before = collect();
  const started = process.hrtime.bigint();
  const kept = layout.build(size, source);
  const buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = collect();
  const per = (a: number, b: number) => (a - b) / size;
  const result: Measurement = {
    layout: layoutName,
    size,
    derBytes: template.length,
    bytesPerSession: per(after.heapUsed + after.external, before.heapUsed + before.external),
    heapPerSession: per(after.heapUsed, before.heapUsed),
    externalPerSession: per(after.external, before.external),
    rssPerSession: per(after.rss, before.rss),
    buildSeconds,
  };
  // Keep `kept` alive until after the measurement.
  if (kept === undefined) throw new Error('nothing built');
  process.send!(result);
}

// --- the parent -------------------------------------------------------------------------------------------

/** A real TLS 1.2 server-side session from a real handshake (see the module comment). */
async function realSession(): Promise<Buffer> {
  const cert = generateCert();
  try {
    const { key, cert: certificate } = readCert(cert.dir);
    // Node's default session id context: 32 hex characters of a hash of the command line.
    const sessionIdContext = createHash('sha1').update(process.argv.join(' ')).digest('hex');
    const server = tls.createServer(
      {
        key,
        cert: certificate,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        ALPNProtocols: ['http/1.1'],
        ...statefulServerOptions({ sessionIdContext: sessionIdContext.slice(0, 32) }),
      },
      (socket) => socket.end('x'),
    );
    let der: Buffer | undefined;
    server.on('newSession', (_id: Buffer, data: Buffer, done: () => void) => {
      der = data;
      done();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = tls.connect({
        port,
        host: '127.0.0.1',
        servername: 'localhost',
        ca: certificate,
        ALPNProtocols: ['http/1.1'],
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    server.close();
    if (der === undefined) throw new Error('no session was negotiated');
    return der;
  } finally {
    removeCert(cert);
  }
}

function measure(
  layout: string,
  size: number,
  template: Buffer,
  breakdown = false,
): Promise<Measurement> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--child', layout, '--size', String(size), '--der', template.toString('hex')];
  if (breakdown) args.push('--breakdown');
  const proc = fork(script, [...args, '--host', 'localhost'], {
    // Room for a million sessions of the fattest layout, without GC pressure changing the layout.
    execArgv: [...TSX_ARGS, '--expose-gc', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const done = exited(proc, `${layout}@${size}`);
  return new Promise((resolve, reject) => {
    proc.once('message', (m: Measurement) => {
      proc.disconnect();
      done.then(() => resolve(m), reject);
    });
    done.catch(reject);
  });
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
}

const TARGET_BYTES = 600;

async function main(args: readonly string[]): Promise<void> {
  if (args.includes('--help')) {
    process.stdout.write(`npm run bench:memory -- [options]
  --quick            20 480 sessions only
  --sizes A,B        session counts (default 20480,1000000)
  --layouts a,b      only these layouts (default all: ${LAYOUTS.map((l) => l.name).join(', ')})
  --breakdown        also break SessionCache's bytes down by kind of V8 object (heap snapshots)
  --breakdown-size N sessions for the breakdown (default 100000; a snapshot of 1 M is huge)
  --json FILE        write the measurements as JSON
`);
    return;
  }
  const sizes = (option(args, 'sizes') ?? (args.includes('--quick') ? '20480' : '20480,1000000'))
    .split(',')
    .map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error('--sizes: integers > 0');
  const names = option(args, 'layouts')?.split(',') ?? LAYOUTS.map((l) => l.name);
  const layouts = names.map((name) => {
    const layout = LAYOUTS.find((l) => l.name === name);
    if (layout === undefined) throw new Error(`unknown layout ${name}`);
    return layout;
  });
  const template = await realSession();
  const results: Measurement[] = [];
  for (const size of sizes) {
    for (const layout of layouts) {
      process.stderr.write(`measuring ${layout.name} × ${size.toLocaleString('en-US')} …\n`);
      results.push(await measure(layout.name, size, template));
    }
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');
  const get = (layout: string, size: number) =>
    results.find((r) => r.layout === layout && r.size === size);
  console.log(
    `\nBytes per cached session (Node ${process.version}, ${template.length}-byte TLS 1.2 ` +
      `session DER, 32-byte ids; heap + external after GC, and RSS)\n`,
  );
  console.log(
    `| layout | ${sizes.map((s) => `${fmt(s)}: heap+ext | RSS`).join(' | ')} | what |\n` +
      `|---|${sizes.map(() => '---:|---:').join('|')}|---|`,
  );
  for (const layout of layouts) {
    const cells = sizes.map((s) => {
      const r = get(layout.name, s);
      return r === undefined ? '— | —' : `${fmt(r.bytesPerSession)} | ${fmt(r.rssPerSession)}`;
    });
    console.log(`| ${layout.name} | ${cells.join(' | ')} | ${layout.what} |`);
  }
  const largest = Math.max(...sizes);
  const headline = get('session-cache', largest);
  if (headline !== undefined) {
    const ok = (n: number) => (n <= TARGET_BYTES ? '✓' : '✗');
    console.log(
      `\nTarget (issue 6): ≤ ${TARGET_BYTES} bytes per cached session at 1 000 000 sessions. ` +
        `SessionCache at ${fmt(largest)}: ${fmt(headline.bytesPerSession)} bytes (heap + external) ` +
        `${ok(headline.bytesPerSession)}, ${fmt(headline.rssPerSession)} bytes RSS ` +
        `${ok(headline.rssPerSession)}.`,
    );
    const bytes = (layout: string) => get(layout, largest)?.bytesPerSession;
    const diff = (a: string, b: string) => {
      const x = bytes(a);
      const y = bytes(b);
      return x === undefined || y === undefined ? '?' : fmt(x - y);
    };
    const show = (layout: string) => {
      const n = bytes(layout);
      return n === undefined ? '?' : fmt(n);
    };
    const rss = (layout: string) => {
      const n = get(layout, largest)?.rssPerSession;
      return n === undefined ? '?' : fmt(n);
    };
    console.log(
      `\nWhere it goes at ${fmt(largest)} sessions (heap + external, bytes per session; ` +
        `--breakdown lists every kind of object):\n` +
        `- the DER, kept by the record as a latin1 string: ${show('der-strings')} ` +
        `(${template.length} of data; a Buffer with its own ArrayBuffer, as Node hands it out, ` +
        `costs ${show('der-buffers')}, and ${rss('der-buffers')} in RSS: each ArrayBuffer's C++ ` +
        `BackingStore and malloc blocks, which heap + external does not see; a view into a ` +
        `shared slab ${show('der-slab-views')});\n` +
        `- the SessionRecord object around it: ${diff('records', 'der-strings')} (its fields; ` +
        `id and session id context are positions in the DER, not Buffer views at ` +
        `${show('views')} each; the SNI is interned);\n` +
        `- the cache entry: ${diff('session-cache', 'records')} (the CacheEntry, which is also ` +
        `the lookup answer for a hit, and its two times as heap numbers; the key, one flat ` +
        `string; the Map's hash table; the expiry heap's array).\n` +
        `Experiments measured the same way (see the table): ${LAYOUTS.filter((l) =>
          l.name.startsWith('compact'),
        )
          .map((l) => `${l.name} ${show(l.name)}`)
          .join(', ')}; the arena lower bound ${show('arena')}.`,
    );
  }
  let breakdown: Measurement | undefined;
  if (args.includes('--breakdown')) {
    const n = Number(option(args, 'breakdown-size') ?? 100_000);
    process.stderr.write(`breaking session-cache × ${fmt(n)} down (heap snapshots) …\n`);
    breakdown = await measure('session-cache', n, template, true);
    console.log(
      `\nSessionCache at ${fmt(n)} sessions, by kind of V8 heap object (heap snapshots before and ` +
        `after; objects and bytes per session; ArrayBuffer contents are outside the V8 heap):\n\n` +
        `| object | per session | bytes per session |\n|---|---:|---:|`,
    );
    let total = 0;
    for (const row of breakdown.breakdown ?? []) {
      total += row.bytes;
      console.log(`| ${row.what} | ${row.count.toFixed(2)} | ${row.bytes.toFixed(1)} |`);
    }
    console.log(`| total | | ${total.toFixed(1)} |`);
  }
  const jsonFile = option(args, 'json');
  if (jsonFile !== undefined) {
    writeFileSync(
      jsonFile,
      `${JSON.stringify({ node: process.version, derBytes: template.length, results, breakdown }, null, 2)}\n`,
    );
  }
}

const args = process.argv.slice(2);
const childLayout = option(args, 'child');
if (childLayout !== undefined) {
  await child(
    childLayout,
    Number(option(args, 'size')),
    option(args, 'der')!,
    option(args, 'host')!,
    args.includes('--breakdown'),
  );
} else {
  await main(args);
}
