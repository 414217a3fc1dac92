// The client matrix as the tests assert it and docs/clients.md publishes it: for each independent
// client, TLS version and `serve` mode, whether the second connection resumed (by the server's own
// answer) on one process, across two processes sharing SQLite, and across two sharing Redis.
// matrix.test.ts fails when a client behaves otherwise; clients-doc.test.ts fails when the doc is
// not this data rendered (`npm run matrix -- --write` renders it). Change a cell here only together
// with the behaviour it describes.
import type { ClientId, TlsVersion } from '../helpers/clients/client-driver.js';
import type { Topology } from '../helpers/clients/serve-fleet.js';

/** A `serve` mode: `--mode stateful`, or tickets (`serve`'s default; docs/tickets.md). */
export type ServeMode = 'stateful' | 'tickets';

/** Every mode, in the order the matrix prints a client's rows. */
export const SERVE_MODES: readonly ServeMode[] = ['stateful', 'tickets'];

/**
 * The `serve` arguments of each mode, given a key file (lines `ID:BASE64KEY32`): tickets mode on a
 * shared store refuses to start without one, since the ticket keys are sealed with it in the store.
 * Tickets mode is `serve`'s default and is measured as users get it, without `--mode` (issue 14's
 * goal: every client resumes across processes in serve's default mode); stateful is asked for.
 */
export const MODE_ARGS: Record<ServeMode, (keyFile: string) => readonly string[]> = {
  stateful: () => ['--mode', 'stateful'],
  tickets: (keyFile) => ['--key-file', keyFile],
};

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

/** Rows for a client that resumes everywhere in both versions and both modes. */
function resumesEverywhere(client: ClientId): MatrixRow[] {
  return SERVE_MODES.flatMap((mode) =>
    (['1.2', '1.3'] as const).map((version) => ({ client, version, mode, resumes: everywhere })),
  );
}

/** The expected matrix, in the order it is printed. */
export const EXPECTED_MATRIX: readonly MatrixRow[] = [
  ...resumesEverywhere('gnutls'),
  {
    client: 'go',
    version: '1.2',
    mode: 'stateful',
    // Go keeps a TLS 1.2 session only when the server sends a ticket, and stateful mode turns
    // tickets off (SSL_OP_NO_TICKET) so that every session lives in the store. Tickets mode (the
    // row below) is what resumes it; this test fails if Go starts (or a change makes it) resume here.
    resumes: nowhere,
    why: 'Go resumes TLS 1.2 only through session tickets, which stateful mode does not send; tickets mode resumes it',
  },
  { client: 'go', version: '1.3', mode: 'stateful', resumes: everywhere },
  { client: 'go', version: '1.2', mode: 'tickets', resumes: everywhere },
  { client: 'go', version: '1.3', mode: 'tickets', resumes: everywhere },
  ...resumesEverywhere('python'),
  ...resumesEverywhere('curl'),
  ...resumesEverywhere('chromium'),
  // Stateful: the session is loaded in Node's own ClientHello hook (src/node/attach.ts), which Node
  // calls whatever the legacy id; tickets mode never needed the id.
  { client: 'openssl-no-middlebox', version: '1.3', mode: 'stateful', resumes: everywhere },
  { client: 'openssl-no-middlebox', version: '1.3', mode: 'tickets', resumes: everywhere },
  {
    client: 'openssl-hrr',
    version: '1.3',
    mode: 'stateful',
    // The ClientHello reader predicts the HelloRetryRequest and leaves the ticket in the store
    // (attachment stat `tls13HelloRetry`), so the full handshake is not counted as a hit.
    resumes: nowhere,
    why: 'Node asks for a session once per connection and OpenSSL looks the ticket up again after the HelloRetryRequest; the ticket is left unused and not counted as a hit',
  },
  {
    client: 'openssl-hrr',
    version: '1.3',
    mode: 'tickets',
    // docs/tickets.md, known limits: OpenSSL decrypts the ticket for both ClientHellos and the first
    // decryption spends the single-use permit (`refusedWithoutPermit`).
    resumes: nowhere,
    why: 'With single use (the default) OpenSSL decrypts the ticket for both ClientHellos and the first spends its permit',
  },
];
