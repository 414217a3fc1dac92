// The pure parts of `npm run bench`: parsing s_time's output, the ratios and their targets, the
// JSON schema check and the SVG chart, on made-up numbers (no process is started here).
import { describe, expect, it } from 'vitest';
import { parseSTime } from '../../bench/anchors/s-time.js';
import { escapeXml, niceStep, renderChart } from '../../bench/report/chart.js';
import { computeRatios } from '../../bench/report/ratios.js';
import { benchResultSchema, validate } from '../../bench/report/schema.js';
import type { BenchResult, CaseResult } from '../../bench/report/types.js';

const S_TIME_REUSE = `Collecting connection statistics for 2 seconds
Now timing with session id reuse.
starting
*rrrrrrrrr

10 connections in 0.01s; 1000.00 connections/user sec, bytes read 0
10 connections in 3 real seconds, 0 bytes read per connection
`;

describe('parseSTime', () => {
  it('counts resumed and full connections from the progress characters', () => {
    const r = parseSTime(S_TIME_REUSE, 2.5);
    expect(r).toMatchObject({
      connections: 10,
      resumed: 9,
      full: 1,
      connectionsPerUserSec: 1000,
      realSeconds: 3,
      wallSeconds: 2.5,
    });
    expect(r.handshakesPerSecond).toBe(4);
  });

  it('does not count the letters of the summary lines', () => {
    const r = parseSTime(S_TIME_REUSE.replace('*rrrrrrrrr', '**********'), 1);
    expect(r.resumed).toBe(0);
    expect(r.full).toBe(10);
  });

  it('refuses output without the summary', () => {
    expect(() => parseSTime('ERROR\nconnect: Connection refused\n', 1)).toThrow(/s_time output/);
  });
});

function row(
  id: string,
  fields: Partial<CaseResult> & Pick<CaseResult, 'config' | 'tls' | 'mode'>,
): CaseResult {
  const hs = fields.handshakesPerSec ?? 1000;
  return {
    id,
    client: 'node',
    server: 'node',
    store: fields.config.replace(/^attach-/, ''),
    label: fields.config,
    ticketReuse: false,
    handshakesPerSec: hs,
    p50Ms: 1,
    p99Ms: 2,
    resumedFraction: fields.mode === 'resumed' ? 1 : 0,
    clientP50Ms: 1,
    serverCpuUsPerHandshake: 500,
    clientCpuUsPerHandshake: 700,
    serverElu: 0.5,
    clientElu: 0.9,
    errors: 0,
    rounds: 1,
    spread: 0,
    minHandshakesPerSec: hs,
    maxHandshakesPerSec: hs,
    samples: [
      {
        handshakesPerSec: hs,
        resumedFraction: 1,
        p50Ms: 1,
        p99Ms: 2,
        serverCpuUsPerHandshake: 500,
        errors: 0,
      },
    ],
    ...fields,
  };
}

const CASES: CaseResult[] = [
  row('attach-memory/TLSv1.2/resumed', {
    config: 'attach-memory',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 1000,
    serverCpuUsPerHandshake: 400,
  }),
  row('map/TLSv1.2/resumed', {
    config: 'map',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 1000,
    serverCpuUsPerHandshake: 300,
  }),
  row('map/TLSv1.2/full', {
    config: 'map',
    tls: '1.2',
    mode: 'full',
    handshakesPerSec: 400,
    serverCpuUsPerHandshake: 900,
  }),
  row('node-tickets/TLSv1.2/resumed', {
    config: 'node-tickets',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 800,
  }),
  row('attach-memory/TLSv1.2/full', {
    config: 'attach-memory',
    tls: '1.2',
    mode: 'full',
    handshakesPerSec: 500,
    serverCpuUsPerHandshake: 800,
  }),
  row('attach-sqlite/TLSv1.2/resumed', {
    config: 'attach-sqlite',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 850,
  }),
  row('attach-redis/TLSv1.2/resumed', {
    config: 'attach-redis',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 850,
  }),
  row('attach-tickets-sqlite/TLSv1.2/resumed', {
    config: 'attach-tickets-sqlite',
    store: 'sqlite',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 780,
  }),
  row('s_time:s_server/TLSv1.2/resumed', {
    client: 's_time',
    config: 's_server',
    tls: '1.2',
    mode: 'resumed',
    handshakesPerSec: 5000,
    p50Ms: null,
    p99Ms: null,
    serverElu: null,
    clientElu: null,
    clientP50Ms: null,
    clientCpuUsPerHandshake: null,
  }),
];

describe('computeRatios', () => {
  const ratios = computeRatios(CASES);
  const byName = (name: string) => ratios.find((r) => r.name === name);

  it('checks the anchors against the targets, on handshakes/s and on server capacity', () => {
    expect(byName('memory ÷ bare Map, TLS 1.2 resumed')).toMatchObject({
      handshakesPerSec: 1,
      serverCapacity: 0.75,
      target: 0.95,
      met: true,
      capacityMet: false,
    });
    expect(byName('memory ÷ Node tickets, TLS 1.2 resumed')).toMatchObject({
      handshakesPerSec: 1.25,
      target: 1.5,
      met: false,
    });
    expect(byName('memory (our client) ÷ s_server (s_time), TLS 1.2 resumed')).toMatchObject({
      handshakesPerSec: 0.2,
      met: false,
    });
    expect(byName('resumed ÷ full: attach-memory, TLS 1.2')).toMatchObject({
      handshakesPerSec: 2,
      serverCapacity: 2,
      target: 5,
    });
  });

  it('compares what resumption saves with our cache and with a bare Map (issue 15)', () => {
    // memory: resumed ÷ full 2× in handshakes/s, 2× in capacity (800 / 400 µs);
    // Map: 2.5× and 3× (900 / 300 µs): 2 ÷ 2.5 and 2 ÷ 3 of what the Map saves.
    const savings = byName(
      'savings kept: memory (resumed ÷ full) ÷ bare Map (resumed ÷ full), TLS 1.2',
    );
    expect(savings).toMatchObject({ target: 0.95, met: false, capacityMet: false });
    expect(savings!.handshakesPerSec).toBeCloseTo(0.8, 10);
    expect(savings!.serverCapacity).toBeCloseTo(2 / 3, 10);
  });

  it('finds the stores by name and gives SQLite and Redis their own targets', () => {
    expect(byName('sqlite ÷ memory, TLS 1.2 resumed')).toMatchObject({ target: 0.9, met: false });
    expect(byName('redis ÷ memory, TLS 1.2 resumed')).toMatchObject({ target: 0.8, met: true });
  });

  it('compares tickets mode with Node tickets (issue 14 target) and with stateful on the same store', () => {
    expect(byName('tickets mode (sqlite) ÷ Node tickets, TLS 1.2 resumed')).toMatchObject({
      handshakesPerSec: 0.975,
      target: 0.97,
      met: true,
    });
    expect(byName('tickets mode ÷ stateful (sqlite), TLS 1.2 resumed')).toMatchObject({
      handshakesPerSec: 780 / 850,
      target: null,
    });
    // Not a store of its own: no second "sqlite ÷ memory" ratio.
    expect(ratios.filter((r) => r.name === 'sqlite ÷ memory, TLS 1.2 resumed')).toHaveLength(1);
  });

  it('leaves out ratios whose cases were not measured', () => {
    expect(byName('TLS 1.3 stateful (memory) ÷ stateless Node tickets, resumed')).toBeUndefined();
  });
});

function result(cases: CaseResult[]): BenchResult {
  return {
    meta: {
      date: '2026-01-01T00:00:00.000Z',
      command: 'npm run bench',
      node: 'v20.20.2',
      nodeOpenssl: '3.0.19',
      opensslCli: 'OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)',
      cpus: 2,
      cpuModel: 'test',
      platform: 'linux',
      rounds: 1,
      durationS: 1,
      warmupS: 1,
      sTimeSeconds: 1,
      concurrency: 8,
      loadAverageBefore: 0,
      loadAverageAfter: 0,
      elapsedS: 1,
    },
    notes: [],
    cases: structuredClone(cases), // the tests below damage their copy
    ratios: computeRatios(cases),
  };
}

describe('benchResultSchema', () => {
  it('accepts a result, nulls included where a metric cannot be measured', () => {
    expect(validate(benchResultSchema, result(CASES))).toEqual([]);
  });

  it('names every violation by its path', () => {
    const bad = result(CASES) as unknown as { cases: Record<string, unknown>[] };
    bad.cases[0]!.tls = '1.1';
    bad.cases[1]!.handshakesPerSec = NaN;
    delete bad.cases[2]!.p50Ms;
    bad.cases[3]!.resumedFraction = 1.5;
    expect(validate(benchResultSchema, bad)).toEqual([
      '$.cases[0].tls: "1.1" is not one of 1.2, 1.3',
      '$.cases[1].handshakesPerSec: expected a finite number',
      '$.cases[2].p50Ms: missing',
      '$.cases[3].resumedFraction: > 1',
    ]);
  });
});

describe('renderChart', () => {
  it('draws two bars per case and escapes the labels', () => {
    const cases = [
      ...CASES,
      row('attach-a<b/TLSv1.3/full', { config: 'attach-a<b>&"', tls: '1.3', mode: 'full' }),
    ];
    const svg = renderChart(result(cases));
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(2 * cases.length);
    expect(svg).toContain('attach-a&lt;b&gt;&amp;&quot;');
    expect(svg).not.toContain('a<b>');
    expect(svg).toContain('TLS 1.2 · resumed');
    expect(svg).toContain('TLS 1.3 · full');
  });

  it('rounds axis steps to 1, 2 or 5 × 10^k', () => {
    expect(niceStep(7379)).toBe(2000);
    expect(niceStep(950)).toBe(500);
    expect(niceStep(0)).toBe(1);
    expect(escapeXml('<&>"')).toBe('&lt;&amp;&gt;&quot;');
  });
});
