// The client matrix of issue 14, for real: independent TLS clients (GnuTLS, Go crypto/tls, Python
// ssl, curl, headless Chromium over DevTools, and openssl s_client in two TLS 1.3 corners) connect
// twice, with one client-side session cache, through a plain TCP front to `serve` processes (the
// built CLI): the same process twice, or process A then process B sharing SQLite or Redis. Whether
// the second connection resumed is read from the SERVER's answer (`resumed: yes|no`), never from the
// client; the protocol too. Each cell must equal test/clients/matrix-expected.ts, which is what
// docs/clients.md publishes. A client that is not installed skips with the reason, except with
// CI=true, where it fails. Each `serve` mode (stateful, tickets) gets one fleet of server processes
// (and one more for the HelloRetryRequest client, whose servers allow only P-256), started once and
// shared by all clients; the processes of a tickets fleet share ticket keys through their store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { cliProcesses } from '../helpers/cli-processes.js';
import { chromium } from '../helpers/clients/chromium.js';
import type { ClientDriver, ClientId } from '../helpers/clients/client-driver.js';
import { curl } from '../helpers/clients/curl.js';
import { startFleetFront, type FleetFront } from '../helpers/clients/fleet-front.js';
import { gnutlsCli } from '../helpers/clients/gnutls-cli.js';
import { goCryptoTls, GO_BUILD_TIMEOUT_MS } from '../helpers/clients/go-tls.js';
import { opensslHelloRetry, opensslNoMiddlebox } from '../helpers/clients/openssl-s-client.js';
import { pythonSsl } from '../helpers/clients/python-ssl.js';
import { CLIENT_COMMAND_TIMEOUT_MS } from '../helpers/clients/run-command.js';
import {
  TOPOLOGIES,
  startServeFleet,
  type ServeFleet,
  type Topology,
} from '../helpers/clients/serve-fleet.js';
import { WAIT_MS } from '../helpers/eventually.js';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  CLIENTS,
  EXPECTED_MATRIX,
  MODE_ARGS,
  type MatrixRow,
  type ServerSetup,
} from './matrix-expected.js';
import { renderMatrix } from './matrix-table.js';

/** The name every client sends (SNI, Host): the test certificate's. */
const SERVER_NAME = 'localhost';

const drivers: Record<ClientId, ClientDriver> = {
  gnutls: gnutlsCli(),
  go: goCryptoTls(),
  python: pythonSsl(),
  curl: curl(),
  chromium: chromium(),
  'openssl-no-middlebox': opensslNoMiddlebox(),
  'openssl-hrr': opensslHelloRetry(),
};

/** Skip with the reason, or, under CI, fail: CI must run every client (`.ci/run` installs them). */
function unavailableMustFailInCi(what: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`CI is set but ${what} cannot run: ${reason}`);
  }
  console.warn(`\n*** SKIPPING ${what}: ${reason} ***\n`);
  return true;
}

const NO_REDIS = unavailableMustFailInCi(
  'the Redis column of the client matrix',
  redisAvailable
    ? undefined
    : 'redis-server/redis-cli not found on PATH (apt-get install -y redis-server)',
);

/** One fleet per server setup and mode that some row needs. */
const FLEET_KEYS = new Set(
  EXPECTED_MATRIX.map((row) => `${CLIENTS[row.client].servers}/${row.mode}` as const),
);

const cli = cliProcesses();
let dir: string;
/** The keyring of tickets mode (`--key-file`): seals the ticket keys in the shared stores. */
let keyFile: string;
let pki: TestPki;
let redis: RedisServer | undefined;
const fleets = new Map<`${ServerSetup}/${string}`, ServeFleet>();
const observed: MatrixRow[] = [];
const fronts: FleetFront[] = [];
const began = performance.now();

/**
 * A server whose OpenSSL offers only P-256 (through Node's OpenSSL configuration, the `nodejs_conf`
 * section, as an operator would set it): a client whose key share is X25519 gets a HelloRetryRequest.
 */
function p256OnlyEnv(): NodeJS.ProcessEnv {
  const file = join(dir, 'p256-only.cnf');
  writeFileSync(
    file,
    [
      'nodejs_conf = nodejs_init',
      '[nodejs_init]',
      'ssl_conf = ssl_sect',
      '[ssl_sect]',
      'system_default = system_default_sect',
      '[system_default_sect]',
      'Groups = P-256',
      '',
    ].join('\n'),
  );
  return { ...process.env, OPENSSL_CONF: file };
}

beforeAll(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-client-matrix-'));
    pki = makeTestPki();
    keyFile = join(dir, 'keys');
    writeFileSync(keyFile, `matrix:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    redis = NO_REDIS ? undefined : await startRedis();
    // One fleet after the other: ten processes starting at once on 2 busy cores take too long.
    for (const key of FLEET_KEYS) {
      const [servers, mode] = key.split('/') as [ServerSetup, MatrixRow['mode']];
      const starting = performance.now();
      fleets.set(
        `${servers}/${mode}`,
        await startServeFleet({
          cli,
          dir,
          certFile: pki.files.serverCert,
          keyFile: pki.files.serverKey,
          redisUrl: redis?.url,
          sessionIdContext: `matrix-${servers}-${mode}`,
          args: MODE_ARGS[mode](keyFile),
          ...(servers === 'p256-only' ? { env: p256OnlyEnv() } : {}),
        }),
      );
      console.log(
        `serve processes (${key}) listening after ${Math.round(performance.now() - starting)} ms`,
      );
    }
    // Bound: the PKI and redis-server (seconds), then the fleets one after the other, each within
    // startServe's WAIT_MS (its processes start in parallel); the rest is margin for a loaded machine.
  },
  FLEET_KEYS.size * WAIT_MS + 30_000,
);

afterAll(async () => {
  await Promise.all(Object.values(drivers).map((driver) => driver.close()));
  await Promise.all(fronts.map((front) => front.close()));
  await cli.stopAll();
  await redis?.stop();
  pki?.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  // What this run saw, as the doc prints it: the same table as docs/clients.md when all passed.
  console.log(`client matrix observed in ${Math.round(performance.now() - began)} ms:`);
  console.log(await renderMatrix(observed));
});

/** Where the front routed each connection (A, B) in each topology of the row running: told on failure. */
const connections = new Map<Topology, string>();

/** Runs one cell: two connections through a front; the server's answer to the second. */
async function resumedOnSecond(row: MatrixRow, topology: Topology): Promise<boolean> {
  const fleet = fleets.get(`${CLIENTS[row.client].servers}/${row.mode}`);
  const ports = fleet?.[topology];
  if (ports === undefined) throw new Error(`no ${topology} servers`);
  const driver = drivers[row.client];
  const front = await startFleetFront(
    ports[0],
    ports[1],
    driver.switchesExplicitly ? 'until-switch' : 'first-connection',
  );
  // Closed only in afterAll: a port is never reused by a later cell, so no client can offer a session
  // it cached under the same host:port for other servers.
  fronts.push(front);
  const answers = await driver.connectTwice({
    port: front.port,
    version: row.version,
    serverName: SERVER_NAME,
    switchToSecond: () => front.switchToSecond(),
  });
  const protocol = `TLSv${row.version}`;
  // The first connection is a full handshake in the version asked for (when it has an answer).
  if (answers.first !== undefined) expect(answers.first).toEqual({ protocol, resumed: false });
  expect(answers.second.protocol).toBe(protocol);
  // The connections went where the cell says: the first to A, the last (the second) to B.
  expect(front.routed[0]).toBe(ports[0]);
  expect(front.routed.at(-1)).toBe(ports[1]);
  if (driver.switchesExplicitly) expect(front.routed.length).toBeGreaterThanOrEqual(2);
  else expect(front.routed).toHaveLength(2);
  connections.set(topology, front.routed.map((port) => (port === ports[0] ? 'A' : 'B')).join(''));
  return answers.second.resumed;
}

for (const [client, driver] of Object.entries(drivers) as [ClientId, ClientDriver][]) {
  describe(`${CLIENTS[client].label}`, () => {
    let skip = false;
    beforeAll(async () => {
      const checking = performance.now();
      skip = unavailableMustFailInCi(`${client} in the client matrix`, await driver.unavailable());
      const ms = Math.round(performance.now() - checking);
      if (!skip) console.log(`${client}: ${driver.version ?? ''} (ready in ${ms} ms)`);
    }, GO_BUILD_TIMEOUT_MS + 10_000);

    for (const row of EXPECTED_MATRIX.filter((r) => r.client === client)) {
      it(
        `TLS ${row.version}, ${row.mode}: resumes ${JSON.stringify(row.resumes)}`,
        async (ctx) => {
          if (skip) ctx.skip();
          const measured = TOPOLOGIES.filter((t) => !(t === 'redis' && NO_REDIS));
          const seen: Partial<Record<Topology, boolean>> = {};
          connections.clear();
          for (const topology of measured) seen[topology] = await resumedOnSecond(row, topology);
          if (measured.length === TOPOLOGIES.length) {
            observed.push({ ...row, resumes: seen as Record<Topology, boolean> });
          }
          const routed = JSON.stringify(Object.fromEntries(connections));
          expect(seen, `connections per topology, in accept order: ${routed}`).toEqual(
            Object.fromEntries(measured.map((t) => [t, row.resumes[t]])),
          );
        },
        6 * CLIENT_COMMAND_TIMEOUT_MS,
      );
    }
  });
}
