import { constants } from 'node:crypto';
import { checkInteger, checkKnownKeys, describe, stringOption } from '../common/validate.js';
import { DEFAULT_SESSION_TIMEOUT } from '../cache/options.js';

/** The session id context {@link statefulServerOptions} uses unless told otherwise. */
export const DEFAULT_SESSION_ID_CONTEXT = 'tls-session-cache';

/** Options of {@link statefulServerOptions}. */
export interface StatefulServerOptionsInput {
  /**
   * The session id context: sessions resume only on servers with the same one, so every process
   * and host of one service must use the same value, and different services different values.
   * At most 32 bytes (OpenSSL's `SSL_MAX_SID_CTX_LENGTH`).
   * @default 'tls-session-cache'
   */
  sessionIdContext?: string;
  /**
   * Session lifetime in seconds (Node's `sessionTimeout`).
   * @default 300
   */
  sessionTimeout?: number;
  /** Other `secureOptions` bits to keep; `SSL_OP_NO_TICKET` is added to them. */
  secureOptions?: number;
}

/** Every key of {@link StatefulServerOptionsInput}, for the unknown-key check. */
const STATEFUL_OPTION_KEYS: Readonly<Record<keyof StatefulServerOptionsInput, true>> = {
  sessionIdContext: true,
  sessionTimeout: true,
  secureOptions: true,
};

/** What {@link statefulServerOptions} returns: spread it into `tls.createServer()` options. */
export interface StatefulServerOptions {
  /** The `secureOptions` given, with `SSL_OP_NO_TICKET` set. */
  secureOptions: number;
  /** The session id context (OpenSSL's `SSL_CTX_set_session_id_context`), the same in every process. */
  sessionIdContext: string;
  /** Session lifetime in seconds (OpenSSL's `SSL_CTX_set_timeout`). */
  sessionTimeout: number;
}

/**
 * The `tls.createServer()` / `https.createServer()` / `http2.createSecureServer()` options that
 * stateful resumption needs: `SSL_OP_NO_TICKET` (so OpenSSL issues session ids and stateful TLS
 * 1.3 tickets instead of self-encrypted ones), an explicit `sessionIdContext` (Node's default is a
 * hash of `process.argv`, which differs between processes started with different arguments, so they
 * could never resume each other's sessions) and `sessionTimeout`.
 *
 * @example
 * ```ts
 * const server = https.createServer({ key, cert, ...statefulServerOptions({ sessionIdContext: 'api' }) });
 * ```
 */
export function statefulServerOptions(
  input: StatefulServerOptionsInput = {},
): StatefulServerOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`statefulServerOptions: options must be an object, got ${describe(input)}`);
  }
  checkKnownKeys('statefulServerOptions', input, STATEFUL_OPTION_KEYS);
  const sessionIdContext = stringOption(
    'sessionIdContext',
    input.sessionIdContext ?? DEFAULT_SESSION_ID_CONTEXT,
  );
  const length = Buffer.byteLength(sessionIdContext);
  if (length === 0 || length > 32) {
    throw new RangeError(`sessionIdContext must be 1 to 32 bytes, got ${length}`);
  }
  const sessionTimeout = checkInteger(
    'sessionTimeout',
    input.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT,
    1,
    2 ** 31 - 1,
  );
  const secureOptions = checkInteger('secureOptions', input.secureOptions ?? 0, 0);
  return {
    secureOptions: withFlag(secureOptions, constants.SSL_OP_NO_TICKET),
    sessionIdContext,
    sessionTimeout,
  };
}

/** `options | flag` for option words above 2^31, where JavaScript's `|` would truncate. */
function withFlag(options: number, flag: number): number {
  return Number(BigInt(options) | BigInt(flag));
}
