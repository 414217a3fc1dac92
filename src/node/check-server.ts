// The checks attach() makes before it touches anything, so that a mistake is a TypeError at the
// call rather than a crash (or, worse, silence) at the first connection. Kept apart from attach.ts,
// whose per-connection code is tuned for speed: this runs once per server.
import { constants } from 'node:crypto';
import tls from 'node:tls';
import { booleanOption, checkInteger, checkKnownKeys, describe } from '../common/validate.js';
import { checkTenant } from './namespace.js';

/**
 * Every key of `AttachOptions` (attach.ts imports this file, so the type cannot be named here;
 * src/front-door/options.ts checks at compile time that the list is complete).
 */
export const ATTACH_OPTION_KEYS = {
  tenant: true,
  readClientHello: true,
  helloTimeoutMs: true,
  helloMaxBytes: true,
  requireExtendedMasterSecret: true,
  requireServerNameMatch: true,
  tickets: true,
} as const;

/** The option values {@link checkAttachOptionValues} checks, as `AttachOptions` names them. */
type AttachOptionValues = { readonly [K in keyof typeof ATTACH_OPTION_KEYS]?: unknown };

/** The methods of `SessionCache` that attach() calls; a cache without one would fail per connection. */
const CACHE_METHODS = [
  'handshakeStarted',
  'handshakeCompleted',
  'sessionNegotiated',
  'lookup',
  'removeBad',
] as const;

/**
 * What a server must agree with, and how to say the fix: the front door names
 * `sessions.serverOptions()`, the low-level `attach()` names `statefulServerOptions()`.
 */
export interface ServerExpectations {
  /** The call that makes a correct server, for messages. */
  readonly fix: string;
  /** The session id context the server must have, when the caller knows it. */
  readonly sessionIdContext?: string;
  /** The `sessionTimeout` (s) the server must have, when the caller knows it. */
  readonly sessionTimeout?: number;
  /**
   * Tickets mode: the server issues tickets on purpose (under shared keys), so the
   * `SSL_OP_NO_TICKET` check is the ticket key callback's, which refuses the opposite.
   */
  readonly issuesTickets?: boolean;
}

/**
 * Throws a `TypeError` unless `server` is a TLS server that issues no stateless tickets and agrees
 * with `expected`. A server that still issues Node's stateless tickets resumes without ever asking
 * the cache: `hits` would stay 0 and nobody would notice.
 */
export function checkStatefulServer(
  server: unknown,
  expected: ServerExpectations,
): asserts server is tls.Server {
  if (!(server instanceof tls.Server)) {
    throw new TypeError(
      `server must be a tls.Server, https.Server or http2 secure server, got ${describe(server)}`,
    );
  }
  // Node keeps the options it applied on the server (lib/_tls_wrap.js, setSecureContext).
  const kept = server as unknown as {
    secureOptions?: unknown;
    sessionIdContext?: unknown;
    sessionTimeout?: unknown;
  };
  const secureOptions = typeof kept.secureOptions === 'number' ? kept.secureOptions : 0;
  if (
    expected.issuesTickets !== true &&
    (BigInt(secureOptions) & BigInt(constants.SSL_OP_NO_TICKET)) === 0n
  ) {
    throw new TypeError(
      `server issues stateless TLS tickets (no SSL_OP_NO_TICKET in its secureOptions), which ` +
        `resume without the cache: create it with ...${expected.fix}`,
    );
  }
  if (
    expected.sessionIdContext !== undefined &&
    kept.sessionIdContext !== expected.sessionIdContext
  ) {
    throw new TypeError(
      `server's sessionIdContext ${show(kept.sessionIdContext)} differs from the session cache's ` +
        `${show(expected.sessionIdContext)}: create it with ...${expected.fix}`,
    );
  }
  if (expected.sessionTimeout !== undefined && kept.sessionTimeout !== expected.sessionTimeout) {
    throw new TypeError(
      `server's sessionTimeout ${show(kept.sessionTimeout)} differs from the session cache's ` +
        `timeout ${expected.sessionTimeout}: create it with ...${expected.fix}`,
    );
  }
}

/**
 * The checks of `attach(server, cache, options)`: the server (see {@link checkStatefulServer}), a
 * cache with the methods attach calls, and options of known keys.
 */
export function checkAttachArguments(server: unknown, cache: unknown, options: unknown): void {
  const tickets = (options as { tickets?: unknown } | null | undefined)?.tickets !== undefined;
  checkStatefulServer(server, {
    fix: tickets ? 'ticketServerOptions()' : 'statefulServerOptions()',
    issuesTickets: tickets,
  });
  if (typeof cache !== 'object' || cache === null) {
    throw new TypeError(`attach: cache must be a SessionCache, got ${describe(cache)}`);
  }
  for (const method of CACHE_METHODS) {
    if (typeof (cache as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(`attach: cache must be a SessionCache (it has no ${method}())`);
    }
  }
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`attach: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys('attach', options, ATTACH_OPTION_KEYS);
}

/**
 * Checks the values of `AttachOptions` with attach()'s own bounds, for callers that take
 * those options long before a server exists (`openSessionCache`): a bad one fails at their call.
 */
export function checkAttachOptionValues(options: AttachOptionValues): void {
  if (options.tenant !== undefined) checkTenant(options.tenant);
  booleanOption('readClientHello', options.readClientHello);
  booleanOption('requireExtendedMasterSecret', options.requireExtendedMasterSecret);
  booleanOption('requireServerNameMatch', options.requireServerNameMatch);
  if (options.helloTimeoutMs !== undefined) {
    checkInteger('helloTimeoutMs', options.helloTimeoutMs, 1, 2 ** 31 - 1);
  }
  if (options.helloMaxBytes !== undefined) {
    checkInteger('helloMaxBytes', options.helloMaxBytes, 512, 2 ** 24);
  }
}

/** A server option's value for a message: strings quoted, the absent said so. */
function show(value: unknown): string {
  if (value === undefined) return '(not set)';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
