// `serve --metrics-port` and `--log-events` as users run them: the built CLI on a real SQLite file,
// real handshakes with openssl s_client, /metrics scraped over HTTP before and after, the counters
// moving as they must; the event lines on stderr; and `stats --server` reading the same endpoint.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { cliProcesses, type Serving } from '../helpers/cli-processes.js';

const cli = cliProcesses();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-operating-metrics-'));
});
afterEach(() => cli.stopAll());
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The samples of a Prometheus text exposition, keyed `name{labels}` as written. */
function scrapeText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return scrapeText(await response.text());
}

function metricsUrl(server: Serving): string {
  const match = /^metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(server.stdout());
  expect(match).not.toBeNull();
  return match![1]!;
}

const M = 'tls_session_cache_';

describe('serve --metrics-port', () => {
  it('serves /metrics on 127.0.0.1 whose counters move with real handshakes', async () => {
    const db = join(dir, 'metrics.db');
    const server = await cli.startServe([
      '--mode',
      'stateful',
      '--store',
      `sqlite:${db}`,
      '--metrics-port',
      '0',
    ]);
    expect(server.stdout()).toMatch(
      /^listening on https:\/\/127\.0\.0\.1:\d+\nmetrics on http:\/\/127\.0\.0\.1:\d+\/metrics\n$/,
    );
    const url = metricsUrl(server);
    const before = await scrape(url);
    for (const name of [
      'handshakes_total',
      'hits_total',
      'lookups_total',
      'store_writes_total',
      'store_dropped_writes_total',
      'store_read_errors_total',
      'store_in_flight',
    ]) {
      expect(before.get(M + name), name).toBe(0);
    }
    expect(before.get(`${M}store_operation_duration_seconds_count{operation="set"}`)).toBe(0);
    // prom-client's default process metrics are there too.
    expect(before.has('process_cpu_user_seconds_total')).toBe(true);

    const pem12 = join(dir, 's12.pem');
    const pem13 = join(dir, 's13.pem');
    const full12 = await cli.sClient(server.port, ['-tls1_2', '-sess_out', pem12]);
    const full13 = await cli.sClient(server.port, ['-tls1_3', '-sess_out', pem13]);
    expect(full12.stdout + full13.stdout).not.toMatch(/^Reused/m);
    const resumed12 = await cli.sClient(server.port, ['-tls1_2', '-sess_in', pem12]);
    const resumed13 = await cli.sClient(server.port, ['-tls1_3', '-sess_in', pem13]);
    expect(resumed12.stdout).toMatch(/^Reused, TLSv1\.2/m);
    expect(resumed13.stdout).toMatch(/^Reused, TLSv1\.3/m);

    const after = await scrape(url);
    expect(after.get(`${M}handshakes_total`)).toBe(4);
    expect(after.get(`${M}connections_total`)).toBe(4);
    expect(after.get(`${M}resumed_handshakes_total{protocol="TLSv1.2"}`)).toBe(1);
    expect(after.get(`${M}resumed_handshakes_total{protocol="TLSv1.3"}`)).toBe(1);
    expect(after.get(`${M}hits_total`)).toBe(2);
    expect(after.get(`${M}lookups_total`)).toBe(2);
    // TLS 1.3 lookups always go to the store (an atomic take); TLS 1.2 resumed from memory here.
    expect(after.get(`${M}store_reads_total`)).toBe(1);
    expect(after.get(`${M}store_found_total`)).toBe(1);
    expect(after.get(`${M}cb_hits_total`)).toBe(1);
    // 1 TLS 1.2 session; 2 tickets on the full TLS 1.3 handshake and 1 on the resumed one
    // (OpenSSL); a TLS 1.2 resumption makes no new session: 4 writes, each timed.
    expect(after.get(`${M}store_writes_total`)).toBe(4);
    expect(after.get(`${M}store_operation_duration_seconds_count{operation="set"}`)).toBe(4);
    expect(after.get(`${M}store_operation_duration_seconds_count{operation="take"}`)).toBe(1);
    expect(
      after.get(`${M}store_operation_duration_seconds_bucket{operation="set",le="+Inf"}`),
    ).toBe(4);
    expect(after.get(`${M}store_operation_duration_seconds_sum{operation="set"}`)).toBeGreaterThan(
      0,
    );
    expect(after.get(`${M}sessions_rejected_total{reason="host-name"}`)).toBe(0);

    const missing = await fetch(url.replace('/metrics', '/'));
    expect(missing.status).toBe(404);
    await missing.text();
  });

  it('stats --server reads the hit rate and counters of a running server', async () => {
    const db = join(dir, 'stats.db');
    const server = await cli.startServe([
      '--mode',
      'stateful',
      '--store',
      `sqlite:${db}`,
      '--metrics-port',
      '0',
    ]);
    const pem = join(dir, 'stats.pem');
    await cli.sClient(server.port, ['-tls1_2', '-sess_out', pem]);
    await cli.sClient(server.port, ['-tls1_2', '-sess_in', pem]);
    await cli.sClient(server.port, ['-tls1_2', '-sess_in', pem]);
    const base = metricsUrl(server).replace('/metrics', '');
    const result = await cli.runCli([
      'stats',
      '--store',
      `sqlite:${db}`,
      '--server',
      base,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      store: { live: number; byProtocol: Record<string, number> };
      server: { url: string; hitRate: number; metrics: Record<string, number> };
    };
    expect(report.store.live).toBe(1);
    expect(report.store.byProtocol).toEqual({ 'TLSv1.2': 1 });
    expect(report.server.url).toBe(`${base}/metrics`);
    expect(report.server.hitRate).toBe(1);
    expect(report.server.metrics[`${M}handshakes_total`]).toBe(3);
    expect(report.server.metrics[`${M}resumed_handshakes_total{protocol="TLSv1.2"}`]).toBe(2);
    expect(Object.keys(report.server.metrics).some((k) => k.includes('_bucket'))).toBe(false);

    const text = await cli.runCli(['stats', '--server', base]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^hit rate\s+100\.0 %$/m);
    expect(text.stdout).toMatch(/^handshakes_total\s+3$/m);

    await cli.stopAll();
    const gone = await cli.runCli(['stats', '--server', base]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /^tls-session-cache: --server: cannot read http:\/\/127\.0\.0\.1:\d+\/metrics: ECONNREFUSED\n$/,
    );
  });

  it('a bad --metrics-port is one line and exit code 1', async () => {
    const result = await cli.runCli(['serve', '--port', '0', '--metrics-port', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tls-session-cache: --metrics-port: must be a whole number/);
  });
});

describe('serve --log-events', () => {
  it('prints new, resume, miss and remove events as JSON lines with id prefixes, never a secret', async () => {
    const server = await cli.startServe(['--mode', 'stateful', '--tls', '1.3', '--log-events']);
    const pem = join(dir, 'events.pem');
    await cli.sClient(server.port, ['-tls1_3', '-sess_out', pem]);
    const resumed = await cli.sClient(server.port, ['-tls1_3', '-sess_in', pem]);
    expect(resumed.stdout).toMatch(/^Reused, TLSv1\.3/m);
    // The same ticket again: single use, so a miss.
    const again = await cli.sClient(server.port, ['-tls1_3', '-sess_in', pem]);
    expect(again.stdout).toMatch(/^New, TLSv1\.3/m);
    await cli.stopAll();

    const lines = server.stderr().trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) {
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof event.namespace).toBe('string');
      expect(event.id).toMatch(/^[0-9a-f]{16}…$/);
    }
    const names = events.map((e) => e.event);
    // 2 tickets on each full handshake, 1 on the resumed one (OpenSSL).
    expect(names.filter((n) => n === 'new')).toHaveLength(5);
    expect(names.filter((n) => n === 'resume')).toHaveLength(1);
    expect(events.find((e) => e.event === 'resume')).toMatchObject({ source: 'external' });
    expect(events.find((e) => e.event === 'miss')).toMatchObject({ reason: 'not-found' });
    const ticket = decodeSession(readFileSync(pem, 'utf8')).ticket()!.toString('hex');
    expect(events.find((e) => e.event === 'resume')!.id).toBe(`${ticket.slice(0, 16)}…`);
    const secret = decodeSession(readFileSync(pem, 'utf8')).masterSecret().toString('hex');
    expect(server.stderr().toLowerCase()).not.toContain(secret);
  });
});
