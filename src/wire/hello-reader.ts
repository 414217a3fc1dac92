/**
 * Reads the ClientHello off a freshly accepted TCP socket before Node's TLS machinery sees it, then
 * puts the bytes back (`socket.unshift`) so that a `tls.TLSSocket` built on the socket afterwards
 * receives every byte, in order.
 *
 * Why: for TLS 1.3 stateful resumption the session id is the PSK identity in the ClientHello, which
 * Node never exposes (`resumeSession` only gets the legacy session id). See `client-hello.ts`.
 *
 * Anything that is not a well-formed TLS ClientHello is handed back untouched, so OpenSSL, not this
 * module, decides how to fail it.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { ClientHelloParseError, parseClientHello, type ClientHelloInfo } from './client-hello.js';
import { ClientHelloAssembler, type RecordRejectReason } from './tls-record.js';

/** Default byte cap of {@link readClientHello}: far above any real ClientHello. */
export const DEFAULT_HELLO_MAX_BYTES = 64 * 1024;
/** Default time cap of {@link readClientHello}, in milliseconds. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link readClientHello}. */
export interface ReadClientHelloOptions {
  /**
   * Give up (hand the bytes over untouched) once this many bytes arrived without a complete
   * ClientHello, or as soon as the hello's declared length shows it cannot fit. Default 64 KiB.
   */
  maxBytes?: number;
  /**
   * Give up (hand the bytes over untouched) after this many milliseconds without a complete
   * ClientHello; `Infinity` disables the timer. Default 10 s. A slow client is then Node's
   * problem: its `handshakeTimeout` applies as usual.
   */
  timeoutMs?: number;
  /**
   * Re-frame a ClientHello that spanned several records into one record before handing it over, so
   * that Node's own ClientHello parser (which reads only the first record) sees the whole hello.
   * Default true; only switch it off to observe Node's behaviour.
   */
  mergeRecords?: boolean;
}

/** Why {@link readClientHello} handed the bytes over untouched. */
export type HelloPassthroughReason =
  | RecordRejectReason
  /** The records carried a complete handshake message that is not a valid ClientHello. */
  | 'invalid-hello'
  /** No complete ClientHello within `timeoutMs`. */
  | 'timeout'
  /** The socket has an encoding set, so its chunks are strings: the bytes cannot be trusted. */
  | 'string-chunks';

/** The ClientHello was read; the socket is paused with the bytes put back. */
export interface HelloReadResult {
  /** Discriminant of {@link ReadClientHelloResult}. */
  kind: 'hello';
  /** The parsed ClientHello (its buffers are views into the bytes that were put back). */
  hello: ClientHelloInfo;
  /** The ClientHello handshake message itself (a view into the bytes put back, or a copy). */
  message: Buffer;
  /** Bytes read from the socket. */
  bytesRead: number;
  /** TLS records the ClientHello arrived in. */
  records: number;
  /** Whether those records were merged into one before being put back. */
  merged: boolean;
  /** `data` events it took. */
  chunks: number;
}

/** Not a (usable) ClientHello; the socket is paused with exactly the bytes read put back. */
export interface HelloPassthroughResult {
  /** Discriminant of {@link ReadClientHelloResult}. */
  kind: 'passthrough';
  /** Why. */
  reason: HelloPassthroughReason;
  /** Bytes read from the socket (and put back). */
  bytesRead: number;
  /** The parse error, when `reason` is `'invalid-hello'`. */
  error?: ClientHelloParseError;
}

/** The socket ended, closed or failed before a ClientHello was complete; it has been destroyed. */
export interface HelloClosedResult {
  /** Discriminant of {@link ReadClientHelloResult}. */
  kind: 'closed';
  /** Which event came first. */
  reason: 'end' | 'close' | 'error';
  /** Bytes read before that (discarded). */
  bytesRead: number;
  /** The socket error, when `reason` is `'error'`. */
  error?: Error;
}

/** What {@link readClientHello} resolves with; it never rejects once started. */
export type ReadClientHelloResult = HelloReadResult | HelloPassthroughResult | HelloClosedResult;

/**
 * Reads the first ClientHello from a freshly accepted socket (before any TLS), possibly spread
 * over many TLS records and TCP segments, then puts the bytes back with `socket.unshift()`.
 *
 * On `'hello'` and `'passthrough'` the socket is left paused with the bytes in its read buffer:
 * hand it to the TLS server's `'connection'` listeners at once (they take over error handling; a
 * `tls.TLSSocket` drains the buffer first). Other consumers must call `resume()`. Between this
 * promise settling and that hand-over the socket has no `'error'` listener, so do not wait for I/O
 * in between without adding one. On `'closed'` the socket is already destroyed: drop it.
 *
 * A multi-record hello that fits in one record is put back as ONE record (see
 * {@link ReadClientHelloOptions.mergeRecords}); bytes that followed it are put back untouched.
 *
 * @param socket - a connected `net.Socket` nobody has read from
 * @param options - byte and time caps
 * @returns the outcome; the promise never rejects
 * @throws RangeError synchronously, for invalid options
 */
export function readClientHello(
  socket: Socket,
  options: ReadClientHelloOptions = {},
): Promise<ReadClientHelloResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_HELLO_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
  const mergeRecords = options.mergeRecords ?? true;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
  // setTimeout silently turns delays above 2^31-1 ms into 1 ms, so those must be refused.
  if (!(timeoutMs > 0) || (timeoutMs > MAX_TIMER_MS && timeoutMs !== Infinity)) {
    throw new RangeError(`timeoutMs must be in (0, ${MAX_TIMER_MS}] or Infinity, got ${timeoutMs}`);
  }

  return new Promise<ReadClientHelloResult>((resolve) => {
    if (socket.destroyed || socket.readableEnded || !socket.readable) {
      socket.destroy();
      resolve({ kind: 'closed', reason: 'close', bytesRead: 0 });
      return;
    }
    if (socket.readableEncoding !== null) {
      resolve({ kind: 'passthrough', reason: 'string-chunks', bytesRead: 0 });
      return;
    }
    const assembler = new ClientHelloAssembler(maxBytes);
    let chunks = 0;
    let timer: NodeJS.Timeout | undefined;

    const detach = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
    };

    // Order matters: pause first so that `unshift` buffers the bytes instead of re-emitting them
    // as 'data' to nobody; the bytes go in front of anything that arrived after our last chunk.
    const handOver = (bytes: Buffer): void => {
      socket.pause();
      detach();
      if (bytes.length > 0) socket.unshift(bytes);
    };

    const passthrough = (reason: HelloPassthroughReason, error?: ClientHelloParseError): void => {
      const bytes = assembler.original();
      handOver(bytes);
      const result: HelloPassthroughResult = {
        kind: 'passthrough',
        reason,
        bytesRead: bytes.length,
      };
      if (error !== undefined) result.error = error;
      resolve(result);
    };

    const closed = (reason: HelloClosedResult['reason'], error?: Error): void => {
      detach();
      // Nobody else owns the socket yet; a client that half-closed mid-hello cannot finish a
      // handshake, so it is not worth a half-open socket.
      socket.destroy();
      const result: HelloClosedResult = { kind: 'closed', reason, bytesRead: assembler.bytesRead };
      if (error !== undefined) result.error = error;
      resolve(result);
    };

    function onData(chunk: Buffer | string): void {
      if (typeof chunk === 'string') {
        // Only reachable if someone sets an encoding while we read: the bytes are decoded and can
        // no longer be put back as they came, so the connection is beyond saving.
        closed('error', new Error('socket encoding was set while reading the ClientHello'));
        return;
      }
      chunks++;
      const status = assembler.push(chunk);
      if (status === 'need-more') return;
      if (status === 'reject') {
        passthrough(assembler.rejectReason ?? 'not-handshake');
        return;
      }
      const merged = mergeRecords ? assembler.merged() : undefined;
      const message = merged?.message ?? assembler.message();
      let hello: ClientHelloInfo;
      try {
        hello = parseClientHello(message);
      } catch (err) {
        // parseClientHello throws only ClientHelloParseError; should a bug ever throw something
        // else, throwing from a 'data' listener would crash the process, so hand over instead.
        passthrough('invalid-hello', err instanceof ClientHelloParseError ? err : undefined);
        return;
      }
      handOver(merged?.bytes ?? assembler.original());
      resolve({
        kind: 'hello',
        hello,
        message,
        bytesRead: assembler.bytesRead,
        records: assembler.records,
        merged: merged !== undefined,
        chunks,
      });
    }
    function onEnd(): void {
      closed('end');
    }
    function onClose(): void {
      closed('close');
    }
    function onError(err: Error): void {
      closed('error', err);
    }

    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('data', onData);
    // A socket someone paused explicitly does not start flowing when a 'data' listener is added.
    if (socket.readableFlowing !== true) socket.resume();
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        timer = undefined;
        passthrough('timeout');
      }, timeoutMs);
    }
  });
}
