// TLS 1.3 single use of stateless tickets, fleet-wide (RFC 8446 §8 recommends single use where
// replay matters; OpenSSL enforces it only for stateful tickets).
//
// The ticket key callback cannot tell which connection it serves (its async resource is the
// SecureContext), so the decision is made per *ticket*, before Node sees the ClientHello: the
// ticket's first 32 bytes (OpenSSL's key name and IV, random per ticket: the ticket's identity) are
// recorded in the store with set-if-absent. The one connection whose record was new gets a permit
// for that ticket; the key callback then accepts a ticket only against a permit, and spends it.
// Two connections racing with one ticket in one process: one record is new, so one permit exists,
// so one of them resumes (whichever OpenSSL reaches first) — single use holds; which one wins does
// not matter. TLS 1.2 tickets are reusable by design (RFC 5077) and get a permit without a record.

/** Bytes of a ticket that identify it: OpenSSL's 16-byte key name and 16-byte IV. */
export const TICKET_HEAD_BYTES = 32;

/**
 * How long an unspent permit lives, ms: from the end of the ClientHello to OpenSSL's ticket
 * decryption is one synchronous step once Node has the bytes, so a permit older than this belongs
 * to a connection that went away.
 */
export const PERMIT_LIFETIME_MS = 30_000;

/** Most permits held; past it, the oldest go (their connections are long gone or attacking). */
const MAX_PERMITS = 65_536;

/** Permits to decrypt one ticket, by its head. */
export class TicketPermits {
  /** head (latin1) → unspent permits and when the first was granted. */
  readonly #permits = new Map<string, { count: number; atMs: number; tls13: boolean }>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Permits held. */
  get size(): number {
    return this.#permits.size;
  }

  /** One more permit for the ticket whose first 32 bytes are `head`, offered in TLS 1.3 or not. */
  grant(head: Uint8Array, tls13: boolean): void {
    const key = Buffer.from(head.buffer, head.byteOffset, TICKET_HEAD_BYTES).toString('latin1');
    const now = this.#clock();
    const held = this.#permits.get(key);
    if (held !== undefined) {
      held.count++;
      return;
    }
    if (this.#permits.size >= MAX_PERMITS) this.sweep(now, true);
    this.#permits.set(key, { count: 1, atMs: now, tls13 });
  }

  /**
   * Spends a permit for the ticket `name ‖ iv`: `'tls13'` or `'tls12'` (how it was offered), or
   * `undefined` when there is none.
   */
  spend(name: Buffer, iv: Buffer): 'tls13' | 'tls12' | undefined {
    const key = name.toString('latin1') + iv.toString('latin1');
    const held = this.#permits.get(key);
    if (held === undefined) return undefined;
    if (--held.count === 0) this.#permits.delete(key);
    if (this.#clock() - held.atMs >= PERMIT_LIFETIME_MS) return undefined;
    return held.tls13 ? 'tls13' : 'tls12';
  }

  /** Drops permits older than {@link PERMIT_LIFETIME_MS} (with `half`, the older half too). */
  sweep(nowMs: number = this.#clock(), half = false): void {
    let dropHalf = half ? this.#permits.size >> 1 : 0;
    // A Map iterates in insertion order: oldest first.
    for (const [key, held] of this.#permits) {
      if (nowMs - held.atMs < PERMIT_LIFETIME_MS && dropHalf <= 0) break;
      this.#permits.delete(key);
      dropHalf--;
    }
  }

  /** Drops every permit. */
  clear(): void {
    this.#permits.clear();
  }
}
