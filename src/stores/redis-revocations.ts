// How RedisStore tells every process of a removal: Redis pub/sub, on one channel per key prefix and
// database. A removal is published after its DEL/UNLINK succeeded; every process subscribes on a
// connection of its own and drops the sessions from its memory within milliseconds.
//
// Pub/sub does not keep messages: a subscriber that is disconnected misses what is published
// meanwhile. So a subscriber that loses its connection reports "everything" at once (its caches
// drop their memory: later lookups read the store, which is the truth), and again once it is
// subscribed again, which covers whatever was published in between. A connection that stays open
// but silent (a paused Redis, a dead peer) is found by a PING every second, which ioredis's
// `socketTimeout` turns into a reconnection when it is not answered.
//
// Message: 0x01 ‖ origin (16 bytes) ‖ count (u16) ‖ count × report, where a report is
//   0x00                                   everything
//   0x01 ‖ len (u16) ‖ namespace (UTF-8)   a whole namespace
//   0x02 ‖ len (u16) ‖ namespace ‖ idLen (u8) ‖ id
// A message that does not parse (someone else publishing on the channel) counts as "everything".
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { EVERYTHING } from './revocations.js';
import type { Revocation } from './store.js';

const FORMAT = 0x01;
const ORIGIN_BYTES = 16;
const KIND_EVERYTHING = 0x00;
const KIND_NAMESPACE = 0x01;
const KIND_ID = 0x02;
/** How often the subscriber proves its connection alive. */
export const REVOCATION_HEARTBEAT_MS = 1000;

/** The channel of a key prefix and database: stores that share keys share it, no others. */
export function revocationChannel(keyPrefix: Buffer, db: number): Buffer {
  return Buffer.concat([keyPrefix, Buffer.from(`\u0000revocations\u0000${db}`, 'utf8')]);
}

/** A random origin: which store instance published a message (it reported its own already). */
export function newOrigin(): Buffer {
  return randomBytes(ORIGIN_BYTES);
}

/** The message for `reports` from `origin`. */
export function encodeRevocations(origin: Buffer, reports: readonly Revocation[]): Buffer {
  const parts: Buffer[] = [Buffer.of(FORMAT), origin, u16(reports.length)];
  for (const report of reports) {
    if (report.namespace === undefined) {
      parts.push(Buffer.of(KIND_EVERYTHING));
      continue;
    }
    const namespace = Buffer.from(report.namespace, 'utf8');
    if (report.id === undefined) {
      parts.push(Buffer.of(KIND_NAMESPACE), u16(namespace.length), namespace);
    } else {
      parts.push(
        Buffer.of(KIND_ID),
        u16(namespace.length),
        namespace,
        Buffer.of(report.id.byteLength),
        Buffer.from(report.id),
      );
    }
  }
  return Buffer.concat(parts);
}

/**
 * The origin and reports of a message; a message that does not parse is one report of everything
 * from no known origin (removals must never be under-reported).
 */
export function decodeRevocations(message: Buffer): { origin?: Buffer; reports: Revocation[] } {
  const garbled = { reports: [EVERYTHING] };
  if (message.length < 1 + ORIGIN_BYTES + 2 || message[0] !== FORMAT) return garbled;
  const origin = message.subarray(1, 1 + ORIGIN_BYTES);
  let at = 1 + ORIGIN_BYTES;
  const count = message.readUInt16BE(at);
  at += 2;
  const reports: Revocation[] = [];
  for (let i = 0; i < count; i++) {
    const kind = message[at++];
    if (kind === KIND_EVERYTHING) {
      reports.push(EVERYTHING);
      continue;
    }
    if ((kind !== KIND_NAMESPACE && kind !== KIND_ID) || at + 2 > message.length) return garbled;
    const length = message.readUInt16BE(at);
    at += 2;
    if (at + length > message.length) return garbled;
    const namespace = message.toString('utf8', at, at + length);
    at += length;
    if (kind === KIND_NAMESPACE) {
      reports.push({ namespace });
      continue;
    }
    const idLength = message[at++];
    if (idLength === undefined || idLength === 0 || at + idLength > message.length) return garbled;
    reports.push({ namespace, id: new Uint8Array(message.subarray(at, at + idLength)) });
    at += idLength;
  }
  return at === message.length ? { origin, reports } : garbled;
}

function u16(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** What a {@link RevocationSubscriber} needs from its store. */
export interface RevocationSubscriberOptions {
  /** A new, unconnected (lazyConnect) client for the subscription, to the first address. */
  readonly connect: () => Redis;
  /**
   * Where to reconnect after the connection dropped (a cluster's masters, in turn); `undefined`
   * for the same address.
   */
  readonly nextAddress?: (() => { host: string; port: number } | undefined) | undefined;
  readonly channel: Buffer;
  /** The store's own origin: its messages come back and are skipped. */
  readonly origin: Buffer;
  /** Told of the reports of every message, and of `{}` whenever messages may have been missed. */
  readonly onReports: (reports: readonly Revocation[]) => void;
}

/**
 * The subscription of one store instance: a connection of its own (a subscribed connection can do
 * nothing else), reconnected by ioredis after a failure and subscribed again by us — announcing
 * "everything" when the connection drops and again once subscribed, since pub/sub keeps nothing for
 * a subscriber that was away.
 */
export class RevocationSubscriber {
  readonly #options: RevocationSubscriberOptions;
  readonly #client: Redis;
  readonly #heartbeat: NodeJS.Timeout;
  #retry: NodeJS.Timeout | undefined;
  #subscribed = false;
  #closed = false;
  /** Told when the subscription comes into force; see {@link whenSubscribed}. */
  readonly #waiting = new Set<() => void>();
  /** Subscriptions made (1 after the first; more after reconnections). */
  subscriptions = 0;
  /** Messages received from other instances. */
  messages = 0;

  constructor(options: RevocationSubscriberOptions) {
    this.#options = options;
    const client = options.connect();
    this.#client = client;
    // Connection errors surface as failed subscriptions and reconnections; the store's own client
    // reports them.
    client.on('error', () => undefined);
    client.on('ready', () => this.#subscribe());
    client.on('close', () => {
      if (this.#subscribed) {
        this.#subscribed = false;
        // Deaf from now until subscribed again: what this process holds may be revoked unheard.
        this.#options.onReports([EVERYTHING]);
      }
      const next = this.#options.nextAddress?.();
      if (next !== undefined) Object.assign(client.options, next);
    });
    client.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#receive(message));
    client.connect().catch(() => undefined);
    // A PING waiting for an answer is what lets ioredis's socketTimeout see a silent connection.
    this.#heartbeat = setInterval(() => {
      if (this.#subscribed && client.status === 'ready') client.ping().catch(() => undefined);
    }, REVOCATION_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Whether the subscription is in force now. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /**
   * Resolves `true` once the subscription is in force, `false` after `timeoutMs` or at
   * {@link close}. Never rejects.
   */
  whenSubscribed(timeoutMs: number): Promise<boolean> {
    if (this.#subscribed) return Promise.resolve(true);
    if (this.#closed || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve(this.#subscribed);
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#waiting.add(done);
    });
  }

  /** Ends the subscription and its connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribed = false;
    for (const done of [...this.#waiting]) done();
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    this.#client.disconnect();
  }

  #subscribe(): void {
    if (this.#closed) return;
    this.#client.subscribe(this.#options.channel).then(
      () => {
        if (this.#closed) return;
        this.#subscribed = true;
        this.subscriptions++;
        // Whatever was published before this moment was missed (or predates the watcher).
        this.#options.onReports([EVERYTHING]);
        for (const done of [...this.#waiting]) done();
      },
      () => {
        // Refused (an ACL without the channel) or unanswered: try again a little later, on this
        // connection if it is still up (a reconnection subscribes by itself).
        if (this.#closed) return;
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => {
          if (this.#client.status === 'ready' && !this.#subscribed) this.#subscribe();
        }, REVOCATION_HEARTBEAT_MS);
        this.#retry.unref();
      },
    );
  }

  #receive(message: Buffer): void {
    if (this.#closed) return;
    const { origin, reports } = decodeRevocations(message);
    if (origin !== undefined && origin.equals(this.#options.origin)) return;
    this.messages++;
    this.#options.onReports(reports);
  }
}
