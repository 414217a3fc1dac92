// Node's ticket key callback: OpenSSL's `SSL_CTX_set_tlsext_ticket_key_cb`, exposed by Node on the
// server's native SecureContext but not documented (Node's own test-https-resume-after-renew.js
// uses it; nodejs/node#1465 asked for several accepted keys, which this callback is how OpenSSL
// provides). `setTicketKeys` takes one key, so rotating it kills every outstanding ticket; with
// the callback a server encrypts under one key and decrypts under several.
//
// The contract, measured on Node 20 / OpenSSL 3.0: `onticketkeycallback(name16, iv16, encrypt)`
// returns
//   encrypt: [1, hmacKey16, aesKey16, name16, iv16]   (0: issue no ticket)
//   decrypt: [1 | 2 | 0, hmacKey16, aesKey16]         1 accept, 2 accept and renew under the
//                                                      current key, 0 unknown key (full handshake)
// The hmac and aes buffers must be 16 bytes even for 0. A callback that throws makes OpenSSL fail
// the handshake (-1), so the handler here never lets an exception out.
//
// The callback runs with the SecureContext as the current async resource, not the connection, so
// a handler cannot tell which connection it serves; see ticket-single-use.ts for how single use
// works without that.
import { constants } from 'node:crypto';
import tls from 'node:tls';

/** Bytes of each part Node's callback takes: name, IV, HMAC key, AES key. */
export const TICKET_PART_BYTES = 16;

/** What a decrypt answer's first element means to OpenSSL. */
export const TICKET_UNKNOWN = 0;
/** Accept the ticket. */
export const TICKET_ACCEPT = 1;
/** Accept the ticket and issue a new one under the current key. */
export const TICKET_RENEW = 2;

/** One key as Node's callback needs it: three 16-byte parts. */
export interface TicketKeyParts {
  readonly name: Buffer;
  readonly hmacKey: Buffer;
  readonly aesKey: Buffer;
}

/** What a handler answers; see the module comment. */
export type TicketKeyAnswer = readonly [number, Buffer, Buffer, ...Buffer[]];

/** Handles one callback. */
export type TicketKeyHandler = (name: Buffer, iv: Buffer, encrypt: boolean) => TicketKeyAnswer;

interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: TicketKeyHandler;
}

const ZERO = Buffer.alloc(TICKET_PART_BYTES);
/**
 * The answer "unknown key" (decrypt: a full handshake) or "no ticket" (encrypt). Five elements
 * whatever the direction: Node reads the name and IV of an encrypt answer before it looks at the
 * result, and a missing one would abort the process rather than fail the call.
 */
export const UNKNOWN_KEY_ANSWER: TicketKeyAnswer = Object.freeze([
  TICKET_UNKNOWN,
  ZERO,
  ZERO,
  ZERO,
  ZERO,
] as const);

/** The server's native SecureContext, or `undefined` if Node's internals moved. */
function contextOf(server: tls.Server): NativeContext | undefined {
  const creds = (server as unknown as { _sharedCreds?: { context?: unknown } })._sharedCreds;
  const context = creds?.context;
  return typeof context === 'object' && context !== null ? (context as NativeContext) : undefined;
}

/** Whether `server.secureOptions` turns tickets off (`SSL_OP_NO_TICKET`). */
export function ticketsDisabled(server: tls.Server): boolean {
  const options = (server as unknown as { secureOptions?: unknown }).secureOptions;
  if (typeof options !== 'number') return false;
  return (BigInt(options) & BigInt(constants.SSL_OP_NO_TICKET)) !== 0n;
}

/**
 * Installs `handler` as the server's ticket key callback, and again on every new SecureContext
 * `server.setSecureContext()` makes (it replaces the context the callback lives on).
 *
 * @returns a function that removes it (OpenSSL keeps the callback enabled; the server then
 * answers "unknown key" to every ticket — a full handshake — and issues none).
 * @throws TypeError if this Node does not expose the callback (the feature test), or if the
 * server was made with `SSL_OP_NO_TICKET`.
 */
export function installTicketKeyCallback(
  server: tls.Server,
  handler: TicketKeyHandler,
): () => void {
  if (!(server instanceof tls.Server)) {
    throw new TypeError('server must be a tls.Server, https.Server or http2 secure server');
  }
  if (ticketsDisabled(server)) {
    throw new TypeError(
      'tickets mode needs session tickets, but the server has SSL_OP_NO_TICKET in secureOptions: create it with ticketServerOptions(), not statefulServerOptions()',
    );
  }
  const guarded: TicketKeyHandler = (name, iv, encrypt) => {
    try {
      return handler(name, iv, encrypt);
    } catch {
      // Never -1 (a failed handshake): no ticket issued, or an unknown key and a full handshake.
      return UNKNOWN_KEY_ANSWER;
    }
  };
  const apply = (): void => {
    const context = contextOf(server);
    if (context === undefined || typeof context.enableTicketKeyCallback !== 'function') {
      throw new TypeError(
        `this Node.js (${process.version}) does not expose the TLS ticket key callback (SecureContext.enableTicketKeyCallback); tickets mode needs Node 20 or later`,
      );
    }
    context.enableTicketKeyCallback();
    context.onticketkeycallback = guarded;
  };
  apply();
  const own = Object.prototype.hasOwnProperty.call(server, 'setSecureContext');
  const original = server.setSecureContext;
  const wrapped = function (this: tls.Server, options: tls.SecureContextOptions): void {
    original.call(this, options);
    apply();
  };
  server.setSecureContext = wrapped;
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    const context = contextOf(server);
    if (context !== undefined) context.onticketkeycallback = () => UNKNOWN_KEY_ANSWER;
    if (server.setSecureContext === wrapped) {
      if (own) server.setSecureContext = original;
      else delete (server as unknown as { setSecureContext?: unknown }).setSecureContext;
    }
  };
}
