import { Buffer } from 'node:buffer';

/**
 * The map key of a binary session id. `latin1` maps every byte to exactly one UTF-16 code unit
 * (0–255) and back, so distinct ids never collide — unlike `utf8`, which folds invalid sequences
 * into U+FFFD. It is also the cheapest encoding Node offers for short buffers.
 */
export function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

/** Whether two ids (or two session blobs) hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
  );
}
