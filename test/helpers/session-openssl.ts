// Ground truth for the decoder: what `openssl sess_id -text` (SSL_SESSION_print in ssl/ssl_txt.c)
// says about a session, parsed strictly: a line the parser does not recognise fails the test, so
// every field OpenSSL prints is compared with ours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DecodedSession } from '../../src/session/decoded-session.js';

/** The fields `openssl sess_id -text -noout -cert` prints. */
export interface OpensslSessionText {
  protocol: string;
  cipher: string;
  sessionId: string;
  sessionIdContext: string;
  secretLabel: 'Master-Key' | 'Resumption PSK';
  /** Hex; compared, never printed. */
  secretHex: string;
  pskIdentity: string;
  pskIdentityHint: string;
  srpUsername: string;
  ticketLifetimeHint: number | undefined;
  /** Ticket bytes from the hex dump; BIO_dump elides trailing NULs/spaces (`ticketElided`). */
  ticket: Buffer | undefined;
  ticketElided: boolean;
  compression: string | undefined;
  startTime: number | undefined;
  timeout: number | undefined;
  verifyCode: number;
  verifyText: string;
  extendedMasterSecret: boolean;
  maxEarlyData: number | undefined;
  /** From the `-cert` part: "No certificate present" → undefined. */
  peerSubject: string | undefined;
}

/** Runs `openssl sess_id` with the given input file and arguments, returning stdout. */
export function opensslSessId(file: string, inform: 'PEM' | 'DER', args: string[]): Buffer {
  return execFileSync('openssl', ['sess_id', '-inform', inform, '-in', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `openssl sess_id -text -noout -cert` on DER bytes, via a temp file. */
export function opensslTextOfDer(der: Uint8Array): OpensslSessionText {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-sess-'));
  try {
    const file = join(dir, 'session.der');
    writeFileSync(file, der);
    return opensslTextOfFile(file, 'DER');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl sess_id -text -noout -cert` on a file. */
export function opensslTextOfFile(file: string, inform: 'PEM' | 'DER'): OpensslSessionText {
  return parseSessionText(opensslSessId(file, inform, ['-text', '-noout', '-cert']).toString());
}

/** Parses SSL_SESSION_print output (plus X509_print output of `-cert`). */
export function parseSessionText(text: string): OpensslSessionText {
  const lines = text.split('\n');
  const out: Partial<OpensslSessionText> = { ticketElided: false };
  let i = 0;
  const next = (): string => lines[i++] ?? '';
  if (next() !== 'SSL-Session:') throw new Error('sess_id output does not start with SSL-Session:');
  const value = (line: string, label: string): string => {
    const prefix = `    ${label}`;
    if (!line.startsWith(prefix)) throw new Error(`expected "${label}", got "${line}"`);
    return line.slice(prefix.length);
  };
  for (;;) {
    const line = next();
    if (line.startsWith('    Protocol  : ')) out.protocol = value(line, 'Protocol  : ');
    else if (line.startsWith('    Cipher    : ')) out.cipher = value(line, 'Cipher    : ');
    else if (line.startsWith('    Session-ID: ')) out.sessionId = value(line, 'Session-ID: ');
    else if (line.startsWith('    Session-ID-ctx: ')) {
      out.sessionIdContext = value(line, 'Session-ID-ctx: ');
    } else if (line.startsWith('    Master-Key: ')) {
      out.secretLabel = 'Master-Key';
      out.secretHex = value(line, 'Master-Key: ');
    } else if (line.startsWith('    Resumption PSK: ')) {
      out.secretLabel = 'Resumption PSK';
      out.secretHex = value(line, 'Resumption PSK: ');
    } else if (line.startsWith('    PSK identity: '))
      out.pskIdentity = value(line, 'PSK identity: ');
    else if (line.startsWith('    PSK identity hint: ')) {
      out.pskIdentityHint = value(line, 'PSK identity hint: ');
    } else if (line.startsWith('    SRP username: '))
      out.srpUsername = value(line, 'SRP username: ');
    else if (line.startsWith('    TLS session ticket lifetime hint: ')) {
      out.ticketLifetimeHint = Number.parseInt(
        value(line, 'TLS session ticket lifetime hint: '),
        10,
      );
    } else if (line === '    TLS session ticket:') {
      const bytes: number[] = [];
      // BIO_dump_indent(…, 4): "    0000 - 0a 1b ... 07-08 ...   ascii"; a final
      // "    XXXX - <SPACES/NULS>" line stands for trailing 0x00/0x20 bytes it left out.
      while ((lines[i] ?? '').startsWith('    ') && (lines[i] ?? '').slice(8, 11) === ' - ') {
        const dump = next().slice(11);
        if (dump.startsWith('<SPACES/NULS>')) {
          out.ticketElided = true;
          continue;
        }
        for (let k = 0; k < 16; k++) {
          const hex = dump.slice(k * 3, k * 3 + 2);
          if (!/^[0-9a-f]{2}$/.test(hex)) break;
          bytes.push(Number.parseInt(hex, 16));
        }
      }
      out.ticket = Buffer.from(bytes);
      if (next() !== '') throw new Error('expected a blank line after the ticket dump');
    } else if (line.startsWith('    Compression: ')) out.compression = value(line, 'Compression: ');
    else if (line.startsWith('    Start Time: ')) {
      out.startTime = Number.parseInt(value(line, 'Start Time: '), 10);
    } else if (line.startsWith('    Timeout   : ')) {
      const v = value(line, 'Timeout   : ');
      if (!v.endsWith(' (sec)')) throw new Error(`odd timeout line: ${line}`);
      out.timeout = Number.parseInt(v, 10);
    } else if (line.startsWith('    Verify return code: ')) {
      const v = value(line, 'Verify return code: ');
      const space = v.indexOf(' ');
      out.verifyCode = Number.parseInt(v.slice(0, space), 10);
      out.verifyText = v.slice(space + 2, -1);
    } else if (line.startsWith('    Extended master secret: ')) {
      out.extendedMasterSecret = value(line, 'Extended master secret: ') === 'yes';
    } else if (line.startsWith('    Max Early Data: ')) {
      out.maxEarlyData = Number.parseInt(value(line, 'Max Early Data: '), 10);
    } else if (line === 'No certificate present' || line === '') {
      break;
    } else if (line === 'Certificate:') {
      for (;;) {
        const certLine = next();
        if (i > lines.length) break;
        const at = certLine.indexOf('Subject: ');
        if (at >= 0 && certLine.slice(0, at).trim() === '') {
          out.peerSubject = certLine.slice(at + 'Subject: '.length);
        }
      }
      break;
    } else {
      throw new Error(`unrecognised sess_id line: "${line}"`);
    }
  }
  for (const key of [
    'protocol',
    'cipher',
    'sessionId',
    'sessionIdContext',
    'secretLabel',
    'secretHex',
    'pskIdentity',
    'pskIdentityHint',
    'srpUsername',
    'verifyCode',
    'extendedMasterSecret',
  ] as const) {
    if (out[key] === undefined) throw new Error(`sess_id output has no ${key}`);
  }
  return out as OpensslSessionText;
}

/** Node's subject format ("O=a\nCN=b") in OpenSSL's one-line X509_print form ("O=a, CN=b"). */
export function opensslSubjectOf(nodeSubject: string): string {
  return nodeSubject.split('\n').join(', ');
}

/**
 * Asserts that every field `openssl sess_id -text` printed matches the decoded session. The secret
 * is compared without ever being printed, even on failure.
 */
export function expectMatchesOpenssl(session: DecodedSession, text: OpensslSessionText): void {
  expect(session.protocol).toBe(text.protocol);
  expect(session.cipherName).toBe(text.cipher);
  expect(session.sessionId.toString('hex').toUpperCase()).toBe(text.sessionId);
  expect(session.sessionIdContext?.toString('hex').toUpperCase() ?? '').toBe(text.sessionIdContext);
  expect(text.secretLabel).toBe(
    session.protocolVersion === 0x0304 ? 'Resumption PSK' : 'Master-Key',
  );
  expect(session.masterSecretLength).toBe(text.secretHex.length / 2);
  const secretMatches = session.masterSecret().toString('hex').toUpperCase() === text.secretHex;
  expect(secretMatches, 'master secret / resumption PSK equals what openssl printed').toBe(true);
  expect(session.pskIdentity ?? 'None').toBe(text.pskIdentity);
  expect(session.pskIdentityHint ?? 'None').toBe(text.pskIdentityHint);
  expect(session.srpUsername ?? 'None').toBe(text.srpUsername);
  // SSL_SESSION_print omits these lines when the value is 0.
  expect(session.ticketLifetimeHint || undefined).toBe(text.ticketLifetimeHint);
  const ticket = session.ticket();
  if (text.ticket === undefined) {
    expect(ticket).toBeUndefined();
  } else {
    expect(ticket).toBeDefined();
    const mine = ticket ?? Buffer.alloc(0);
    if (text.ticketElided) {
      expect(mine.subarray(0, text.ticket.length).equals(text.ticket)).toBe(true);
      expect(mine.subarray(text.ticket.length).every((b) => b === 0 || b === 0x20)).toBe(true);
    } else {
      expect(mine.equals(text.ticket), 'ticket equals the openssl hex dump').toBe(true);
    }
  }
  expect(session.compressionId === undefined ? undefined : String(session.compressionId)).toBe(
    text.compression,
  );
  expect(session.time || undefined).toBe(text.startTime);
  expect(session.timeout || undefined).toBe(text.timeout);
  expect(session.verifyResult).toBe(text.verifyCode);
  expect(session.extendedMasterSecret).toBe(text.extendedMasterSecret);
  if (session.protocolVersion === 0x0304) expect(session.maxEarlyData).toBe(text.maxEarlyData);
  else expect(text.maxEarlyData).toBeUndefined();
  if (text.peerSubject === undefined) {
    expect(session.peerCertificate).toBeUndefined();
  } else {
    expect(session.peerSubject).toBeDefined();
    expect(opensslSubjectOf(session.peerSubject ?? '')).toBe(text.peerSubject);
  }
}

/** One top-level element of a session as `openssl asn1parse` sees it. */
export interface Asn1Element {
  /** `"INTEGER"`, `"OCTET STRING"`, or `"[n]"` for a context tag. */
  tag: string;
  /** For `[n]` (explicit): the inner element's tag; for `[0]` (implicit): undefined. */
  innerTag: string | undefined;
  /** Content bytes of the (inner) element, sliced at the offsets openssl reported. */
  content: Buffer;
  /** The whole (inner) element, header included. */
  element: Buffer;
  /** An INTEGER's value as openssl printed it. */
  integer: bigint | undefined;
}

const ASN1_LINE = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s+(.*?)\s*$/;

/**
 * The top-level fields of a DER session as OpenSSL's own ASN.1 parser (`openssl asn1parse`) sees
 * them, keyed by position for the universal ones (`"0"`–`"4"`) and by `"[n]"` for tagged ones.
 */
export function opensslAsn1Fields(der: Buffer): Map<string, Asn1Element> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-asn1-'));
  let text: string;
  try {
    const file = join(dir, 'session.der');
    writeFileSync(file, der);
    text = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file, '-i'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const m = ASN1_LINE.exec(line);
      if (m === null) throw new Error(`unparsed asn1parse line: ${line}`);
      const [offset, depth, hl, len] = [m[1], m[2], m[3], m[4]].map(Number) as [
        number,
        number,
        number,
        number,
      ];
      const rest = m[5] ?? '';
      const cont = /^cont \[ (\d+) \]$/.exec(rest);
      const colon = rest.indexOf(':');
      const tag = cont ? `[${cont[1]}]` : (colon < 0 ? rest : rest.slice(0, colon)).trim();
      const printed = colon < 0 ? undefined : rest.slice(colon + 1);
      return { offset, depth, hl, len, tag, printed };
    });
  const fields = new Map<string, Asn1Element>();
  let position = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    if (row.depth !== 1) continue;
    const explicit = row.tag.startsWith('[') && row.tag !== '[0]';
    const target = explicit ? rows[k + 1] : row;
    if (target === undefined || (explicit && target.depth !== 2)) {
      throw new Error(`no inner element for ${row.tag}`);
    }
    const contentStart = target.offset + target.hl;
    const integer =
      target.tag === 'INTEGER' && target.printed !== undefined
        ? target.printed.startsWith('-')
          ? -BigInt(`0x${target.printed.slice(1)}`)
          : BigInt(`0x${target.printed}`)
        : undefined;
    fields.set(row.tag.startsWith('[') ? row.tag : String(position++), {
      tag: row.tag,
      innerTag: explicit ? target.tag : undefined,
      content: der.subarray(contentStart, contentStart + target.len),
      element: der.subarray(target.offset, contentStart + target.len),
      integer,
    });
  }
  return fields;
}

/**
 * Asserts that every field of the DER, tags 0–20 included, decodes to what OpenSSL's ASN.1 parser
 * found there: the check for fields `sess_id -text` does not print (host name, ALPN, ticket age
 * add, max fragment length, kex group, flags, peer certificate bytes, ...).
 */
export function expectMatchesAsn1(session: DecodedSession, der: Buffer): void {
  const f = opensslAsn1Fields(der);
  const int = (key: string): number | undefined => {
    const v = f.get(key)?.integer;
    return v === undefined ? undefined : Number(v);
  };
  const bytes = (key: string): Buffer | undefined => f.get(key)?.content;
  const same = (a: Buffer | undefined, b: Buffer | undefined): boolean =>
    a === undefined || b === undefined ? a === b : a.equals(b);

  expect(int('0')).toBe(session.formatVersion);
  expect(int('1')).toBe(session.protocolVersion);
  expect(bytes('2')?.readUInt16BE(0)).toBe(session.cipherId);
  expect(same(bytes('3'), session.sessionId)).toBe(true);
  expect(same(bytes('4'), session.masterSecret()), 'master secret bytes').toBe(true);
  expect(same(bytes('[0]'), session.keyArg)).toBe(true);
  expect(int('[1]') ?? 0).toBe(session.time);
  expect(int('[2]') ?? 0).toBe(session.timeout);
  expect(same(f.get('[3]')?.element, session.peerCertificate)).toBe(true);
  expect(same(bytes('[4]'), session.sessionIdContext)).toBe(true);
  expect(int('[5]') ?? 0).toBe(session.verifyResult);
  expect(bytes('[6]')?.toString('latin1')).toBe(session.hostName);
  expect(bytes('[7]')?.toString('utf8')).toBe(session.pskIdentityHint);
  expect(bytes('[8]')?.toString('utf8')).toBe(session.pskIdentity);
  expect(int('[9]') ?? 0).toBe(session.ticketLifetimeHint);
  expect(same(bytes('[10]'), session.ticket()), 'ticket bytes').toBe(true);
  expect(bytes('[11]')?.[0]).toBe(session.compressionId);
  expect(bytes('[12]')?.toString('utf8')).toBe(session.srpUsername);
  expect(int('[13]') ?? 0).toBe(session.flags);
  expect(int('[14]') ?? 0).toBe(session.ticketAgeAdd);
  expect(int('[15]') ?? 0).toBe(session.maxEarlyData);
  expect(bytes('[16]')?.toString('latin1')).toBe(session.alpnProtocol);
  expect(int('[17]') ?? 0).toBe(session.maxFragmentLengthMode);
  expect(same(bytes('[18]'), session.ticketAppData()), 'ticket appdata bytes').toBe(true);
  expect(int('[19]')).toBe(session.kexGroup);
  expect(same(bytes('[20]'), session.peerRawPublicKey)).toBe(true);
  for (const key of f.keys()) {
    if (key.startsWith('[') && Number(key.slice(1, -1)) > 20) continue;
    expect(['0', '1', '2', '3', '4'].includes(key) || /^\[(\d|1\d|20)\]$/.test(key)).toBe(true);
  }
}
