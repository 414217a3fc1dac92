// A tiny DER writer for building synthetic sessions: fields real handshakes cannot produce
// (ticket app data, SRP, compression, unknown future tags) and deliberately broken encodings.
// Canonical output is checked against OpenSSL itself in the tests (d2i → i2d must give the same
// bytes), so this writer is trusted only as far as OpenSSL agrees with it.

/** Encodes a DER length. */
export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An element with identifier octet(s) `id` and the given content. */
export function tlv(id: number | number[], ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from(Array.isArray(id) ? id : [id]), derLength(body.length), body]);
}

/** A minimal two's-complement DER INTEGER. */
export function derInteger(value: number | bigint): Buffer {
  let v = BigInt(value);
  const bytes: number[] = [];
  if (v === 0n) bytes.push(0);
  while (v !== 0n && v !== -1n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  const negative = BigInt(value) < 0n;
  if (bytes.length === 0) bytes.push(0xff);
  else if (negative && (bytes[0]! & 0x80) === 0) bytes.unshift(0xff);
  else if (!negative && (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** An OCTET STRING. */
export function derOctets(content: Buffer | string): Buffer {
  return tlv(0x04, Buffer.isBuffer(content) ? content : Buffer.from(content));
}

/** A SEQUENCE. */
export function derSequence(...items: Buffer[]): Buffer {
  return tlv(0x30, ...items);
}

/** `[n] EXPLICIT`, for n < 31. */
export function explicit(n: number, inner: Buffer): Buffer {
  return tlv(0xa0 | n, inner);
}

/** The fields of a synthetic session; zero/undefined ones are omitted as i2d_SSL_SESSION does. */
export interface SyntheticSession {
  version?: number;
  sslVersion?: number;
  cipher?: Buffer;
  sessionId?: Buffer;
  masterKey?: Buffer;
  keyArg?: Buffer;
  time?: number | bigint;
  timeout?: number | bigint;
  peer?: Buffer;
  sidCtx?: Buffer;
  verifyResult?: number | bigint;
  hostname?: Buffer | string;
  pskIdentityHint?: Buffer | string;
  pskIdentity?: Buffer | string;
  tickLifetimeHint?: number | bigint;
  tick?: Buffer;
  compId?: Buffer;
  srpUsername?: Buffer | string;
  flags?: number | bigint;
  tickAgeAdd?: number | bigint;
  maxEarlyData?: number | bigint;
  alpn?: Buffer | string;
  maxFragLenMode?: number | bigint;
  ticketAppdata?: Buffer;
  kexGroup?: number | bigint;
  peerRpk?: Buffer;
  /** Raw elements appended after the known fields (e.g. future tags). */
  extra?: Buffer[];
}

const nonZero = (v: number | bigint | undefined): v is number | bigint =>
  v !== undefined && BigInt(v) !== 0n;

/** Builds a session the way OpenSSL's i2d_SSL_SESSION lays it out. */
export function buildSession(s: SyntheticSession): Buffer {
  const parts: Buffer[] = [
    derInteger(s.version ?? 1),
    derInteger(s.sslVersion ?? 0x0303),
    derOctets(s.cipher ?? Buffer.from([0xc0, 0x2f])),
    derOctets(s.sessionId ?? Buffer.alloc(32, 0x11)),
    derOctets(s.masterKey ?? Buffer.alloc(48, 0x22)),
  ];
  if (s.keyArg !== undefined) parts.push(tlv(0x80, s.keyArg));
  if (nonZero(s.time)) parts.push(explicit(1, derInteger(s.time)));
  if (nonZero(s.timeout)) parts.push(explicit(2, derInteger(s.timeout)));
  if (s.peer !== undefined) parts.push(explicit(3, s.peer));
  if (s.sidCtx !== undefined) parts.push(explicit(4, derOctets(s.sidCtx)));
  if (nonZero(s.verifyResult)) parts.push(explicit(5, derInteger(s.verifyResult)));
  if (s.hostname !== undefined) parts.push(explicit(6, derOctets(s.hostname)));
  if (s.pskIdentityHint !== undefined) parts.push(explicit(7, derOctets(s.pskIdentityHint)));
  if (s.pskIdentity !== undefined) parts.push(explicit(8, derOctets(s.pskIdentity)));
  if (nonZero(s.tickLifetimeHint)) parts.push(explicit(9, derInteger(s.tickLifetimeHint)));
  if (s.tick !== undefined) parts.push(explicit(10, derOctets(s.tick)));
  if (s.compId !== undefined) parts.push(explicit(11, derOctets(s.compId)));
  if (s.srpUsername !== undefined) parts.push(explicit(12, derOctets(s.srpUsername)));
  if (nonZero(s.flags)) parts.push(explicit(13, derInteger(s.flags)));
  if (nonZero(s.tickAgeAdd)) parts.push(explicit(14, derInteger(s.tickAgeAdd)));
  if (nonZero(s.maxEarlyData)) parts.push(explicit(15, derInteger(s.maxEarlyData)));
  if (s.alpn !== undefined) parts.push(explicit(16, derOctets(s.alpn)));
  if (nonZero(s.maxFragLenMode)) parts.push(explicit(17, derInteger(s.maxFragLenMode)));
  if (s.ticketAppdata !== undefined) parts.push(explicit(18, derOctets(s.ticketAppdata)));
  // kex_group is UINT32 without a zero default: OpenSSL always writes it, even 0.
  if (s.kexGroup !== undefined) parts.push(explicit(19, derInteger(s.kexGroup)));
  if (s.peerRpk !== undefined) parts.push(explicit(20, derOctets(s.peerRpk)));
  parts.push(...(s.extra ?? []));
  return derSequence(...parts);
}
