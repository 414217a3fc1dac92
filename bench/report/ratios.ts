/**
 * The ratios `npm run bench` reports, with the targets of issue 6 ("Benchmarks"):
 *
 * | ratio | target |
 * |---|---|
 * | memory store resumed ÷ bare `Map` (TLS 1.2) | ≥ 0.95 |
 * | memory store resumed ÷ Node tickets (TLS 1.2) | ≥ 1.5 |
 * | memory store resumed ÷ `openssl s_server` (TLS 1.2) | ≥ 0.45 |
 * | TLS 1.3 stateful (memory) ÷ TLS 1.3 stateless tickets, resumed | ≥ 0.9 (0.95 since issue 15) |
 * | resumed ÷ full (our cache) | ≥ 5 |
 * | SQLite ÷ memory, Redis ÷ memory (resumed) | ≥ 0.9, ≥ 0.8 |
 * | tickets mode ÷ Node tickets, resumed, server capacity (issue 14) | ≥ 0.97 |
 *
 * Issue 15 ("Performance") judges in server capacity (1 / server CPU per handshake) and raised two:
 * memory ÷ bare `Map` (TLS 1.2 resumed) ≥ 0.95, TLS 1.3 stateful ÷ stateless ≥ 0.95, and added
 * "the savings kept": attach's resumed ÷ full ≥ 0.95 × the bare `Map`'s resumed ÷ full.
 *
 * Store configurations are found by name (`attach-<store>` in bench/handshake/common.ts), so a
 * store added there gets its ratio against memory without a change here.
 *
 * @module
 */
import type { CaseResult, ClientKind, RatioResult } from './types.js';

/** The targets, named for reuse in notes. */
export const TARGETS = {
  memoryVsMap: 0.95,
  memoryVsTickets: 1.5,
  memoryVsSServer: 0.45,
  tls13StatefulVsStateless: 0.95,
  savingsKeptVsMap: 0.95,
  resumedVsFull: 5,
  sqliteVsMemory: 0.9,
  redisVsMemory: 0.8,
  ticketsVsNodeTickets: 0.97,
} as const;

/**
 * Tickets-mode configurations, each with its stateful counterpart on the same store: compared
 * with Node's own tickets and with stateful resumption, not with the memory store.
 */
const TICKET_CONFIGS: Readonly<Record<string, { store: string; stateful: string }>> = {
  'attach-tickets': { store: 'memory', stateful: 'attach-memorystore' },
  'attach-tickets-sqlite': { store: 'sqlite', stateful: 'attach-sqlite' },
};

/** The target of a store's ratio against the memory store, by the store's name. */
function storeTarget(config: string): number | null {
  if (/sqlite/i.test(config)) return TARGETS.sqliteVsMemory;
  if (/redis/i.test(config)) return TARGETS.redisVsMemory;
  return null;
}

/** The memory-cache configurations the stores are compared with (not stores themselves). */
const MEMORY_CONFIGS = ['attach-memory', 'attach-memory-no-reader'];

interface Key {
  client: ClientKind;
  config: string;
  tls: '1.2' | '1.3';
  mode: 'resumed' | 'full';
  ticketReuse?: boolean;
}

/** Computes every ratio whose two cases were measured in this run. */
export function computeRatios(cases: readonly CaseResult[]): RatioResult[] {
  const find = (k: Key): CaseResult | undefined =>
    cases.find(
      (c) =>
        c.client === k.client &&
        c.config === k.config &&
        c.tls === k.tls &&
        c.mode === k.mode &&
        c.ticketReuse === (k.ticketReuse ?? false),
    );
  const ratios: RatioResult[] = [];
  const add = (
    name: string,
    a: CaseResult | undefined,
    b: CaseResult | undefined,
    target: number | null,
    note: string,
  ): void => {
    if (a === undefined || b === undefined) return;
    if (b.handshakesPerSec <= 0 || a.serverCpuUsPerHandshake <= 0) return;
    const handshakesPerSec = a.handshakesPerSec / b.handshakesPerSec;
    const serverCapacity = b.serverCpuUsPerHandshake / a.serverCpuUsPerHandshake;
    ratios.push({
      name,
      numerator: a.id,
      denominator: b.id,
      handshakesPerSec,
      serverCapacity,
      target,
      met: target === null ? null : handshakesPerSec >= target,
      capacityMet: target === null ? null : serverCapacity >= target,
      note,
    });
  };
  const node = (config: string, tls: '1.2' | '1.3', mode: 'resumed' | 'full', reuse = false) =>
    find({ client: 'node', config, tls, mode, ticketReuse: reuse });
  const sTime = (config: string, mode: 'resumed' | 'full') =>
    find({ client: 's_time', config, tls: '1.2', mode });

  // --- the anchors, TLS 1.2 resumed ----------------------------------------------------------------
  const memory12 = node('attach-memory', '1.2', 'resumed');
  add(
    'memory ÷ bare Map, TLS 1.2 resumed',
    memory12,
    node('map', '1.2', 'resumed'),
    TARGETS.memoryVsMap,
    'our client drives both',
  );
  add(
    'memory ÷ Node tickets, TLS 1.2 resumed',
    memory12,
    node('node-tickets', '1.2', 'resumed'),
    TARGETS.memoryVsTickets,
    'our client drives both',
  );
  add(
    'memory ÷ s_server, TLS 1.2 resumed (s_time drives both)',
    sTime('attach-memory', 'resumed'),
    sTime('s_server', 'resumed'),
    TARGETS.memoryVsSServer,
    'same client: openssl s_time, one connection at a time',
  );
  add(
    'memory ÷ s_server, TLS 1.2 resumed (our client drives both)',
    memory12,
    node('s_server', '1.2', 'resumed'),
    TARGETS.memoryVsSServer,
    's_server serves one connection at a time and also answers a GET',
  );
  add(
    'memory (our client) ÷ s_server (s_time), TLS 1.2 resumed',
    memory12,
    sTime('s_server', 'resumed'),
    TARGETS.memoryVsSServer,
    'different clients, as the issue measured: an anchor, not a like-for-like comparison',
  );
  add(
    'memory ÷ memory without ClientHello reader, TLS 1.2 resumed',
    memory12,
    node('attach-memory-no-reader', '1.2', 'resumed'),
    null,
    'the cost of reading the ClientHello in JavaScript',
  );

  // --- TLS 1.3: stateful single-use tickets vs Node's stateless ones --------------------------------
  const memory13 = node('attach-memory', '1.3', 'resumed');
  add(
    'TLS 1.3 stateful (memory) ÷ stateless Node tickets, resumed',
    memory13,
    node('node-tickets', '1.3', 'resumed'),
    TARGETS.tls13StatefulVsStateless,
    'each ticket used once on both sides; Node issues no new ticket on a resumed stateless handshake',
  );
  add(
    'TLS 1.3 stateful (memory) ÷ stateless Node tickets reused, resumed',
    memory13,
    node('node-tickets', '1.3', 'resumed', true),
    TARGETS.tls13StatefulVsStateless,
    'the stateless client offers its newest ticket again (as https.Agent does): all resume',
  );
  add(
    'TLS 1.3 stateful: memory ÷ s_server, resumed (our client drives both)',
    memory13,
    node('s_server', '1.3', 'resumed'),
    null,
    "OpenSSL's own stateful tickets (-no_ticket) as the anchor",
  );

  // --- resumed ÷ full, for every server and client measured both ways ------------------------------
  const seen = new Set<string>();
  for (const r of cases) {
    if (r.mode !== 'resumed' || r.ticketReuse) continue;
    const key = `${r.client}|${r.config}|${r.tls}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const full = find({ client: r.client, config: r.config, tls: r.tls, mode: 'full' });
    const ours = r.config.startsWith('attach-');
    add(
      `resumed ÷ full: ${r.label}, TLS ${r.tls}${r.client === 's_time' ? ' (s_time)' : ''}`,
      r,
      full,
      ours ? TARGETS.resumedVsFull : null,
      ours ? 'our cache' : 'for comparison',
    );
  }

  // --- the savings kept: (attach resumed ÷ full) ÷ (Map resumed ÷ full), TLS 1.2 -----------------
  // A ratio of ratios: the four cases' handshakes/s and server CPU combine the same way, so it fits
  // the pairwise shape with synthetic "cases" standing for the two resumed ÷ full quotients.
  const savings = (config: string): CaseResult | undefined => {
    const resumed = node(config, '1.2', 'resumed');
    const full = node(config, '1.2', 'full');
    if (resumed === undefined || full === undefined) return undefined;
    return {
      ...resumed,
      id: `${resumed.id} ÷ ${full.id}`,
      handshakesPerSec: resumed.handshakesPerSec / full.handshakesPerSec,
      serverCpuUsPerHandshake: resumed.serverCpuUsPerHandshake / full.serverCpuUsPerHandshake,
    };
  };
  add(
    'savings kept: memory (resumed ÷ full) ÷ bare Map (resumed ÷ full), TLS 1.2',
    savings('attach-memory'),
    savings('map'),
    TARGETS.savingsKeptVsMap,
    'what resumption saves with our cache, against what it saves with a bare Map',
  );

  // --- tickets mode ÷ Node's tickets and ÷ stateful, same store --------------------------------------
  for (const [config, { store, stateful }] of Object.entries(TICKET_CONFIGS)) {
    for (const tls of ['1.2', '1.3'] as const) {
      const r = node(config, tls, 'resumed');
      add(
        `tickets mode (${store}) ÷ Node tickets, TLS ${tls} resumed`,
        r,
        node('node-tickets', tls, 'resumed'),
        TARGETS.ticketsVsNodeTickets,
        'the cost of shared rotating keys, single use and the ClientHello reader (capacity: server CPU)',
      );
      add(
        `tickets mode ÷ stateful (${store}), TLS ${tls} resumed`,
        r,
        node(stateful, tls, 'resumed'),
        null,
        'same store: the client keeps the session vs the store keeps it',
      );
    }
  }

  // --- other stores ÷ memory --------------------------------------------------------------------------
  for (const r of cases) {
    if (r.client !== 'node' || r.mode !== 'resumed' || r.ticketReuse) continue;
    if (!r.config.startsWith('attach-') || MEMORY_CONFIGS.includes(r.config)) continue;
    if (r.config in TICKET_CONFIGS) continue;
    add(
      `${r.store} ÷ memory, TLS ${r.tls} resumed`,
      r,
      node('attach-memory', r.tls, 'resumed'),
      storeTarget(r.config),
      'same wiring, a different store',
    );
  }
  return ratios;
}
