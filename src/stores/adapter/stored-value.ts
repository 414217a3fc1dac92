// The store adapter's encoding: a session into the value a store holds (the envelope of
// encodeStoredSession, through the codec: the seam for encryption at rest), and a value read back
// into a session — bounded by the store's maxValueBytes before any parsing, since whoever can write
// to the store can plant anything. A value that does not decode is counted, published on
// `channels.rejected` and reported; the lookup then misses.
import { channels } from '../../cache/events.js';
import type { CachedSession } from '../../cache/types.js';
import type { SessionRecord } from '../../session/session-record.js';
import {
  MAX_STORED_SESSION_BYTES,
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionCodec,
} from '../../session/stored-record.js';
import type { SessionStore } from '../store.js';
import type { StoreOperation } from './timed-call.js';

/** The counters decoding keeps (fields of `StoreAdapterStats`). */
export interface DecodeCounters {
  found: number;
  decodeErrors: number;
}

const PROBE_ID = new Uint8Array([1]);

/** Encodes and decodes the values of one adapter; see the file comment. */
export class StoredValues {
  readonly #options: { readonly codec: StoredSessionCodec | undefined };
  readonly #maxValueBytes: number;
  readonly #counters: DecodeCounters;
  readonly #report: (error: unknown, operation: StoreOperation) => void;

  /**
   * @param codec - the codec, or `undefined` for plain envelopes
   * @param store - whose `maxValueBytes` bounds what is parsed
   * @param counters - updated in place (the adapter's stats object)
   * @param report - told of each value that did not decode
   * @throws for a malformed codec: early, rather than on the first session
   */
  constructor(
    codec: StoredSessionCodec | undefined,
    store: SessionStore,
    counters: DecodeCounters,
    report: (error: unknown, operation: StoreOperation) => void,
  ) {
    this.#options = { codec };
    this.#maxValueBytes =
      Number.isSafeInteger(store.maxValueBytes) && store.maxValueBytes > 0
        ? store.maxValueBytes
        : MAX_STORED_SESSION_BYTES;
    this.#counters = counters;
    this.#report = report;
    if (codec !== undefined) {
      encodeStoredSession({ id: PROBE_ID, data: PROBE_ID, namespace: '' }, this.#options);
    }
  }

  /** The value to store for `session`. @throws when it cannot be encoded */
  encode(session: CachedSession): Uint8Array {
    return encodeStoredSession(session as SessionRecord, this.#options);
  }

  /** The session in `value` if it is one for (`namespace`, `id`); `undefined` (counted) if not. */
  decode(
    value: Uint8Array | undefined,
    id: Uint8Array,
    namespace: string,
  ): SessionRecord | undefined {
    if (value === undefined || value === null) return undefined;
    try {
      if (value instanceof Uint8Array && value.byteLength > this.#maxValueBytes) {
        throw new StoredSessionError(
          'TOO_LARGE',
          `stored value of ${value.byteLength} bytes is over the store's maxValueBytes (${this.#maxValueBytes})`,
        );
      }
      const record = decodeStoredSession(value, namespace, id, this.#options);
      this.#counters.found++;
      return record;
    } catch (error) {
      this.#counters.decodeErrors++;
      if (channels.rejected.hasSubscribers) {
        const detail = error instanceof StoredSessionError ? error.code : undefined;
        channels.rejected.publish({ namespace, id, reason: 'decode', ...(detail && { detail }) });
      }
      this.#report(error, 'decode');
      return undefined;
    }
  }
}
