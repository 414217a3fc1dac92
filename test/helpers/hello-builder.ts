// Builds ClientHello handshake messages byte by byte, for the cases real clients never send.

/** One extension: type and raw extension_data. */
export interface BuiltExtension {
  type: number;
  data: Buffer;
}

/** Fields of {@link buildClientHello}; every one has a plausible default. */
export interface HelloFields {
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  cipherSuites?: number[];
  compressionMethods?: number[];
  /** `undefined`: no extensions block at all (a pre-TLS 1.0-extensions hello). */
  extensions?: BuiltExtension[] | undefined;
}

/** A big-endian length prefix of `bytes` bytes followed by `body`. */
export function vec(bytes: 1 | 2 | 3, body: Buffer): Buffer {
  const head = Buffer.alloc(bytes);
  head.writeUIntBE(body.length, 0, bytes);
  return Buffer.concat([head, body]);
}

/** A u16 list. */
export function u16s(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

/** Extension data of `server_name` with one host_name. */
export function sniData(host: string | Buffer): Buffer {
  const name = typeof host === 'string' ? Buffer.from(host, 'latin1') : host;
  return vec(2, Buffer.concat([Buffer.from([0]), vec(2, name)]));
}

/** Extension data of ALPN. */
export function alpnData(protocols: string[]): Buffer {
  return vec(2, Buffer.concat(protocols.map((p) => vec(1, Buffer.from(p, 'latin1')))));
}

/** Extension data of `supported_versions` (ClientHello form). */
export function supportedVersionsData(versions: number[]): Buffer {
  return vec(1, u16s(versions));
}

/** Extension data of `pre_shared_key` (ClientHello form). */
export function pskData(
  identities: { identity: Buffer; age: number }[],
  binders: Buffer[],
): Buffer {
  const ids = identities.map(({ identity, age }) => {
    const a = Buffer.alloc(4);
    a.writeUInt32BE(age >>> 0);
    return Buffer.concat([vec(2, identity), a]);
  });
  return Buffer.concat([
    vec(2, Buffer.concat(ids)),
    vec(2, Buffer.concat(binders.map((b) => vec(1, b)))),
  ]);
}

/** Serializes extensions (type, length, data each). */
export function extensionsBlock(exts: BuiltExtension[]): Buffer {
  return Buffer.concat(
    exts.map((e) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(e.type, 0);
      h.writeUInt16BE(e.data.length, 2);
      return Buffer.concat([h, e.data]);
    }),
  );
}

/** The ClientHello body (no handshake header). */
export function buildClientHelloBody(f: HelloFields = {}): Buffer {
  const version = Buffer.alloc(2);
  version.writeUInt16BE(f.version ?? 0x0303);
  const parts = [
    version,
    f.random ?? Buffer.alloc(32, 0xab),
    vec(1, f.sessionId ?? Buffer.alloc(32, 0x11)),
    vec(2, u16s(f.cipherSuites ?? [0x1301, 0x1302, 0xc02b])),
    vec(1, Buffer.from(f.compressionMethods ?? [0])),
  ];
  if (!('extensions' in f) || f.extensions !== undefined) {
    parts.push(vec(2, extensionsBlock(f.extensions ?? [])));
  }
  return Buffer.concat(parts);
}

/** A whole ClientHello handshake message. */
export function buildClientHello(f: HelloFields = {}): Buffer {
  return handshake(1, buildClientHelloBody(f));
}

/** Wraps `body` in a handshake header of type `type`. */
export function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), vec(3, body)]);
}
