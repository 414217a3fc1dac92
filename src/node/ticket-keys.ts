// Tickets mode: stateless TLS session tickets whose keys every process and host of a service
// share through the session store, rotated on a schedule, with no leader.
//
// Who mints: whoever first needs the key of a period (the current one, or the next, minted ahead)
// writes a fresh random key under the period's number with the store's atomic `setIfAbsent`; every
// other process's write of that period loses, and it reads and adopts the winner's key. No process
// is special, so none can be lost. Keys are sealed in the store with the encryption keyring
// (AES-256-GCM, bound to the namespace and period, so a key cannot be moved to another period) and
// live only in this process's memory once read; they are never logged, never in an error, and the
// object prints without them.
//
// A process that cannot reach the store keeps serving: with the keys it holds, and for a period
// whose key it lacks, with a local key of its own (its tickets then resume only on this process,
// and are renewed under the shared key once the store answers again). `stats().state` and a
// `tls-session-cache:ticket-keys` event say so.
import { randomBytes, randomFillSync } from 'node:crypto';
import type tls from 'node:tls';
import { inspect } from 'node:util';
import { channels } from '../cache/events.js';
import { AesGcmCodec } from '../stores/encryption/aes-gcm-codec.js';
import { isKeyring, type Keyring } from '../stores/encryption/keyring.js';
import type { SessionStore } from '../stores/store.js';
import type { HelloFields } from '../wire/hello-fields.js';
import {
  booleanOption,
  checkInteger,
  describe as describeValue,
  isPromiseLike,
} from '../common/validate.js';
import { checkTenant } from './namespace.js';
import {
  TICKET_ACCEPT,
  TICKET_PART_BYTES,
  TICKET_RENEW,
  UNKNOWN_KEY_ANSWER,
  installTicketKeyCallback,
  type TicketKeyAnswer,
} from './ticket-key-callback.js';
import {
  DEFAULT_ACCEPT_FOR_MS,
  DEFAULT_ROTATE_EVERY_MS,
  TicketKeySchedule,
} from './ticket-key-schedule.js';
import { TICKET_HEAD_BYTES, TicketPermits } from './ticket-single-use.js';

/** Prefix of the namespaces ticket keys are stored under: `ticket-keys/<tenant>/<rotateEveryMs>`. */
export const TICKET_KEYS_NAMESPACE_PREFIX = 'ticket-keys/';
/** Prefix of the namespaces of TLS 1.3 first-use records: `ticket-uses/<tenant>`. */
export const TICKET_USES_NAMESPACE_PREFIX = 'ticket-uses/';

/** What one store entry is: a session (stateful mode, or a TLS 1.2 session id in tickets mode), a ticket key, or a first-use record. */
export type StoreEntryKind = 'session' | 'ticket-key' | 'ticket-use';

const TICKET_KEYS_NAMESPACE = /^ticket-keys\/[A-Za-z0-9._-]{0,64}\/\d+$/;
const TICKET_USES_NAMESPACE = /^ticket-uses\/([A-Za-z0-9._-]{0,64})$/;

/**
 * Tells the entries tickets mode writes from sessions, by namespace (and size: a first-use record
 * is one byte). A session namespace (`namespaceOf`) has at most one `/` and a 16-character hash, so
 * `ticket-keys/T/N` is never one; `ticket-uses/T` could be one only for the tenant `ticket-uses`,
 * and a session value is never one byte.
 */
export function storeEntryKind(namespace: string, size: number): StoreEntryKind {
  if (TICKET_KEYS_NAMESPACE.test(namespace)) return 'ticket-key';
  const uses = TICKET_USES_NAMESPACE.exec(namespace);
  if (uses !== null && (uses[1] === '' || size === 1)) return 'ticket-use';
  return 'session';
}

/** Default of {@link TicketKeysOptions.refreshMs}. */
export const DEFAULT_TICKET_REFRESH_MS = 30_000;

/** Options of {@link openTicketKeys}. */
export interface TicketKeysOptions {
  /**
   * How long each key encrypts new tickets, ms; every process of a service must use the same
   * value (it is part of where keys are stored). Anchors: rustls 6 h, Go 24 h, s2n 2 h, Twitter
   * 12 h; see docs/tickets.md.
   * @default 21600000 (6 h: rustls' rotation; with `acceptForMs`, rustls' 12 h ticket lifetime)
   */
  rotateEveryMs?: number;
  /**
   * How long a key still decrypts after it stopped encrypting, ms; tickets under it resume and
   * are renewed under the current key. `rotateEveryMs + acceptForMs` is the forward-secrecy
   * window: how long a key — and every session it sealed — can be recovered from memory or store.
   * @default 21600000 (6 h: rustls 6 h + 6 h; s2n 2 h + 13 h, Twitter 12 h + 24 h, Go 1 d + 6 d)
   */
  acceptForMs?: number;
  /**
   * The keyring that seals the ticket keys in the store (the encryption-at-rest keys). Required
   * for a store other processes read (anything but `memory`), unless `allowUnsealedKeys`.
   * @default undefined
   */
  keyring?: Keyring;
  /**
   * Store ticket keys unsealed in a shared store. Whoever reads the store then decrypts every
   * ticket of the window; a warning is emitted once. Ignored for the memory store.
   * @default false
   */
  allowUnsealedKeys?: boolean;
  /**
   * TLS 1.3 single use, fleet-wide: a ticket's first use is recorded in the store (set-if-absent,
   * one round trip before Node sees the ClientHello) and a second use anywhere is a full
   * handshake. Needs the attachment to read ClientHellos. TLS 1.2 tickets stay reusable.
   * @default true
   */
  singleUse?: boolean;
  /**
   * Tenant: servers share ticket keys only with servers of the same tenant. Letters, digits, `.`,
   * `_`, `-`; at most 64.
   * @default ''
   */
  tenant?: string;
  /**
   * How often each process reads the store again (and how soon it retries while the store is
   * unreachable), ms; besides, it syncs at every period boundary. `0`: only when `sync()` is called.
   * @default 30000
   */
  refreshMs?: number;
  /**
   * The clock, ms since the epoch. Inject one in tests.
   * @default Date.now
   */
  clock?: () => number;
}

const OPTION_NAMES = new Set([
  'rotateEveryMs',
  'acceptForMs',
  'keyring',
  'allowUnsealedKeys',
  'singleUse',
  'tenant',
  'refreshMs',
  'clock',
]);

/** What {@link TicketKeys.stats} reports. */
export interface TicketKeysStats {
  /**
   * `shared`: the key encrypting now came from the store (every process has it); `local`: this
   * process could not get it and encrypts with a key of its own.
   */
  state: 'shared' | 'local';
  /** Whether the last store call succeeded. */
  storeReachable: boolean;
  /** Keys held in memory (shared and local). */
  keys: number;
  /** The current period, `floor(now / rotateEveryMs)`. */
  period: number;
  /** Keys this process minted into the store (it was first). */
  minted: number;
  /** Keys read from the store that another process minted. */
  adopted: number;
  /** Local keys made while the store could not be reached. */
  localKeys: number;
  /** Keys erased from memory at the end of their accept window. */
  erased: number;
  /** Failed store calls (key sync and single-use records). */
  storeErrors: number;
  /** Keys in the store this process could not open (wrong keyring, garbage, unsealed without leave). */
  undecodableKeys: number;
  /** Tickets issued. */
  issued: number;
  /** Tickets accepted under the current key. */
  accepted: number;
  /** Tickets accepted under an earlier key, and renewed under the current one. */
  renewed: number;
  /** Tickets under a key this process does not hold (erased, another service's, forged). */
  unknownKey: number;
  /** TLS 1.3 tickets whose first use was recorded in the store. */
  firstUses: number;
  /** TLS 1.3 tickets found used before when their ClientHello was screened (replays). */
  replaysRefused: number;
  /** TLS 1.3 tickets whose first use could not be recorded: the store failed. */
  singleUseUnavailable: number;
  /**
   * Tickets the key callback refused for want of a permit: replays, tickets whose use could not
   * be recorded, and ClientHellos that were not screened. Each is a full handshake.
   */
  refusedWithoutPermit: number;
}

interface HeldKey extends TicketKeyPartsMutable {
  readonly period: number;
  readonly eraseAtMs: number;
  shared: boolean;
}

interface TicketKeyPartsMutable {
  readonly name: Buffer;
  readonly hmacKey: Buffer;
  readonly aesKey: Buffer;
}

/** Plain record: format byte 0, then name ‖ hmac ‖ aes. Sealed: format byte 1, then the codec's. */
const FORMAT_PLAIN = 0;
const FORMAT_SEALED = 1;
const KEY_BODY_BYTES = 3 * TICKET_PART_BYTES;

/**
 * The ticket keys of one service, shared through a store; see {@link openTicketKeys}. Attach it to
 * servers with `attachTo(server)` (or pass it as `attach(server, cache, { tickets })`, which also
 * screens ClientHellos for single use).
 */
export class TicketKeys {
  /** The store keys are shared through. */
  readonly store: SessionStore;
  /** The schedule. */
  readonly schedule: TicketKeySchedule;
  /** Whether TLS 1.3 tickets are single use. */
  readonly singleUse: boolean;

  readonly #clock: () => number;
  readonly #codec: AesGcmCodec | undefined;
  readonly #keysNamespace: string;
  readonly #usesNamespace: string;
  readonly #refreshMs: number;
  /** Period → key: the shared key of each period held, or the local one made for it. */
  readonly #byPeriod = new Map<number, HeldKey>();
  /** Name (latin1) → key: every key that decrypts, including local keys a shared one replaced. */
  readonly #byName = new Map<string, HeldKey>();
  readonly #permits: TicketPermits;
  readonly #stats: Omit<TicketKeysStats, 'state' | 'keys' | 'period'>;
  readonly #uninstall = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #closed = false;
  #sessionTimeoutMs = 300_000;

  /** Use {@link openTicketKeys}. @internal */
  constructor(store: SessionStore, options: TicketKeysOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object, got ${describeValue(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) throw new TypeError(`unknown option ${JSON.stringify(key)}`);
    }
    if (typeof store !== 'object' || store === null || typeof store.get !== 'function') {
      throw new TypeError(`store must be a SessionStore, got ${describeValue(store)}`);
    }
    if (typeof store.setIfAbsent !== 'function') {
      throw new TypeError(
        `store (${String(store.kind)}) has no setIfAbsent: tickets mode needs a store that can create an entry atomically`,
      );
    }
    const rotateEveryMs = checkInteger(
      'rotateEveryMs',
      options.rotateEveryMs ?? DEFAULT_ROTATE_EVERY_MS,
      1000,
      365 * 86_400_000,
    );
    const acceptForMs = checkInteger(
      'acceptForMs',
      options.acceptForMs ?? DEFAULT_ACCEPT_FOR_MS,
      0,
      365 * 86_400_000,
    );
    this.#refreshMs = checkInteger(
      'refreshMs',
      options.refreshMs ?? DEFAULT_TICKET_REFRESH_MS,
      0,
      2 ** 31 - 1,
    );
    this.singleUse = booleanOption('singleUse', options.singleUse, true);
    const allowUnsealed = booleanOption('allowUnsealedKeys', options.allowUnsealedKeys);
    if (options.keyring !== undefined && !isKeyring(options.keyring)) {
      throw new TypeError(`keyring must be a Keyring, got ${describeValue(options.keyring)}`);
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError(`clock must be a function, got ${describeValue(options.clock)}`);
    }
    const tenant = checkTenant(options.tenant ?? '');
    this.store = store;
    this.schedule = new TicketKeySchedule(rotateEveryMs, acceptForMs);
    this.#clock = options.clock ?? Date.now;
    this.#codec = options.keyring === undefined ? undefined : new AesGcmCodec(options.keyring);
    if (this.#codec === undefined && store.kind !== 'memory') {
      if (!allowUnsealed) {
        // A ticket key opens every ticket of its window: in a shared store it must be sealed.
        throw new TypeError(
          `tickets mode with a shared ${store.kind} store needs keyring (the encryption keys) to seal ticket keys in it; pass allowUnsealedKeys: true to store them readable by whoever reads the store`,
        );
      }
      process.emitWarning(
        `tls-session-cache: ticket keys are stored UNSEALED in the ${store.kind} store; whoever can read it can decrypt every ticket for ${(rotateEveryMs + acceptForMs) / 3_600_000} h`,
        { code: 'TLS_SESSION_CACHE_UNSEALED_TICKET_KEYS' },
      );
    }
    // The period length is part of the namespace: processes configured differently never read
    // each other's keys as if periods meant the same time.
    this.#keysNamespace = `${TICKET_KEYS_NAMESPACE_PREFIX}${tenant}/${rotateEveryMs}`;
    this.#usesNamespace = `${TICKET_USES_NAMESPACE_PREFIX}${tenant}`;
    this.#permits = new TicketPermits(this.#clock);
    this.#stats = {
      storeReachable: true,
      minted: 0,
      adopted: 0,
      localKeys: 0,
      erased: 0,
      storeErrors: 0,
      undecodableKeys: 0,
      issued: 0,
      accepted: 0,
      renewed: 0,
      unknownKey: 0,
      firstUses: 0,
      replaysRefused: 0,
      singleUseUnavailable: 0,
      refusedWithoutPermit: 0,
    };
  }

  /** Counters and state; no key material. */
  stats(): TicketKeysStats {
    const now = this.#clock();
    const current = this.#byPeriod.get(this.schedule.periodAt(now));
    return {
      state: current?.shared === true ? 'shared' : 'local',
      keys: this.#byName.size,
      period: this.schedule.periodAt(now),
      ...this.#stats,
    };
  }

  /**
   * Reads the keys this process should hold from the store, minting the current and the next
   * period's when nobody has yet, and erases expired ones. Runs by itself at every period boundary
   * and every `refreshMs`; call it after moving an injected clock. Never rejects: a store failure
   * leaves the process on the keys it has (and a local key for a period it lacks).
   */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = undefined;
      this.#schedule();
    });
    return this.#syncing;
  }

  /**
   * Makes `server` issue and accept this object's tickets (Node's ticket key callback); again
   * after `server.setSecureContext()`. Single use needs each ClientHello screened first: pass this
   * object as `attach()`'s `tickets` option rather than calling this yourself.
   * @returns a function that undoes it
   * @throws TypeError if Node lacks the callback, or the server has `SSL_OP_NO_TICKET`
   */
  attachTo(server: tls.Server): () => void {
    this.#checkOpen();
    const timeout = (server as unknown as { sessionTimeout?: unknown }).sessionTimeout;
    if (typeof timeout === 'number' && timeout > 0) {
      this.#sessionTimeoutMs = Math.max(this.#sessionTimeoutMs, timeout * 1000);
    }
    const uninstall = installTicketKeyCallback(server, (name, iv, encrypt) =>
      encrypt ? this.#encrypt() : this.#decrypt(name, iv),
    );
    this.#uninstall.add(uninstall);
    return () => {
      this.#uninstall.delete(uninstall);
      uninstall();
    };
  }

  /**
   * Single use: looks at a ClientHello before Node does. For a TLS 1.3 handshake, the first
   * offered ticket, when under a key this process holds, is recorded in the store (set-if-absent, for the
   * ticket's longest possible life); only a first use gets a permit, and the key callback accepts a
   * TLS 1.3 ticket only with one. TLS 1.2 tickets get a permit without a record. The returned
   * promise never rejects; the connection should wait for it.
   *
   * @param tls13 - whether this handshake will be TLS 1.3 (the client offers it and the server
   * may use it)
   * @internal `attach()` calls it with its own scan of the ClientHello (`HelloFields`, not public).
   */
  screenHello(hello: HelloFields, tls13: boolean): void | Promise<void> {
    if (!this.singleUse || this.#closed) return;
    if (!tls13) {
      const ticket = hello.sessionTicket();
      if (ticket !== undefined && ticket.length >= TICKET_HEAD_BYTES) {
        this.#permits.grant(ticket, false);
      }
      return;
    }
    // Only the first PSK identity is screened: the one Node's lookup and OpenSSL try first (see
    // SPEC.md). A later identity of ours gets no permit, so the key callback refuses it: a full
    // handshake, never a second use.
    const identity = hello.pskIdentity();
    if (identity === undefined || identity.length < TICKET_HEAD_BYTES) return;
    const key = this.#byName.get(identity.toString('latin1', 0, TICKET_PART_BYTES));
    // Not one of ours: the callback refuses it anyway, no record needed.
    if (key === undefined) return;
    // A copy: the hello's bytes go to Node, and the record outlives them.
    const head = Buffer.from(identity.subarray(0, TICKET_HEAD_BYTES));
    // The ticket cannot resume after its key is erased nor after its session's timeout.
    const until = Math.min(key.eraseAtMs, this.#clock() + this.#sessionTimeoutMs);
    const recorded = this.#record(head, until);
    if (isPromiseLike<boolean | undefined>(recorded)) {
      return Promise.resolve(recorded).then((first) => this.#noteUse(head, first));
    }
    this.#noteUse(head, recorded);
  }

  /** Stops timers, detaches from every server, and wipes every key from memory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const uninstall of [...this.#uninstall]) uninstall();
    this.#uninstall.clear();
    for (const key of this.#byName.values()) wipe(key);
    this.#byName.clear();
    this.#byPeriod.clear();
    this.#permits.clear();
  }

  /** `TicketKeys { … }`: counters, never keys. */
  [inspect.custom](): string {
    return `TicketKeys ${inspect(this.toJSON())}`;
  }

  /** Counters and schedule; never keys. */
  toJSON(): Record<string, unknown> {
    return {
      store: this.store.kind,
      rotateEveryMs: this.schedule.rotateEveryMs,
      acceptForMs: this.schedule.acceptForMs,
      singleUse: this.singleUse,
      sealed: this.#codec !== undefined,
      ...this.stats(),
    };
  }

  // --- the key callback ------------------------------------------------------------------------

  #encrypt(): TicketKeyAnswer {
    const key = this.#currentKey();
    this.#stats.issued++;
    return [TICKET_ACCEPT, key.hmacKey, key.aesKey, key.name, takeIv()];
  }

  #decrypt(name: Buffer, iv: Buffer): TicketKeyAnswer {
    const now = this.#clock();
    const key = this.#byName.get(name.toString('latin1'));
    if (key === undefined || key.eraseAtMs <= now) {
      this.#stats.unknownKey++;
      return UNKNOWN_KEY_ANSWER;
    }
    let permit: 'tls13' | 'tls12' | undefined;
    if (this.singleUse) {
      permit = this.#permits.spend(name, iv);
      if (permit === undefined) {
        this.#stats.refusedWithoutPermit++;
        return UNKNOWN_KEY_ANSWER;
      }
    }
    const current = this.schedule.periodAt(now);
    // A key of the current period (or the next, minted ahead and used by a process whose clock is
    // ahead) needs no renewal; an earlier one, or a local key a shared one replaced, does.
    if (key.period >= current && this.#byPeriod.get(key.period) === key) {
      this.#stats.accepted++;
      // OpenSSL issues a TLS 1.3 ticket after a resumption only when asked to renew: a single-use
      // ticket must be replaced, or the client has nothing to resume with next time (measured).
      return [permit === 'tls13' ? TICKET_RENEW : TICKET_ACCEPT, key.hmacKey, key.aesKey];
    }
    this.#stats.renewed++;
    return [TICKET_RENEW, key.hmacKey, key.aesKey];
  }

  /** The key of the current period; a local one when the store has not given it (yet). */
  #currentKey(): HeldKey {
    const now = this.#clock();
    const period = this.schedule.periodAt(now);
    let key = this.#byPeriod.get(period);
    if (key === undefined) {
      // A boundary passed before the timer's sync, and the key was not minted ahead (the store
      // was unreachable): never stretch an old key past its period; make a local one and sync.
      key = this.#makeLocal(period, 'no shared key for the period yet');
      void this.sync();
    }
    return key;
  }

  // --- the store -------------------------------------------------------------------------------

  async #syncOnce(): Promise<void> {
    const now = this.#clock();
    for (const [name, key] of this.#byName) {
      if (key.eraseAtMs > now) continue;
      this.#byName.delete(name);
      if (this.#byPeriod.get(key.period) === key) this.#byPeriod.delete(key.period);
      wipe(key);
      this.#stats.erased++;
      this.#publish('erased', key.period);
    }
    this.#permits.sweep(now);
    const current = this.schedule.periodAt(now);
    for (const period of this.schedule.heldPeriods(now)) {
      const held = this.#byPeriod.get(period);
      // Past keys only decrypt: once held from the store, nothing about them can change. The
      // current and next are checked every time: the store may have lost them (a restarted
      // Redis), and then the first process to notice puts its own back, so all converge again.
      if (period < current && held?.shared === true) continue;
      try {
        let key = await this.#read(period);
        if (key === undefined && period >= current) {
          // Nobody has minted it (or the store lost it): try to. A key this process already holds
          // for the period is the candidate, so the tickets it sealed keep resuming everywhere.
          const candidate = held ?? newKey(period, this.schedule);
          const won = await this.store.setIfAbsent!(
            this.#keysNamespace,
            periodId(period),
            this.#seal(candidate),
            candidate.eraseAtMs,
          );
          if (won) {
            if (!candidate.shared) {
              this.#stats.minted++;
              this.#publish('minted', period);
            }
            candidate.shared = true;
            if (held === undefined) this.#hold(candidate);
            key = undefined;
          } else {
            key = await this.#read(period);
            if (key === undefined) throw new Error('the store refused the ticket key');
          }
        }
        this.#stats.storeReachable = true;
        if (key !== undefined && this.#hold(key)) {
          this.#stats.adopted++;
          this.#publish('adopted', period);
        }
      } catch (error) {
        this.#stats.storeReachable = false;
        this.#stats.storeErrors++;
        if (period === current && this.#byPeriod.get(period) === undefined) {
          this.#makeLocal(period, messageOf(error));
        }
        // One failure is enough to know the store is away; the next sync tries again.
        break;
      }
    }
    if (this.#byPeriod.get(current) === undefined) {
      // The store answered but held a key for the current period we cannot open.
      this.#makeLocal(current, 'the stored key could not be opened');
    }
  }

  /** The stored key of `period`, or `undefined`; throws for store failures. */
  async #read(period: number): Promise<HeldKey | undefined> {
    const raw = await this.store.get(this.#keysNamespace, periodId(period));
    if (raw === undefined) return undefined;
    const body = this.#unseal(raw, period);
    if (body === undefined) {
      this.#stats.undecodableKeys++;
      throw new Error(`the stored ticket key of period ${period} could not be opened`);
    }
    const key: HeldKey = {
      period,
      eraseAtMs: this.schedule.eraseAt(period),
      shared: true,
      name: Buffer.from(body.subarray(0, 16)),
      hmacKey: Buffer.from(body.subarray(16, 32)),
      aesKey: Buffer.from(body.subarray(32, 48)),
    };
    body.fill(0);
    return key;
  }

  /**
   * Holds `key` as the shared key of its period; a key it replaces (a local one, or one the store
   * lost) still decrypts until its end, and its tickets are renewed.
   * @returns whether `key` was new to this process
   */
  #hold(key: HeldKey): boolean {
    const existing = this.#byPeriod.get(key.period);
    if (existing !== undefined && existing.name.equals(key.name)) {
      if (existing !== key) {
        existing.shared = true;
        wipe(key);
      }
      return false;
    }
    if (existing !== undefined) existing.shared = false;
    this.#byPeriod.set(key.period, key);
    this.#byName.set(key.name.toString('latin1'), key);
    return true;
  }

  #makeLocal(period: number, reason: string): HeldKey {
    const key = newKey(period, this.schedule);
    this.#byPeriod.set(period, key);
    this.#byName.set(key.name.toString('latin1'), key);
    this.#stats.localKeys++;
    this.#publish('local', period, reason);
    return key;
  }

  #seal(key: HeldKey): Uint8Array {
    const body = Buffer.concat([key.name, key.hmacKey, key.aesKey]);
    try {
      if (this.#codec === undefined) return Buffer.concat([Buffer.of(FORMAT_PLAIN), body]);
      const sealed = this.#codec.encode(body, {
        namespace: this.#keysNamespace,
        id: periodId(key.period),
      });
      return Buffer.concat([Buffer.of(FORMAT_SEALED), sealed]);
    } finally {
      body.fill(0);
    }
  }

  #unseal(raw: Uint8Array, period: number): Buffer | undefined {
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    try {
      if (bytes[0] === FORMAT_PLAIN && this.#codec === undefined) {
        // Only where unsealed keys were allowed: a sealing process never trusts a plain key that
        // whoever writes the store could have planted.
        if (bytes.length !== 1 + KEY_BODY_BYTES) return undefined;
        return Buffer.from(bytes.subarray(1));
      }
      if (bytes[0] === FORMAT_SEALED && this.#codec !== undefined) {
        const body = Buffer.from(
          this.#codec.decode(bytes.subarray(1), {
            namespace: this.#keysNamespace,
            id: periodId(period),
          }),
        );
        return body.length === KEY_BODY_BYTES ? body : undefined;
      }
      return undefined;
    } catch {
      return undefined;
    }
  }

  /** Records a first use; `undefined` when the store failed. */
  #record(head: Buffer, until: number): boolean | undefined | Promise<boolean | undefined> {
    const failed = (): undefined => {
      this.#stats.storeErrors++;
      this.#stats.singleUseUnavailable++;
      return undefined;
    };
    try {
      const result = this.store.setIfAbsent!(this.#usesNamespace, head, ONE, until);
      return isPromiseLike<boolean>(result)
        ? Promise.resolve(result).then((r) => r, failed)
        : result;
    } catch {
      return failed();
    }
  }

  #noteUse(head: Buffer, first: boolean | undefined): void {
    if (first === true) {
      this.#stats.firstUses++;
      this.#permits.grant(head, true);
    } else if (first === false) {
      this.#stats.replaysRefused++;
      if (channels.rejected.hasSubscribers) {
        channels.rejected.publish({ namespace: this.#usesNamespace, id: head, reason: 'replay' });
      }
    }
  }

  #publish(
    event: 'minted' | 'adopted' | 'local' | 'erased',
    period: number,
    reason?: string,
  ): void {
    if (!channels.ticketKeys.hasSubscribers) return;
    channels.ticketKeys.publish({
      event,
      period,
      store: this.store.kind,
      ...(reason === undefined ? {} : { reason }),
    });
  }

  #schedule(): void {
    if (this.#closed || this.#refreshMs === 0) return;
    clearTimeout(this.#timer);
    const now = this.#clock();
    const boundary = this.schedule.startOf(this.schedule.periodAt(now) + 1) - now;
    this.#timer = setTimeout(
      () => void this.sync(),
      Math.max(1, Math.min(boundary, this.#refreshMs)),
    );
    // Keys must never be the reason a process stays alive.
    this.#timer.unref();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('TicketKeys is closed');
  }
}

/**
 * Opens the shared ticket keys of a service in `store`: reads (or mints) the current and next
 * period's key before it resolves, so a process starts on the fleet's key when the store answers,
 * and on a local key (`stats().state === 'local'`) when it does not. Then keeps them in step on a
 * timer (unref'd).
 *
 * @example
 * ```ts
 * const tickets = await openTicketKeys(store, { keyring });
 * const server = https.createServer({ key, cert, ...ticketServerOptions() });
 * attach(server, cache, { tickets });
 * ```
 * @throws TypeError/RangeError naming the option for invalid options; TypeError for a store
 * without `setIfAbsent`, or a shared store without `keyring` (see `allowUnsealedKeys`)
 */
export async function openTicketKeys(
  store: SessionStore,
  options: TicketKeysOptions = {},
): Promise<TicketKeys> {
  const keys = new TicketKeys(store, options);
  await keys.sync();
  return keys;
}

const ONE = Uint8Array.of(1);

/** The store id of a period's key: its number, 8 bytes big-endian. */
function periodId(period: number): Buffer {
  const id = Buffer.alloc(8);
  id.writeBigInt64BE(BigInt(period));
  return id;
}

function newKey(period: number, schedule: TicketKeySchedule): HeldKey {
  const bytes = randomBytes(KEY_BODY_BYTES);
  return {
    period,
    eraseAtMs: schedule.eraseAt(period),
    shared: false,
    name: bytes.subarray(0, 16),
    hmacKey: bytes.subarray(16, 32),
    aesKey: bytes.subarray(32, 48),
  };
}

function wipe(key: HeldKey): void {
  key.hmacKey.fill(0);
  key.aesKey.fill(0);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

// IVs from a pool the CSPRNG fills 4 KiB at a time: a randomFillSync call costs several µs
// whatever its size, once per issued ticket otherwise. Each pool slice is handed out once.
const IV_POOL = Buffer.alloc(4096);
let ivPoolAt = IV_POOL.length;

function takeIv(): Buffer {
  if (ivPoolAt === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivPoolAt = 0;
  }
  const iv = Buffer.from(IV_POOL.subarray(ivPoolAt, ivPoolAt + TICKET_PART_BYTES));
  ivPoolAt += TICKET_PART_BYTES;
  return iv;
}
