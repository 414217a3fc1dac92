// The client matrix as the tests assert it and docs/clients.md publishes it: for each independent
// client, TLS version and `serve` mode, whether the second connection resumed (by the server's own
// answer) on one process, across two processes sharing SQLite, and across two sharing Redis.
// matrix.test.ts fails when a client behaves otherwise; clients-doc.test.ts fails when the doc is
// not this data rendered (`npm run matrix -- --write` renders it). Change a cell here only together
// with the behaviour it describes.
import type { ClientId, TlsVersion } from '../helpers/clients/client-driver.js';
import type { Topology } from '../helpers/clients/serve-fleet.js';

/** A `serve` mode. Only the stateful one exists so far; issue 14 adds a tickets mode. */
export type ServeMode = 'stateful';

/** The `serve` arguments of each mode. */
export const MODE_ARGS: Record<ServeMode, readonly string[]> = { stateful: [] };

/** Which servers a client meets: the normal ones, or ones whose OpenSSL allows only P-256. */
export type ServerSetup = 'default' | 'p256-only';

/** How each client is named in the matrix, and which servers it meets. */
export const CLIENTS: Record<ClientId, { label: string; servers: ServerSetup }> = {
  gnutls: { label: 'GnuTLS `gnutls-cli --resume`', servers: 'default' },
  go: { label: 'Go `crypto/tls`', servers: 'default' },
  python: { label: 'Python `ssl`', servers: 'default' },
  curl: { label: 'curl (OpenSSL), two URLs', servers: 'default' },
  chromium: { label: 'Chromium (headless, DevTools)', servers: 'default' },
  'openssl-no-middlebox': {
    label: '`openssl s_client -no_middlebox` (empty legacy session id)',
    servers: 'default',
  },
  'openssl-hrr': {
    label: '`openssl s_client` after a HelloRetryRequest',
    servers: 'p256-only',
  },
};

/** One row: a client in one version and mode, and whether it resumes in each topology. */
export interface MatrixRow {
  client: ClientId;
  version: TlsVersion;
  mode: ServeMode;
  resumes: Record<Topology, boolean>;
  /** Why it does not resume, when it does not (printed under the table). */
  why?: string;
}

const everywhere = { 'one-process': true, sqlite: true, redis: true } as const;
const nowhere = { 'one-process': false, sqlite: false, redis: false } as const;

/** Rows for a client that resumes everywhere in both versions. */
function resumesEverywhere(client: ClientId): MatrixRow[] {
  return (['1.2', '1.3'] as const).map((version) => ({
    client,
    version,
    mode: 'stateful',
    resumes: everywhere,
  }));
}

/** The expected matrix, in the order it is printed. */
export const EXPECTED_MATRIX: readonly MatrixRow[] = [
  ...resumesEverywhere('gnutls'),
  {
    client: 'go',
    version: '1.2',
    mode: 'stateful',
    // Known and expected for now: Go keeps a TLS 1.2 session only when the server sends a ticket,
    // and stateful mode turns tickets off (SSL_OP_NO_TICKET). The tickets mode of issue 14 is meant
    // to flip this row; until then this test fails if Go starts (or a change makes it) resume.
    resumes: nowhere,
    why: 'Go resumes TLS 1.2 only through session tickets, which stateful mode does not send',
  },
  { client: 'go', version: '1.3', mode: 'stateful', resumes: everywhere },
  ...resumesEverywhere('python'),
  ...resumesEverywhere('curl'),
  ...resumesEverywhere('chromium'),
  {
    client: 'openssl-no-middlebox',
    version: '1.3',
    mode: 'stateful',
    // Today's behaviour; the fix in src/node/attach.ts (issue 14 item 4) flips it to `everywhere`.
    resumes: nowhere,
    why: "Node asks for a stateful session only when the ClientHello's legacy session id is non-empty",
  },
  {
    client: 'openssl-hrr',
    version: '1.3',
    mode: 'stateful',
    // Today's behaviour; the fix in src/node/attach.ts (issue 14 item 4) flips it to `everywhere`.
    resumes: nowhere,
    why: 'Node asks for a session once per connection; after a HelloRetryRequest OpenSSL looks the ticket up again and gets nothing',
  },
];
