/**
 * A way into Node's own ClientHello hook, for the servers `attach()` wires.
 *
 * Node parses the start of every ClientHello in C++ (its `ClientHelloParser`, active once a server
 * has `newSession`/`resumeSession` listeners), holds the handshake, and calls the TLSWrap handle's
 * `onclienthello(hello)`, which `lib/_tls_wrap.js` sets to its `loadSession`: it emits
 * `resumeSession` only when the legacy session id is non-empty and no ticket was sent, then
 * `loadSession(session)` + `endParser()` on the handle. So a TLS 1.3 client with an empty legacy id
 * (`openssl s_client -no_middlebox`, NSS) is never offered a stateful session.
 *
 * Node assigns `onclienthello` per handle, so there is no public place to intercept it. This module
 * installs, once per process, an accessor for `onclienthello` on the TLSWrap prototype: Node's
 * assignment lands in the setter (kept per handle), and the getter that the C++ side calls through
 * returns a dispatcher that runs the hook of the handle's server, if the server has one (only servers
 * `attach()` wired), else Node's own function unchanged. Every other TLS server in the process keeps
 * Node's behaviour, at the cost of one property read per ClientHello.
 *
 * Behind a feature test: a throwaway server-side `TLSSocket` must show Node assigning a function to
 * its handle's own `onclienthello`, the prototype must not define one, and after installing, a second
 * one must land in the setter. If any of that fails, {@link installHelloHook} returns false and
 * `attach()` uses the `resumeSession` event as before.
 *
 * @module
 */
import tls from 'node:tls';

/** What Node's C++ ClientHello parser hands to `onclienthello`. */
export interface NodeHello {
  /** The legacy session id (possibly empty). */
  sessionId: Buffer;
  /** The SNI host name, or '' when absent. */
  servername: string;
  /** Whether a TLS 1.2 `session_ticket` extension with data was sent. */
  tlsTicket: boolean;
}

/** The parts of Node's TLSWrap handle the hook uses. */
export interface TlsHandle {
  /** Hands OpenSSL the session to resume (what Node's `resumeSession` callback does). */
  loadSession(session: Buffer): void;
  /** Lets the held handshake continue. */
  endParser(): void;
}

type NodeOnClientHello = (this: TlsHandle, hello: NodeHello) => void;

/**
 * A server's hook: called instead of Node's `loadSession` with the handle, its TLSSocket, Node's
 * parse of the hello and Node's own function (to fall back to). It must end with exactly one
 * `endParser()` (directly or through `nodeLoadSession`), or the handshake waits forever.
 */
export type HelloHook = (
  handle: TlsHandle,
  socket: tls.TLSSocket,
  hello: NodeHello,
  nodeLoadSession: NodeOnClientHello,
) => void;

/** Where a server keeps its hook (a symbol: invisible to everyone else). */
export const HELLO_HOOK = Symbol('tls-session-cache.helloHook');
const NODE_FN = Symbol('tls-session-cache.nodeOnClientHello');

let installed: boolean | undefined;
let ownerSymbol: symbol | undefined;

function dispatch(this: Record<symbol, unknown> & TlsHandle, hello: NodeHello): void {
  const nodeFn = this[NODE_FN] as NodeOnClientHello;
  const owner = ownerSymbol === undefined ? undefined : this[ownerSymbol];
  const server = (owner as { server?: unknown } | undefined)?.server;
  const hook =
    server === undefined || server === null
      ? undefined
      : ((server as Record<symbol, unknown>)[HELLO_HOOK] as HelloHook | undefined);
  if (hook === undefined) {
    nodeFn.call(this, hello);
    return;
  }
  hook(this, owner as tls.TLSSocket, hello, nodeFn);
}

function probeHandle(): { socket: tls.TLSSocket; handle: Record<PropertyKey, unknown> } {
  // No socket: Node makes a TCP handle of its own, never connected; destroyed right away.
  const socket = new tls.TLSSocket(undefined as never, {
    isServer: true,
    secureContext: probeContext ?? (probeContext = tls.createSecureContext()),
  });
  const handle = (socket as unknown as { _handle: Record<PropertyKey, unknown> })._handle;
  return { socket, handle };
}
let probeContext: tls.SecureContext | undefined;

/**
 * Installs the dispatcher (once per process) if Node's internals look as expected.
 *
 * @returns whether servers can use {@link HELLO_HOOK}
 */
export function installHelloHook(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  try {
    const first = probeHandle();
    try {
      const proto = Object.getPrototypeOf(first.handle) as object | null;
      const own = Object.getOwnPropertyDescriptor(first.handle, 'onclienthello');
      if (
        proto === null ||
        own === undefined ||
        typeof own.value !== 'function' ||
        Object.getOwnPropertyDescriptor(proto, 'onclienthello') !== undefined
      ) {
        return false;
      }
      ownerSymbol = Object.getOwnPropertySymbols(first.handle).find(
        (s) => s.description === 'owner_symbol',
      );
      if (ownerSymbol === undefined || first.handle[ownerSymbol] !== first.socket) return false;
      Object.defineProperty(proto, 'onclienthello', {
        configurable: true,
        enumerable: false,
        get(this: Record<symbol, unknown>) {
          return typeof this[NODE_FN] === 'function' ? dispatch : undefined;
        },
        set(this: Record<symbol, unknown>, fn: unknown) {
          this[NODE_FN] = fn;
        },
      });
      const second = probeHandle();
      const ok =
        Object.getOwnPropertyDescriptor(second.handle, 'onclienthello') === undefined &&
        second.handle[NODE_FN] === own.value &&
        second.handle.onclienthello === dispatch;
      second.socket.destroy();
      if (!ok) {
        delete (proto as Record<string, unknown>).onclienthello;
        return false;
      }
      installed = true;
      return true;
    } finally {
      first.socket.destroy();
    }
  } catch {
    return false;
  }
}
