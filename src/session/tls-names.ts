// Names for the numeric identifiers a serialized SSL_SESSION carries, spelled the way OpenSSL
// spells them, so what we print lines up with `openssl sess_id -text` and `openssl ciphers`.
import { CIPHER_SUITE_TABLE } from './cipher-suite-table.js';

/** A TLS cipher suite as OpenSSL 3.0 knows it. */
export interface CipherSuite {
  /** The 2-byte IANA id, e.g. `0x1302`. */
  readonly id: number;
  /** OpenSSL's name, as `openssl sess_id -text` prints it, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`. */
  readonly name: string;
  /** The IANA (RFC) name, e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`. */
  readonly standardName: string;
  /** The oldest protocol OpenSSL allows the suite with: `SSLv3`, `TLSv1`, `TLSv1.2` or `TLSv1.3`. */
  readonly minProtocol: string;
}

const cipherSuites = new Map<number, CipherSuite>();
for (const [id, name, standardName, minProtocol] of CIPHER_SUITE_TABLE) {
  cipherSuites.set(id, Object.freeze({ id, name, standardName, minProtocol }));
}

/**
 * Looks up a cipher suite by its 2-byte id.
 *
 * @returns the suite, or `undefined` for an id OpenSSL 3.0 does not implement
 */
export function cipherSuiteById(id: number): CipherSuite | undefined {
  return cipherSuites.get(id);
}

/**
 * OpenSSL's name for a protocol version number (`ssl_protocol_to_string`), e.g. `0x0304` →
 * `"TLSv1.3"`.
 *
 * @returns the name, or `undefined` for a version OpenSSL does not name (it prints "unknown")
 */
export function protocolVersionName(version: number): string | undefined {
  switch (version) {
    case 0x0304:
      return 'TLSv1.3';
    case 0x0303:
      return 'TLSv1.2';
    case 0x0302:
      return 'TLSv1.1';
    case 0x0301:
      return 'TLSv1';
    case 0x0300:
      return 'SSLv3';
    case 0xfeff:
      return 'DTLSv1';
    case 0xfefd:
      return 'DTLSv1.2';
    case 0x0100:
      // DTLS1_BAD_VER: the pre-RFC DTLS that old Cisco AnyConnect speaks.
      return 'DTLSv0.9';
    default:
      return undefined;
  }
}

// IANA "TLS Supported Groups" ids with the names OpenSSL uses for them (`-groups`/`-curves`);
// the post-quantum and brainpool-TLS1.3 entries are what OpenSSL 3.2+ and 3.5+ call them.
const namedGroups = new Map<number, string>([
  [0x0001, 'sect163k1'],
  [0x0002, 'sect163r1'],
  [0x0003, 'sect163r2'],
  [0x0004, 'sect193r1'],
  [0x0005, 'sect193r2'],
  [0x0006, 'sect233k1'],
  [0x0007, 'sect233r1'],
  [0x0008, 'sect239k1'],
  [0x0009, 'sect283k1'],
  [0x000a, 'sect283r1'],
  [0x000b, 'sect409k1'],
  [0x000c, 'sect409r1'],
  [0x000d, 'sect571k1'],
  [0x000e, 'sect571r1'],
  [0x000f, 'secp160k1'],
  [0x0010, 'secp160r1'],
  [0x0011, 'secp160r2'],
  [0x0012, 'secp192k1'],
  [0x0013, 'secp192r1'],
  [0x0014, 'secp224k1'],
  [0x0015, 'secp224r1'],
  [0x0016, 'secp256k1'],
  [0x0017, 'secp256r1'],
  [0x0018, 'secp384r1'],
  [0x0019, 'secp521r1'],
  [0x001a, 'brainpoolP256r1'],
  [0x001b, 'brainpoolP384r1'],
  [0x001c, 'brainpoolP512r1'],
  [0x001d, 'x25519'],
  [0x001e, 'x448'],
  [0x001f, 'brainpoolP256r1tls13'],
  [0x0020, 'brainpoolP384r1tls13'],
  [0x0021, 'brainpoolP512r1tls13'],
  [0x0022, 'GC256A'],
  [0x0023, 'GC256B'],
  [0x0024, 'GC256C'],
  [0x0025, 'GC256D'],
  [0x0026, 'GC512A'],
  [0x0027, 'GC512B'],
  [0x0028, 'GC512C'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0103, 'ffdhe6144'],
  [0x0104, 'ffdhe8192'],
  [0x0200, 'MLKEM512'],
  [0x0201, 'MLKEM768'],
  [0x0202, 'MLKEM1024'],
  [0x11eb, 'SecP256r1MLKEM768'],
  [0x11ec, 'X25519MLKEM768'],
  [0x11ed, 'SecP384r1MLKEM1024'],
]);

/**
 * The name of a TLS named group (the `kex_group` a session was established with), e.g. `0x001d` →
 * `"x25519"`.
 *
 * @returns the name, or `undefined` for an unassigned/unknown id (and for 0, "no group", which
 *   OpenSSL records for key exchanges without one, such as plain RSA or PSK)
 */
export function namedGroupName(id: number): string | undefined {
  return namedGroups.get(id);
}
