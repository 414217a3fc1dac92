// Which sessions may be offered to which connection: the origin key.
//
// A session may only be offered to a connection that would have accepted the handshake that
// created it: resumption skips the certificate, so a session made with `rejectUnauthorized: false`,
// another CA list, another client certificate or another server name must never be offered where
// those differ. Node's `https.Agent.getName()` builds its session key from host, port and every TLS
// option it knows (ca, cert, key, pfx, ciphers, versions, servername, rejectUnauthorized, …). This key
// mirrors it, with three deliberate differences:
//
// - it adds what Node forgets: ALPN protocols (a session remembers the ALPN it negotiated), the
//   effective defaults (`tls.DEFAULT_MIN_VERSION`, `DEFAULT_CIPHERS`, … as in force now, so that two
//   processes started with different `--tls-max-v1.2` flags never share), and whether a custom
//   `checkServerIdentity` or `pskCallback` was used;
// - it leaves out `localAddress` and `family`: they pick the socket, not the TLS session, and would
//   stop a fleet of hosts from sharing sessions;
// - it is a SHA-256 digest. Secrets (keys, pfx, passphrases) are fed to the hash and never kept in a
//   string, so the key can be logged and stored (it is the store namespace) without leaking them.
//
// A prebuilt `secureContext` cannot be looked into: each one gets a random identity, so its sessions
// are only ever shared inside the process that built it.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';

/** Bumped whenever the fields or their encoding change, so old stored sessions are never offered. */
const KEY_FORMAT = 'tsc-client-origin-1';

/** The prefix of every namespace the client cache writes in a store. */
export const CLIENT_NAMESPACE_PREFIX = 'client/';

/**
 * The connection options the origin key reads: Node's `tls.connect` options (and what https and
 * undici pass through them).
 */
export type OriginOptions = tls.ConnectionOptions & {
  /** Server host name or address. @default 'localhost' (as `tls.connect`) */
  host?: string | undefined;
  /** Server port. @default 443 */
  port?: number | string | undefined;
};

/** An origin: the namespace its sessions live under, and a secret-free label for humans. */
export interface OriginKey {
  /** `client/` followed by the base64url SHA-256 of every option that must match for resumption. */
  readonly namespace: string;
  /** `host:port` (and the server name when it differs): for logs and errors. Not unique. */
  readonly label: string;
  /** The SNI server name that will be sent, lower-cased; `undefined` when none is. */
  readonly servername: string | undefined;
}

const contextIds = new WeakMap<object, string>();
const functionIds = new WeakMap<object, string>();

/** The SNI server name Node's `tls.connect` sends for these options (none for an IP address). */
export function effectiveServername(options: OriginOptions): string | undefined {
  if (typeof options.servername === 'string') {
    return options.servername === '' ? undefined : options.servername.toLowerCase();
  }
  const host = options.host ?? 'localhost';
  return isIP(host) === 0 ? host.toLowerCase() : undefined;
}

/**
 * The origin key of a `tls.connect` options object.
 *
 * @throws TypeError for a `host` that is not a string or a `port` that is not a port number
 */
export function originKeyOf(options: OriginOptions): OriginKey {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const host = options.host ?? 'localhost';
  if (typeof host !== 'string') throw new TypeError('options.host must be a string');
  const port = options.port === undefined ? 443 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`options.port must be a port number, got ${String(options.port)}`);
  }
  const servername = effectiveServername(options);
  const h = createHash('sha256');
  field(h, 'format', KEY_FORMAT);
  field(h, 'host', host.toLowerCase());
  field(h, 'port', String(port));
  field(h, 'servername', servername ?? '');
  field(h, 'alpn', alpnOf(options.ALPNProtocols));
  field(h, 'minVersion', options.minVersion ?? tls.DEFAULT_MIN_VERSION);
  field(h, 'maxVersion', options.maxVersion ?? tls.DEFAULT_MAX_VERSION);
  field(h, 'secureProtocol', options.secureProtocol ?? '');
  field(h, 'ciphers', options.ciphers ?? tls.DEFAULT_CIPHERS);
  field(h, 'ecdhCurve', options.ecdhCurve ?? tls.DEFAULT_ECDH_CURVE);
  field(h, 'sigalgs', options.sigalgs ?? '');
  field(h, 'secureOptions', String(options.secureOptions ?? ''));
  field(h, 'honorCipherOrder', String(options.honorCipherOrder ?? ''));
  field(h, 'sessionIdContext', options.sessionIdContext ?? '');
  field(h, 'rejectUnauthorized', String(options.rejectUnauthorized !== false));
  field(
    h,
    'checkServerIdentity',
    functionIdentity(options.checkServerIdentity, tls.checkServerIdentity),
  );
  field(h, 'pskCallback', functionIdentity(options.pskCallback, undefined));
  field(h, 'clientCertEngine', options.clientCertEngine ?? '');
  field(h, 'privateKeyEngine', options.privateKeyEngine ?? '');
  field(h, 'privateKeyIdentifier', options.privateKeyIdentifier ?? '');
  // Certificates, keys and CA lists: any shape Node accepts (string, Buffer, arrays, {pem, passphrase}).
  material(h, 'ca', options.ca);
  material(h, 'cert', options.cert);
  material(h, 'key', options.key);
  material(h, 'pfx', options.pfx);
  material(h, 'passphrase', options.passphrase);
  material(h, 'crl', options.crl);
  material(h, 'dhparam', options.dhparam);
  field(h, 'secureContext', contextIdentity(options.secureContext));
  const namespace = CLIENT_NAMESPACE_PREFIX + h.digest('base64url');
  const label =
    `${host}:${port}` +
    (servername !== undefined && servername !== host.toLowerCase() ? ` (${servername})` : '');
  return { namespace, label, servername };
}

// Length-prefixed, so that no two different option sets feed the hash the same bytes.
function field(h: Hash, name: string, value: string | Uint8Array): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(bytes.byteLength);
  h.update(name).update(':').update(header).update(bytes);
}

function material(h: Hash, name: string, value: unknown, depth = 0): void {
  if (value === undefined || value === null) {
    field(h, name, '-');
  } else if (typeof value === 'string') {
    field(h, name, 's');
    field(h, name, value);
  } else if (value instanceof Uint8Array) {
    field(h, name, 'b');
    field(h, name, value);
  } else if (Array.isArray(value) && depth < 4) {
    field(h, name, `a${value.length}`);
    for (const item of value) material(h, name, item, depth + 1);
  } else if (typeof value === 'object' && depth < 4) {
    // { pem, passphrase } / { buf, passphrase }: every own property, in a stable order.
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    field(h, name, `o${entries.length}`);
    for (const [k, v] of entries) material(h, `${name}.${k}`, v, depth + 1);
  } else {
    // A KeyObject or anything else Node may accept: compared by identity.
    field(h, name, `x${objectIdentity(value)}`);
  }
}

function alpnOf(alpn: tls.ConnectionOptions['ALPNProtocols']): string {
  if (alpn === undefined) return '';
  if (alpn instanceof Uint8Array) return `wire:${Buffer.from(alpn).toString('hex')}`;
  return (alpn as readonly (string | Uint8Array)[])
    .map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)).toString('hex'))
    .join(',');
}

// A custom function's own source is the best stable stand-in across processes: the same code
// gives the same key in every process of a fleet. Closures over different data look alike: use
// different servernames or a separate cache for those.
function functionIdentity(fn: unknown, standard: unknown): string {
  if (fn === undefined || fn === standard) return 'default';
  if (typeof fn !== 'function') return `x${objectIdentity(fn)}`;
  return `custom:${createHash('sha256').update(fn.toString()).digest('base64url')}`;
}

function contextIdentity(context: unknown): string {
  if (context === undefined || context === null) return '';
  if (typeof context !== 'object') return `x${String(context)}`;
  let id = contextIds.get(context);
  if (id === undefined) {
    id = randomBytes(16).toString('base64url');
    contextIds.set(context, id);
  }
  return id;
}

function objectIdentity(value: unknown): string {
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (value === null) return 'null';
  let id = functionIds.get(value);
  if (id === undefined) {
    id = randomBytes(16).toString('base64url');
    functionIds.set(value, id);
  }
  return id;
}
