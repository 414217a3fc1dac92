// Finds secrets in captured text, in any of the forms a leak takes: hex (either case), base64 or
// base64url, at any alignment inside a longer encoded blob (a PEM or a base64 DER that contains the
// secret). Linear in the text: encoded runs are decoded to bytes once, then every window of
// WINDOW bytes is looked up in a map of the secrets' windows.
import { Buffer } from 'node:buffer';

/** Bytes that must match in a row to count as a leak (shorter runs occur by chance). */
export const WINDOW = 12;

/** One secret found in the text. */
export interface Leak {
  /** What the secret is (e.g. `master secret`, `key`). */
  kind: string;
  /** How it appeared: `hex` or `base64`. */
  encoding: 'hex' | 'base64';
  /** The first bytes of the secret, hex (enough to find it in the record, not enough to use). */
  prefix: string;
  /** Where in the text. */
  offset: number;
}

/** A secret to look for. */
export interface Secret {
  kind: string;
  bytes: Uint8Array;
}

const HEX_RUN = /[0-9a-fA-F]{24,}/g;
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}/g;
// `aa:bb:cc…` or `aa bb cc…`, as openssl and hexdumps print bytes.
const SEPARATED_HEX_RUN = /(?:[0-9a-fA-F]{2}[:\s]){11,}[0-9a-fA-F]{2}/g;

/** Every leak of `secrets` in `text`. Secrets shorter than {@link WINDOW} bytes are ignored. */
export function findLeaks(text: string, secrets: readonly Secret[]): Leak[] {
  const windows = new Map<string, Secret>();
  for (const s of secrets) {
    if (s.bytes.byteLength < WINDOW) continue;
    // Any window of the secret would do; the first one, plus the last, catches truncated copies.
    windows.set(Buffer.from(s.bytes.subarray(0, WINDOW)).toString('latin1'), s);
    windows.set(Buffer.from(s.bytes.subarray(s.bytes.byteLength - WINDOW)).toString('latin1'), s);
  }
  const leaks: Leak[] = [];
  const seen = new Set<Secret>();
  const scanBytes = (bytes: Buffer, encoding: Leak['encoding'], offset: number): void => {
    const latin1 = bytes.toString('latin1');
    for (let i = 0; i + WINDOW <= latin1.length; i++) {
      const hit = windows.get(latin1.slice(i, i + WINDOW));
      if (hit !== undefined && !seen.has(hit)) {
        seen.add(hit);
        leaks.push({
          kind: hit.kind,
          encoding,
          prefix: Buffer.from(hit.bytes.subarray(0, 4)).toString('hex'),
          offset,
        });
      }
    }
  };
  for (const match of text.matchAll(HEX_RUN)) {
    const run = match[0];
    // Both nibble alignments: a secret may start at an odd position of a longer hex run.
    for (const start of [0, 1]) {
      const even = run.slice(start, start + ((run.length - start) & ~1));
      scanBytes(Buffer.from(even, 'hex'), 'hex', match.index);
    }
  }
  for (const match of text.matchAll(SEPARATED_HEX_RUN)) {
    scanBytes(Buffer.from(match[0].replace(/[:\s]/g, ''), 'hex'), 'hex', match.index);
  }
  for (const match of text.matchAll(BASE64_RUN)) {
    const run = match[0].replace(/-/g, '+').replace(/_/g, '/');
    // Four character alignments cover every byte alignment of the secret inside the blob.
    for (const start of [0, 1, 2, 3]) {
      const part = run.slice(start);
      scanBytes(
        Buffer.from(part.slice(0, part.length - (part.length % 4)), 'base64'),
        'base64',
        match.index,
      );
    }
  }
  return leaks;
}
