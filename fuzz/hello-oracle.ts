/**
 * An independent reference reading of a ClientHello (RFC 8446 §4.1.2 and the extension syntaxes the
 * library documents), written in a different style from `src/wire/client-hello.ts` so that the
 * two can be compared case by case:
 *
 * - the oracle rejects ⇒ `parseClientHello` must throw its typed error;
 * - `parseClientHello` accepts ⇒ the oracle accepts and every field is equal;
 * - the oracle accepts but the parser refuses ⇒ only `BAD_SERVER_NAME` is allowed (the host name
 *   character and label rules are the one check the oracle leaves out).
 *
 * @module
 */
import type { ClientHelloInfo } from '../src/wire/client-hello.js';

class Reject extends Error {}

class Cursor {
  constructor(
    readonly b: Buffer,
    public p: number,
    readonly end: number,
  ) {}
  left(): number {
    return this.end - this.p;
  }
  need(n: number): void {
    if (this.left() < n) throw new Reject();
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  /** A sub-cursor over the next `n` bytes. */
  sub(n: number): Cursor {
    this.need(n);
    const c = new Cursor(this.b, this.p, this.p + n);
    this.p += n;
    return c;
  }
  done(): void {
    if (this.p !== this.end) throw new Reject();
  }
}

/** The fields the oracle reads, in the parser's terms. */
export interface OracleHello {
  length: number;
  legacyVersion: number;
  random: string;
  legacySessionId: string;
  cipherSuites: number[];
  compressionMethods: number[];
  extensionTypes: number[];
  serverName: string | undefined;
  alpnProtocols: string[] | undefined;
  supportedVersions: number[] | undefined;
  preSharedKey:
    { identities: { identity: string; age: number }[]; binderLengths: number[] } | undefined;
  pskKeyExchangeModes: number[] | undefined;
  earlyData: boolean;
  extendedMasterSecret: boolean;
  sessionTicket: string | undefined;
}

/** Reads a ClientHello the oracle's way; `undefined` when it must be rejected. */
export function oracleParse(message: Buffer): OracleHello | undefined {
  try {
    return read(message);
  } catch (error) {
    if (error instanceof Reject) return undefined;
    throw error;
  }
}

function read(m: Buffer): OracleHello {
  const top = new Cursor(m, 0, m.length);
  if (top.u8() !== 1) throw new Reject();
  top.need(3);
  const declared = m.readUIntBE(1, 3);
  top.p = 4;
  if (declared !== m.length - 4) throw new Reject();
  const c = top.sub(declared);
  const legacyVersion = c.u16();
  if (legacyVersion >> 8 !== 3) throw new Reject();
  const random = c.bytes(32).toString('hex');
  const sidLength = c.u8();
  if (sidLength > 32) throw new Reject();
  const legacySessionId = c.bytes(sidLength).toString('hex');
  const csLength = c.u16();
  if (csLength === 0 || csLength % 2 === 1) throw new Reject();
  const cs = c.sub(csLength);
  const cipherSuites: number[] = [];
  while (cs.left() > 0) cipherSuites.push(cs.u16());
  const cmLength = c.u8();
  if (cmLength === 0) throw new Reject();
  const compressionMethods = [...c.bytes(cmLength)];
  const hello: OracleHello = {
    length: m.length,
    legacyVersion,
    random,
    legacySessionId,
    cipherSuites,
    compressionMethods,
    extensionTypes: [],
    serverName: undefined,
    alpnProtocols: undefined,
    supportedVersions: undefined,
    preSharedKey: undefined,
    pskKeyExchangeModes: undefined,
    earlyData: false,
    extendedMasterSecret: false,
    sessionTicket: undefined,
  };
  if (c.left() === 0) return hello;
  const exts = c.sub(c.u16());
  c.done();
  const seen = new Set<number>();
  while (exts.left() > 0) {
    const type = exts.u16();
    const data = exts.sub(exts.u16());
    if (seen.has(type)) throw new Reject();
    seen.add(type);
    hello.extensionTypes.push(type);
    if (type === 41 && exts.left() !== 0) throw new Reject();
    readExtension(hello, type, data);
  }
  return hello;
}

function readExtension(h: OracleHello, type: number, d: Cursor): void {
  switch (type) {
    case 0: {
      const list = d.sub(d.u16());
      d.done();
      if (list.left() < 3 || list.u8() !== 0) throw new Reject();
      const name = list.bytes(list.u16());
      list.done();
      h.serverName = name.toString('latin1');
      return;
    }
    case 16: {
      const list = d.sub(d.u16());
      d.done();
      if (list.left() < 2) throw new Reject();
      const protocols: string[] = [];
      while (list.left() > 0) {
        const n = list.u8();
        if (n === 0) throw new Reject();
        protocols.push(list.bytes(n).toString('latin1'));
      }
      h.alpnProtocols = protocols;
      return;
    }
    case 43: {
      const list = d.sub(d.u8());
      d.done();
      if (list.left() < 2 || list.left() % 2 === 1) throw new Reject();
      const versions: number[] = [];
      while (list.left() > 0) versions.push(list.u16());
      h.supportedVersions = versions;
      return;
    }
    case 45: {
      const list = d.sub(d.u8());
      d.done();
      if (list.left() < 1) throw new Reject();
      h.pskKeyExchangeModes = [...list.bytes(list.left())];
      return;
    }
    case 42:
      d.done();
      h.earlyData = true;
      return;
    case 23:
      d.done();
      h.extendedMasterSecret = true;
      return;
    case 35:
      h.sessionTicket = d.bytes(d.left()).toString('hex');
      return;
    case 41: {
      const ids = d.sub(d.u16());
      if (ids.left() < 7) throw new Reject();
      const identities: { identity: string; age: number }[] = [];
      while (ids.left() > 0) {
        const n = ids.u16();
        if (n === 0) throw new Reject();
        const identity = ids.bytes(n).toString('hex');
        identities.push({ identity, age: ids.u32() });
      }
      const binders = d.sub(d.u16());
      d.done();
      if (binders.left() < 33) throw new Reject();
      const binderLengths: number[] = [];
      while (binders.left() > 0) {
        const n = binders.u8();
        if (n < 32) throw new Reject();
        binders.bytes(n);
        binderLengths.push(n);
      }
      if (binderLengths.length !== identities.length) throw new Reject();
      h.preSharedKey = { identities, binderLengths };
      return;
    }
    default:
      return;
  }
}

/** The parser's result in the oracle's terms (buffers as hex), for comparisons. */
export function normalize(info: ClientHelloInfo): OracleHello {
  return {
    length: info.length,
    legacyVersion: info.legacyVersion,
    random: info.random.toString('hex'),
    legacySessionId: info.legacySessionId.toString('hex'),
    cipherSuites: info.cipherSuites,
    compressionMethods: info.compressionMethods,
    extensionTypes: info.extensionTypes,
    serverName: info.serverName,
    alpnProtocols: info.alpnProtocols,
    supportedVersions: info.supportedVersions,
    preSharedKey:
      info.preSharedKey === undefined
        ? undefined
        : {
            identities: info.preSharedKey.identities.map((i) => ({
              identity: i.identity.toString('hex'),
              age: i.obfuscatedTicketAge,
            })),
            binderLengths: info.preSharedKey.binderLengths,
          },
    pskKeyExchangeModes: info.pskKeyExchangeModes,
    earlyData: info.earlyData,
    extendedMasterSecret: info.extendedMasterSecret,
    sessionTicket: info.sessionTicket?.toString('hex'),
  };
}

/** The first field in which two readings differ, or `undefined` when they agree. */
export function firstDifference(a: OracleHello, b: OracleHello): string | undefined {
  for (const key of Object.keys(a) as (keyof OracleHello)[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return undefined;
}
