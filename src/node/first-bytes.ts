/**
 * The first bytes of a server connection, read without the per-read cost of a JavaScript stream.
 *
 * A `net.Socket` normally hands each TCP read to JavaScript as a fresh `ArrayBuffer` (a malloc'd
 * backing store that V8 counts as external memory and that pushes it towards major collections),
 * through `push` and a `'data'` event. The ClientHello reader needs exactly one read per connection,
 * after which Node's `TLSWrap` takes the stream over in C++. Node's own `onread` option
 * (`net.Socket({ onread: { buffer, callback } })`) reads into one caller-owned buffer instead, but
 * only for sockets the caller creates; a server's sockets are created by `net.Server`. This module
 * switches an accepted socket into that mode: the handle's `useUserBuffer(buffer)` (what the option
 * calls) and the socket's `kBuffer`/`kBufferCb` slots (what Node's `onStreamRead` consults), found by
 * their descriptions.
 *
 * Written by hand because nothing else reaches this: Node has no public way to give a socket that
 * `net.Server` accepted a read buffer. Why: a callgrind diff of the reader (TLS 1.2 resumed, ECDSA)
 * showed its extra instructions were mostly garbage collection, which per-read backing stores
 * drive; what the change measured is in docs/performance.md.
 *
 * Behind a feature test: a throwaway socket must have the three slots and its handle class
 * `useUserBuffer`; otherwise {@link userBufferReads} returns undefined and the reader uses a
 * `'data'` listener as before.
 *
 * @module
 */
import net from 'node:net';

/**
 * Called with one read's bytes: `shared[0, length)`, valid only until the call returns (the next
 * read of any socket overwrites them).
 */
export type FirstBytesCallback = (this: net.Socket, shared: Buffer, length: number) => void;

/** Switches sockets into reading through one shared buffer. */
export interface UserBufferReads {
  /**
   * From now on the socket's reads call `callback` (see {@link FirstBytesCallback}). To give the
   * bytes to the stream, the callback copies them and `push`es or `unshift`s the copy. Only for a
   * socket that is reading (not paused since it was accepted).
   *
   * @returns false if this socket cannot (the caller then reads as usual)
   */
  start(socket: net.Socket, callback: FirstBytesCallback): boolean;
}

/** Largest read: one whole TLS record (16 KiB + header) and then some. */
const SHARED_BYTES = 64 * 1024;

let probed: UserBufferReads | null | undefined;
const CALLBACK = Symbol('tls-session-cache.firstBytes');

/** The switch, or undefined where Node's internals do not look as expected. */
export function userBufferReads(): UserBufferReads | undefined {
  if (probed !== undefined) return probed ?? undefined;
  probed = null;
  const probe = new net.Socket();
  try {
    const symbols = Object.getOwnPropertySymbols(probe);
    const slot = (name: string): symbol | undefined => symbols.find((s) => s.description === name);
    const kBuffer = slot('kBuffer');
    const kBufferCb = slot('kBufferCb');
    const kBufferGen = slot('kBufferGen');
    const record = probe as unknown as Record<symbol, unknown>;
    if (
      kBuffer === undefined ||
      kBufferCb === undefined ||
      kBufferGen === undefined ||
      record[kBuffer] !== null ||
      record[kBufferCb] !== null ||
      record[kBufferGen] !== null
    ) {
      return undefined;
    }
    const shared = Buffer.allocUnsafeSlow(SHARED_BYTES);
    // One function for every socket (Node calls it with the socket as `this`); the socket's own
    // callback waits in a slot of ours.
    function onRead(this: net.Socket, nread: number): boolean {
      (this as unknown as Record<symbol, FirstBytesCallback>)[CALLBACK]!.call(this, shared, nread);
      return true;
    }
    probed = {
      start(socket, callback) {
        const handle = (
          socket as unknown as { _handle?: { useUserBuffer?: unknown; reading?: unknown } | null }
        )._handle;
        if (
          handle === null ||
          handle === undefined ||
          typeof handle.useUserBuffer !== 'function' ||
          handle.reading !== true
        ) {
          return false;
        }
        const slots = socket as unknown as Record<symbol, unknown>;
        if (slots[kBuffer] !== null || slots[kBufferCb] !== null) return false;
        (handle.useUserBuffer as (b: Buffer) => void).call(handle, shared);
        slots[CALLBACK] = callback;
        slots[kBuffer] = shared;
        slots[kBufferCb] = onRead;
        return true;
      },
    };
    return probed;
  } finally {
    probe.destroy();
  }
}
