/**
 * Realistic serialized sessions without handshakes, for floods: the DER layout OpenSSL writes for a
 * TLS 1.3 server session (about 170 bytes: a 32-byte id, a 48-byte resumption secret, time,
 * timeout, a 32-byte session id context, ticket lifetime and age add, ALPN, key exchange group),
 * each in its own unpooled buffer as Node hands them to `newSession`, with a fresh random id.
 *
 * @module
 */
import { randomFillSync } from 'node:crypto';

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  const header = len < 0x80 ? Buffer.from([tag, len]) : Buffer.from([tag, 0x81, len]);
  return Buffer.concat([header, content]);
}

function int(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** Where the id, the secret and the time sit in the template, to patch them per session. */
interface Template {
  der: Buffer;
  idAt: number;
  secretAt: number;
  timeAt: number;
}

function buildTemplate(timeSeconds: number, timeoutSeconds: number): Template {
  const id = Buffer.alloc(32, 0x11);
  const secret = Buffer.alloc(48, 0x22);
  const time = int(timeSeconds);
  const parts = [
    int(1),
    int(0x0304),
    tlv(0x04, Buffer.from([0x13, 0x02])),
    tlv(0x04, id),
    tlv(0x04, secret),
    explicit(1, time),
    explicit(2, int(timeoutSeconds)),
    explicit(4, tlv(0x04, Buffer.alloc(32, 0x33))),
    explicit(9, int(timeoutSeconds)),
    explicit(14, int(0x9abcdef0)),
    explicit(16, tlv(0x04, Buffer.from('h2'))),
    explicit(19, int(29)),
  ];
  const der = tlv(0x30, Buffer.concat(parts));
  return {
    der,
    idAt: der.indexOf(id),
    secretAt: der.indexOf(secret),
    timeAt: der.indexOf(time, der.indexOf(Buffer.from([0xa1]))) + 2,
  };
}

/** Makes sessions from one template; ids and secrets are random. */
export class SessionFactory {
  private readonly template: Template;
  private readonly random = Buffer.alloc(80 * 4096);
  private used = this.random.length;

  /** @param timeSeconds - the sessions' time; @param timeoutSeconds - their timeout */
  constructor(timeSeconds: number, timeoutSeconds = 300) {
    this.template = buildTemplate(timeSeconds, timeoutSeconds);
  }

  /** Size of every session, bytes. */
  get size(): number {
    return this.template.der.length;
  }

  /** A new session: a fresh unpooled buffer with a random 32-byte id and secret. */
  next(): Buffer {
    if (this.used + 80 > this.random.length) {
      randomFillSync(this.random);
      this.used = 0;
    }
    const t = this.template;
    // Buffer.alloc: unpooled, its own ArrayBuffer, like the sessionData Node hands out.
    const der = Buffer.alloc(t.der.length);
    t.der.copy(der);
    this.random.copy(der, t.idAt, this.used, this.used + 32);
    this.random.copy(der, t.secretAt, this.used + 32, this.used + 80);
    this.used += 80;
    return der;
  }
}
