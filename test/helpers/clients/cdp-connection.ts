// A minimal Chrome DevTools Protocol connection over the `ws` package (Node 20 has no stable global
// WebSocket): numbered commands with their replies, events kept for whoever waits for them, flat
// sessions (`sessionId` on each message). Hand-written because it is all the matrix needs; a CDP
// library would add a protocol description download or a browser of its own.
import WebSocket from 'ws';

/** One CDP event. */
export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

/** An open DevTools connection to a browser. */
export interface CdpConnection {
  /** Sends a command (to a page when `sessionId` is given); resolves with its result. */
  send<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    sessionId?: string,
  ): Promise<T>;
  /** The first event (since the last `clearEvents()`) that matches, waiting up to `timeoutMs`. */
  waitForEvent(
    matches: (event: CdpEvent) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<CdpEvent>;
  /** Forgets the events received so far. */
  clearEvents(): void;
  close(): void;
}

/** Opens the browser's DevTools WebSocket (`ws://127.0.0.1:PORT/devtools/browser/ID`). */
export async function connectCdp(url: string): Promise<CdpConnection> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let events: CdpEvent[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    } & Partial<CdpEvent>;
    if (message.id !== undefined) {
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) call?.reject(new Error(`CDP: ${message.error.message}`));
      else call?.resolve(message.result);
      return;
    }
    if (message.method === undefined) return;
    events.push({
      method: message.method,
      params: message.params ?? {},
      ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
    });
    for (const wake of waiters) wake();
  });
  socket.on('close', () => {
    for (const call of pending.values()) call.reject(new Error('CDP: connection closed'));
    pending.clear();
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    },
    waitForEvent(matches, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find(matches);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`CDP: no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    clearEvents() {
      events = [];
    },
    close() {
      socket.close();
    },
  };
}
