// The ticket key schedule: which key encrypts at a given time, which keys still decrypt, and when
// each is erased. Pure arithmetic on an injected "now", so the rules are testable without waiting.
//
// Time is cut into periods of `rotateEveryMs` counted from the epoch: period p is
// [p·R, (p+1)·R). The key of period p encrypts during p (OpenSSL's "current" key), is accepted one
// period early (minted ahead, so that a process whose clock runs behind another's, or that cannot
// reach the store at the boundary, already holds it), and after p still decrypts — and asks
// OpenSSL to renew the ticket under the current key — for `acceptForMs`, then is erased:
//
//   [ (p−1)·R ........ p·R ================ (p+1)·R ~~~~~~~~~~~~~~ (p+1)·R + acceptFor ]
//     accepted early     encrypts            decrypts and renews     erased
//
// Every process computes the same period numbers from its own clock, so no leader is needed: the
// store key of a period's key is its number.

/**
 * Default of `rotateEveryMs`: 6 hours. rustls' `TicketRotator` rotates every 6 h (tickets valid
 * 12 h); Go's `crypto/tls` rotates daily, s2n encrypts with a key 2 h, Twitter rotated every
 * 12 h. A stolen current key decrypts every ticket it sealed, so a short encrypt period bounds what
 * one key reveals; shorter than hours buys little (every rotation renews every returning client's
 * ticket, one more ticket message each) and longer leaves one key the whole fleet's secret for a
 * day.
 */
export const DEFAULT_ROTATE_EVERY_MS = 6 * 3_600_000;

/**
 * Default of `acceptForMs`: 6 hours after a key stops encrypting, so a ticket lives 6–12 h under
 * its key — rustls' 12 h, s2n's 2 h + 13 h decrypt-only, Twitter's 12 h / 36 h, Go's 1 day / 7 days
 * (Traefik) bracket it. The forward-secrecy window (how long a ticket key, and so every session it
 * sealed, stays in memory and in the store) is `rotateEveryMs + acceptForMs` = 12 h. Node's default
 * `sessionTimeout` (300 s) ends a session long before, so the overlap only matters to servers that
 * raise it; renewal (callback result 2) keeps a returning client's ticket fresh across rotations.
 */
export const DEFAULT_ACCEPT_FOR_MS = 6 * 3_600_000;

/** The schedule of one `rotateEveryMs` / `acceptForMs` pair. */
export class TicketKeySchedule {
  /** Length of a period, ms. */
  readonly rotateEveryMs: number;
  /** How long a key decrypts after its period, ms. */
  readonly acceptForMs: number;

  constructor(rotateEveryMs: number, acceptForMs: number) {
    this.rotateEveryMs = rotateEveryMs;
    this.acceptForMs = acceptForMs;
  }

  /** The period `nowMs` falls in. */
  periodAt(nowMs: number): number {
    return Math.floor(nowMs / this.rotateEveryMs);
  }

  /** When period `period` starts, ms since the epoch. */
  startOf(period: number): number {
    return period * this.rotateEveryMs;
  }

  /** When the key of `period` is erased (from memory and, by expiry, from the store). */
  eraseAt(period: number): number {
    return (period + 1) * this.rotateEveryMs + this.acceptForMs;
  }

  /**
   * The periods whose keys a process should hold at `nowMs`, oldest first: every one not yet
   * erased, up to the next one (minted ahead).
   */
  heldPeriods(nowMs: number): number[] {
    const current = this.periodAt(nowMs);
    const periods: number[] = [];
    // The oldest period whose key is still accepted: eraseAt(p) > now.
    let oldest = current;
    while (this.eraseAt(oldest - 1) > nowMs) oldest--;
    for (let p = oldest; p <= current + 1; p++) periods.push(p);
    return periods;
  }
}
