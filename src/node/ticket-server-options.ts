import { constants } from 'node:crypto';
import {
  statefulServerOptions,
  type StatefulServerOptions,
  type StatefulServerOptionsInput,
} from './stateful-options.js';

/**
 * The `tls.createServer()` / `https.createServer()` options of tickets mode: those of
 * {@link statefulServerOptions} (an explicit `sessionIdContext`, so TLS 1.2 clients without ticket
 * support still resume session ids across processes, and `sessionTimeout`) but with tickets on:
 * `SSL_OP_NO_TICKET` is cleared from `secureOptions`, whoever set it.
 *
 * @example
 * ```ts
 * const server = https.createServer({ key, cert, ...ticketServerOptions({ sessionIdContext: 'api' }) });
 * ```
 */
export function ticketServerOptions(input: StatefulServerOptionsInput = {}): StatefulServerOptions {
  const options = statefulServerOptions(input);
  return {
    ...options,
    secureOptions: Number(BigInt(options.secureOptions) & ~BigInt(constants.SSL_OP_NO_TICKET)),
  };
}
