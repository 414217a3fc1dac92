// Engine-level fixtures: sessions are opaque to the cache, so a few bytes stand in for the DER.
import { randomBytes } from 'node:crypto';
import type { CachedSession, RemoveReason, SessionCacheOptions } from '../../src/cache/index.js';
import { SessionCache } from '../../src/cache/index.js';

export const T0 = 1_700_000_000; // seconds; a fixed "now" for the injected clock

/** A session with id `n` (as 32 bytes), created at `time` with `timeout`. */
export function session(n: number, time = T0, timeout = 300, idLength = 32): CachedSession {
  const id = Buffer.alloc(idLength, 0);
  if (idLength >= 4) id.writeUInt32BE(n >>> 0, idLength - 4);
  else id.fill(n & 0xff);
  return { id, data: randomBytes(40), time, timeout };
}

/** A settable clock in ms. */
export class TestClock {
  constructor(public nowMs = T0 * 1000) {}
  readonly now = (): number => this.nowMs;
  /** Sets the clock to `seconds` since the epoch. */
  at(seconds: number): void {
    this.nowMs = seconds * 1000;
  }
}

export interface Recorded {
  cache: SessionCache;
  clock: TestClock;
  news: CachedSession[];
  removes: { id: string; reason: RemoveReason; had: boolean }[];
  gets: { id: string; singleUse: boolean }[];
  external: Map<string, CachedSession>;
  reset(): void;
}

export const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');

/**
 * A cache whose callbacks record every call and keep an "external cache" Map, like the callbacks
 * of OpenSSL's sslapitest.c (new_called / remove_called / get_called).
 */
export function recordedCache(options: SessionCacheOptions & { ext?: boolean } = {}): Recorded {
  const { ext = true, ...cacheOptions } = options;
  const clock = new TestClock();
  const news: Recorded['news'] = [];
  const removes: Recorded['removes'] = [];
  const gets: Recorded['gets'] = [];
  const external = new Map<string, CachedSession>();
  const cache = new SessionCache({
    clock: clock.now,
    ...cacheOptions,
    ...(ext
      ? {
          onNew: (s: CachedSession) => {
            news.push(s);
            external.set(hex(s.id), s);
          },
          onRemove: (id: Uint8Array, reason: RemoveReason, s: CachedSession | undefined) => {
            removes.push({ id: hex(id), reason, had: s !== undefined });
            if (reason !== 'evicted' && reason !== 'closed') external.delete(hex(id));
          },
          onGet: (id: Uint8Array, info: { singleUse: boolean }) => {
            gets.push({ id: hex(id), singleUse: info.singleUse });
            const found = external.get(hex(id));
            if (found !== undefined && info.singleUse) external.delete(hex(id));
            return found;
          },
        }
      : {}),
  });
  return {
    cache,
    clock,
    news,
    removes,
    gets,
    external,
    reset() {
      news.length = 0;
      removes.length = 0;
      gets.length = 0;
    },
  };
}
