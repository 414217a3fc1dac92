// The library's diagnostics_channel events as JSON lines, for `serve --log-events` and for users
// who want a ready-made log line. A line carries the event's own fields, ids shortened to a hex
// prefix (enough to find the session with `list`/`inspect`, and a TLS 1.3 PSK identity offered by
// a client can be 64 KiB long), and errors reduced to their first line. No event carries secrets.
import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNEL_NAMES } from '../cache/events.js';

/** Bytes of an id shown in a log line: 8 bytes, 16 hex digits, as `list` shows them. */
export const LOGGED_ID_BYTES = 8;

const CHANNEL_PREFIX = 'tls-session-cache:';
const MAX_ERROR_CHARS = 300;

/** Options of {@link formatEvent} and {@link logEvents}. */
export interface EventLogOptions {
  /**
   * The clock for the `time` field, ms since the epoch.
   * @default Date.now
   */
  clock?: () => number;
}

/**
 * One event as a plain object for a JSON log line: `{ time, event, …fields }`, where `event` is the
 * channel name without `tls-session-cache:` (`new`, `resume`, `miss`, `remove`, `rejected`,
 * `store-error`, `breaker`, `store-state`), byte fields are hex prefixes of
 * {@link LOGGED_ID_BYTES} bytes (with `…` when cut), errors are `{ name, message, code }` with the message's first line, and anything
 * that is not a string, number, boolean, bytes or error is left out.
 */
export function formatEvent(
  channel: string,
  message: unknown,
  options: EventLogOptions = {},
): Record<string, unknown> {
  const clock = options.clock ?? Date.now;
  const line: Record<string, unknown> = {
    time: new Date(clock()).toISOString(),
    event: channel.startsWith(CHANNEL_PREFIX) ? channel.slice(CHANNEL_PREFIX.length) : channel,
  };
  if (typeof message !== 'object' || message === null) return line;
  for (const [key, value] of Object.entries(message)) {
    if (key === 'time' || key === 'event') continue;
    const shown = fieldValue(value);
    if (shown !== undefined) line[key] = shown;
  }
  return line;
}

/**
 * Writes every event of every channel of {@link CHANNEL_NAMES} to `write` as one JSON line
 * (see {@link formatEvent}), until the returned function is called. `write` runs synchronously in
 * the publisher (the handshake path): keep it cheap, e.g. `process.stderr.write`.
 *
 * @example
 * ```ts
 * const stop = logEvents((line) => process.stderr.write(line));
 * ```
 */
export function logEvents(
  write: (line: string) => void,
  options: EventLogOptions = {},
): () => void {
  if (typeof write !== 'function') throw new TypeError('write must be a function');
  const subscriptions = Object.values(CHANNEL_NAMES).map((name) => {
    const handler = (message: unknown): void => {
      try {
        write(`${JSON.stringify(formatEvent(name, message, options))}\n`);
      } catch {
        // A failing log sink must not break the handshake that published the event.
      }
    };
    diagnosticsChannel.subscribe(name, handler);
    return () => diagnosticsChannel.unsubscribe(name, handler);
  });
  return () => {
    for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
  };
}

/** The hex of the first {@link LOGGED_ID_BYTES} bytes, `…` appended when there are more. */
export function idPrefix(id: Uint8Array): string {
  const hex = Buffer.from(
    id.buffer,
    id.byteOffset,
    Math.min(id.byteLength, LOGGED_ID_BYTES),
  ).toString('hex');
  return id.byteLength > LOGGED_ID_BYTES ? `${hex}…` : hex;
}

function fieldValue(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Uint8Array) return idPrefix(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: firstLine(value.message),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    };
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}
