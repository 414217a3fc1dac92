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

/**
 * The map key of a session: its id, behind its namespace when it has one. Namespaces never contain
 * NUL (checked where they enter), so the first NUL ends the namespace and keys cannot collide.
 * For a lookup: a concatenation is the cheapest string to build, and it is dropped at once.
 */
export function entryKey(id: Uint8Array, namespace: string): string {
  return namespace === '' ? idKey(id) : `${namespace}\u0000${idKey(id)}`;
}

/**
 * The same key as {@link entryKey}, built as one flat string, for an entry that keeps it: a
 * concatenation is a tree of three strings (about 40 bytes more per cached session), and `join`
 * builds a flat one.
 */
export function storedEntryKey(id: Uint8Array, namespace: string): string {
  return namespace === '' ? idKey(id) : [namespace, idKey(id)].join('\u0000');
}
