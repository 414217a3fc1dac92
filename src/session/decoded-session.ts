// The result of decoding a serialized SSL_SESSION. Secrets (the master secret / resumption PSK, the
// ticket, the ticket app data) live in private #fields and leave only through explicit methods, so
// logging, JSON-serializing or spreading a session can never leak them.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import { SessionDecodeError } from './errors.js';
import { cipherSuiteById, namedGroupName, protocolVersionName } from './tls-names.js';

/** OpenSSL's `SSL_SESS_FLAG_EXTMS`: the session used the extended master secret (RFC 7627). */
export const SSL_SESS_FLAG_EXTMS = 0x1;

/** What {@link DecodedSession.toJSON} prints in place of a secret. */
export const REDACTED = '[redacted]';

/**
 * The decoded fields, as {@link decodeSession} hands them to the {@link DecodedSession}
 * constructor. Byte fields are views into the decoded input.
 *
 * @internal
 */
export interface SessionFields {
  formatVersion: number;
  protocolVersion: number;
  cipherId: number;
  sessionId: Buffer;
  masterSecret: Buffer;
  keyArg: Buffer | undefined;
  time: number;
  timeout: number;
  peerCertificate: Buffer | undefined;
  sessionIdContext: Buffer | undefined;
  verifyResult: number;
  hostName: Buffer | undefined;
  pskIdentityHint: Buffer | undefined;
  pskIdentity: Buffer | undefined;
  ticketLifetimeHint: number;
  ticket: Buffer | undefined;
  compressionId: number | undefined;
  srpUsername: Buffer | undefined;
  flags: number;
  ticketAgeAdd: number;
  maxEarlyData: number;
  alpnSelected: Buffer | undefined;
  maxFragmentLengthMode: number;
  ticketAppData: Buffer | undefined;
  kexGroup: number | undefined;
  peerRawPublicKey: Buffer | undefined;
}

/** The plain-JSON view of a session from {@link DecodedSession.toJSON}; secrets are redacted. */
export interface DecodedSessionJSON {
  /** The `version` INTEGER of the encoding; OpenSSL writes and accepts only 1. */
  formatVersion: number;
  /** OpenSSL's protocol name, or `"unknown"`. */
  protocol: string;
  /** The protocol version as 4 hex digits, e.g. `"0304"`. */
  protocolVersion: string;
  /** The cipher suite; the names are absent for an id OpenSSL 3.0 does not know. */
  cipher: {
    /** The suite's 2-byte id as 4 hex digits, e.g. `"1302"`. */
    id: string;
    /** OpenSSL's name, e.g. `"TLS_AES_256_GCM_SHA384"` or `"ECDHE-RSA-AES128-GCM-SHA256"`. */
    name?: string;
    /** The IANA name. */
    standardName?: string;
  };
  /** Hex, upper case as OpenSSL prints it. */
  sessionId: string;
  /** The session id context [4], upper-case hex; absent when the session has none. */
  sessionIdContext?: string;
  /** Always {@link REDACTED}: the master secret / resumption PSK never leaves through JSON. */
  masterSecret: typeof REDACTED;
  /** Length of the master secret (TLS ≤ 1.2) or resumption PSK (TLS 1.3) in bytes. */
  masterSecretLength: number;
  /** `key_arg` [0] (an SSLv2 relic), upper-case hex; absent in anything OpenSSL writes today. */
  keyArg?: string;
  /** Seconds since the epoch; 0 when the session has no start time. */
  time: number;
  /** {@link DecodedSessionJSON.time} as an ISO 8601 string; absent when out of `Date`'s range. */
  timeIso?: string;
  /** Lifetime [2] in seconds; 0 when absent. */
  timeout: number;
  /** `time + timeout`, seconds since the epoch. */
  expiresAt: number;
  /** {@link DecodedSessionJSON.expiresAt} as an ISO 8601 string; absent when out of `Date`'s range. */
  expiresAtIso?: string;
  /** The peer's leaf certificate [3], summarized; absent when the peer sent none. */
  peerCertificate?: {
    /** Size of the stored DER in bytes. */
    derLength: number;
    /** Subject in Node's `X509Certificate` format; absent when the certificate does not parse. */
    subject?: string;
    /** Issuer in Node's `X509Certificate` format; absent when the certificate does not parse. */
    issuer?: string;
    /** Serial number, upper-case hex; absent when the certificate does not parse. */
    serialNumber?: string;
    /** The `notAfter` date as Node prints it; absent when the certificate does not parse. */
    validTo?: string;
    /** SHA-256 fingerprint, colon-separated hex; absent when the certificate does not parse. */
    fingerprint256?: string;
    /** Set (and the other fields absent) when the stored DER does not parse as X.509. */
    error?: string;
  };
  /** X.509 verification result [5]; 0 is `X509_V_OK` (also when absent). */
  verifyResult: number;
  /** The SNI host name [6]; absent when the server did not acknowledge one. */
  hostName?: string;
  /** PSK identity hint [7] (TLS 1.2 PSK cipher suites). */
  pskIdentityHint?: string;
  /** PSK identity [8] (TLS 1.2 PSK cipher suites). */
  pskIdentity?: string;
  /** Ticket lifetime hint [9] in seconds, as the server announced it (client side); 0 when absent. */
  ticketLifetimeHint: number;
  /** {@link REDACTED} when the session holds a ticket [10]; absent otherwise. */
  ticket?: typeof REDACTED;
  /** Length of the ticket [10] in bytes; absent when there is none. */
  ticketLength?: number;
  /** Compression method id [11]; absent when none (always, since TLS compression is gone). */
  compressionId?: number;
  /** SRP user name [12]. */
  srpUsername?: string;
  /** Raw `flags` [13]; see {@link SSL_SESS_FLAG_EXTMS}. 0 when absent. */
  flags: number;
  /** Whether the session used the extended master secret (RFC 7627). */
  extendedMasterSecret: boolean;
  /** TLS 1.3 `ticket_age_add` [14]; 0 when absent. */
  ticketAgeAdd: number;
  /** TLS 1.3 `max_early_data` [15] in bytes; 0 when early data is not allowed. */
  maxEarlyData: number;
  /** The ALPN protocol [16] selected, e.g. `"h2"`; absent when none was negotiated. */
  alpnProtocol?: string;
  /** Max fragment length mode [17] (RFC 6066): 0 none, 1–4 for 2^9–2^12 bytes. */
  maxFragmentLengthMode: number;
  /** {@link REDACTED} when the session holds ticket app data [18]; absent otherwise. */
  ticketAppData?: typeof REDACTED;
  /** Length of the ticket app data [18] in bytes; absent when there is none. */
  ticketAppDataLength?: number;
  /** Key-exchange group [19] (OpenSSL 3.0+ writes it); absent in older encodings. */
  kexGroup?: {
    /** The group's 2-byte id as 4 hex digits, e.g. `"001D"`. */
    id: string;
    /** OpenSSL's name, e.g. `"x25519"`; absent for an id it does not know. */
    name?: string;
  };
  /** SubjectPublicKeyInfo DER of an RFC 7250 raw public key, hex. */
  peerRawPublicKey?: string;
}

// Date accepts ±8.64e15 ms; a hostile but well-formed time field can exceed that.
const MAX_DATE_SECONDS = 8.64e12;

function isoOf(seconds: number): string | undefined {
  return seconds >= -MAX_DATE_SECONDS && seconds <= MAX_DATE_SECONDS
    ? new Date(seconds * 1000).toISOString()
    : undefined;
}

// OpenSSL keeps these strings as C strings (OPENSSL_strndup), so a NUL ends them.
function cString(bytes: Buffer | undefined, encoding: 'utf8' | 'latin1'): string | undefined {
  if (bytes === undefined) return undefined;
  const nul = bytes.indexOf(0);
  return (nul < 0 ? bytes : bytes.subarray(0, nul)).toString(encoding);
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * A decoded `SSL_SESSION` (OpenSSL's `ssl/ssl_asn1.c` layout). Produced by {@link decodeSession}.
 *
 * Byte fields are zero-copy views into the decoded input: do not mutate or reuse that buffer while
 * the session is in use. Integer fields that OpenSSL encodes with a zero default (`time`,
 * `timeout`, `verifyResult`, `ticketLifetimeHint`, `flags`, `ticketAgeAdd`, `maxEarlyData`,
 * `maxFragmentLengthMode`) are 0 when absent, because OpenSSL omits exactly the zero values; fields
 * without such a default are `undefined` when absent.
 */
export class DecodedSession {
  /** The `version` INTEGER of the encoding; OpenSSL writes and accepts only 1. */
  readonly formatVersion: number;
  /** The negotiated protocol version, e.g. `0x0303` for TLS 1.2, `0x0304` for TLS 1.3. */
  readonly protocolVersion: number;
  /** The cipher suite's 2-byte id, e.g. `0x1302`. */
  readonly cipherId: number;
  /** The session id: the TLS 1.2 session id, or the id OpenSSL gives a TLS 1.3 session. May be empty. */
  readonly sessionId: Buffer;
  /** `key_arg` [0], an SSLv2 relic OpenSSL no longer writes. */
  readonly keyArg: Buffer | undefined;
  /** Start time [1], seconds since the epoch (0 if absent). */
  readonly time: number;
  /** Lifetime [2] in seconds (0 if absent; OpenSSL then applies 3 seconds on load). */
  readonly timeout: number;
  /** The peer's leaf certificate [3], DER. The server side has it when the client authenticated. */
  readonly peerCertificate: Buffer | undefined;
  /** The session id context [4]; it must match the server's for the session to resume. */
  readonly sessionIdContext: Buffer | undefined;
  /** X.509 verification result [5] of the peer certificate; 0 is `X509_V_OK`. */
  readonly verifyResult: number;
  /** Ticket lifetime hint [9] in seconds, as the server announced it (client side). */
  readonly ticketLifetimeHint: number;
  /** Compression method id [11]; `undefined` when none (always, since TLS compression is gone). */
  readonly compressionId: number | undefined;
  /** Raw `flags` [13]; see {@link SSL_SESS_FLAG_EXTMS}. */
  readonly flags: number;
  /** TLS 1.3 `ticket_age_add` [14]. */
  readonly ticketAgeAdd: number;
  /** TLS 1.3 `max_early_data` [15] allowed with this session. */
  readonly maxEarlyData: number;
  /** Max fragment length mode [17] (RFC 6066): 0 none, 1–4 for 2^9–2^12 bytes. */
  readonly maxFragmentLengthMode: number;
  /** Key-exchange group id [19] (OpenSSL 3.0+ writes it); 0 when the key exchange had none. */
  readonly kexGroup: number | undefined;
  /** The peer's RFC 7250 raw public key [20] as SubjectPublicKeyInfo DER (OpenSSL 3.2+). */
  readonly peerRawPublicKey: Buffer | undefined;

  readonly #masterSecret: Buffer;
  readonly #ticket: Buffer | undefined;
  readonly #ticketAppData: Buffer | undefined;
  readonly #hostName: Buffer | undefined;
  readonly #pskIdentityHint: Buffer | undefined;
  readonly #pskIdentity: Buffer | undefined;
  readonly #srpUsername: Buffer | undefined;
  readonly #alpnSelected: Buffer | undefined;
  #peerX509: X509Certificate | undefined;

  /**
   * Use {@link decodeSession}; this constructor trusts its argument.
   *
   * @internal
   */
  constructor(fields: SessionFields) {
    this.formatVersion = fields.formatVersion;
    this.protocolVersion = fields.protocolVersion;
    this.cipherId = fields.cipherId;
    this.sessionId = fields.sessionId;
    this.keyArg = fields.keyArg;
    this.time = fields.time;
    this.timeout = fields.timeout;
    this.peerCertificate = fields.peerCertificate;
    this.sessionIdContext = fields.sessionIdContext;
    this.verifyResult = fields.verifyResult;
    this.ticketLifetimeHint = fields.ticketLifetimeHint;
    this.compressionId = fields.compressionId;
    this.flags = fields.flags;
    this.ticketAgeAdd = fields.ticketAgeAdd;
    this.maxEarlyData = fields.maxEarlyData;
    this.maxFragmentLengthMode = fields.maxFragmentLengthMode;
    this.kexGroup = fields.kexGroup;
    this.peerRawPublicKey = fields.peerRawPublicKey;
    this.#masterSecret = fields.masterSecret;
    this.#ticket = fields.ticket;
    this.#ticketAppData = fields.ticketAppData;
    this.#hostName = fields.hostName;
    this.#pskIdentityHint = fields.pskIdentityHint;
    this.#pskIdentity = fields.pskIdentity;
    this.#srpUsername = fields.srpUsername;
    this.#alpnSelected = fields.alpnSelected;
  }

  /** OpenSSL's name for {@link DecodedSession.protocolVersion} (`"TLSv1.3"`), or `"unknown"`. */
  get protocol(): string {
    return protocolVersionName(this.protocolVersion) ?? 'unknown';
  }

  /** OpenSSL's name of the cipher suite, or `undefined` for an id OpenSSL 3.0 does not know. */
  get cipherName(): string | undefined {
    return cipherSuiteById(this.cipherId)?.name;
  }

  /** The IANA name of the cipher suite, or `undefined` for an unknown id. */
  get cipherStandardName(): string | undefined {
    return cipherSuiteById(this.cipherId)?.standardName;
  }

  /** The SNI host name [6] the session was established for, when the server acknowledged it. */
  get hostName(): string | undefined {
    return cString(this.#hostName, 'latin1');
  }

  /** PSK identity hint [7] (TLS 1.2 PSK cipher suites). */
  get pskIdentityHint(): string | undefined {
    return cString(this.#pskIdentityHint, 'utf8');
  }

  /** PSK identity [8] (TLS 1.2 PSK cipher suites). */
  get pskIdentity(): string | undefined {
    return cString(this.#pskIdentity, 'utf8');
  }

  /** SRP user name [12]. */
  get srpUsername(): string | undefined {
    return cString(this.#srpUsername, 'utf8');
  }

  /** The ALPN protocol [16] selected for the connection, e.g. `"h2"`. */
  get alpnProtocol(): string | undefined {
    return this.#alpnSelected?.toString('latin1');
  }

  /** Whether the session used the extended master secret (RFC 7627): `flags & SSL_SESS_FLAG_EXTMS`. */
  get extendedMasterSecret(): boolean {
    return (this.flags & SSL_SESS_FLAG_EXTMS) !== 0;
  }

  /** OpenSSL's name of {@link DecodedSession.kexGroup}, e.g. `"x25519"`, when known. */
  get kexGroupName(): string | undefined {
    return this.kexGroup === undefined ? undefined : namedGroupName(this.kexGroup);
  }

  /** Length of the master secret (TLS ≤ 1.2) or resumption PSK (TLS 1.3) in bytes. */
  get masterSecretLength(): number {
    return this.#masterSecret.length;
  }

  /** Length of the session ticket [10] in bytes, or `undefined` when there is none. */
  get ticketLength(): number | undefined {
    return this.#ticket?.length;
  }

  /** Length of the ticket app data [18] in bytes, or `undefined` when there is none. */
  get ticketAppDataLength(): number | undefined {
    return this.#ticketAppData?.length;
  }

  /** When the session stops being resumable: `time + timeout`, seconds since the epoch. */
  get expiresAt(): number {
    return this.time + this.timeout;
  }

  /**
   * Whether the session is unusable at `nowSeconds`: at or after `expiresAt`, or created in the
   * future. This is the rule the cache applies (BoringSSL's; OpenSSL 3.0 still accepts a session at
   * exactly `expiresAt` and does not check for the future).
   *
   * @param nowSeconds - seconds since the epoch; defaults to the current time
   */
  isExpired(nowSeconds: number = Date.now() / 1000): boolean {
    return nowSeconds >= this.expiresAt || nowSeconds < this.time;
  }

  /**
   * The master secret (TLS ≤ 1.2) or resumption PSK (TLS 1.3): a fresh copy the caller may wipe
   * with `fill(0)`. This is the only way the secret leaves the object.
   */
  masterSecret(): Buffer {
    return Buffer.from(this.#masterSecret);
  }

  /** The session ticket [10] (a secret on the client side): a fresh copy, or `undefined`. */
  ticket(): Buffer | undefined {
    return this.#ticket === undefined ? undefined : Buffer.from(this.#ticket);
  }

  /** The ticket app data [18]: a fresh copy, or `undefined`. */
  ticketAppData(): Buffer | undefined {
    return this.#ticketAppData === undefined ? undefined : Buffer.from(this.#ticketAppData);
  }

  /**
   * The peer certificate, parsed on first use (decoding only checked its outer structure, to keep
   * the hot path cheap).
   *
   * @throws SessionDecodeError `BAD_VALUE` if the stored certificate does not parse
   */
  peerX509(): X509Certificate | undefined {
    if (this.peerCertificate === undefined) return undefined;
    if (this.#peerX509 === undefined) {
      try {
        this.#peerX509 = new X509Certificate(this.peerCertificate);
      } catch {
        throw new SessionDecodeError('BAD_VALUE', 'peer certificate [3] does not parse as X.509');
      }
    }
    return this.#peerX509;
  }

  /**
   * The peer certificate's subject in Node's format (`"O=...\nCN=..."`), computed on first use.
   *
   * @throws SessionDecodeError `BAD_VALUE` if the stored certificate does not parse
   */
  get peerSubject(): string | undefined {
    return this.peerX509()?.subject;
  }

  /**
   * The peer's raw public key [20] as a `KeyObject`.
   *
   * @throws SessionDecodeError `BAD_VALUE` if the stored key does not parse
   */
  peerPublicKey(): KeyObject | undefined {
    if (this.peerRawPublicKey === undefined) return undefined;
    try {
      return createPublicKey({ key: this.peerRawPublicKey, format: 'der', type: 'spki' });
    } catch {
      throw new SessionDecodeError('BAD_VALUE', 'peer raw public key [20] does not parse');
    }
  }

  /** A plain JSON view: ids in hex, times as numbers and ISO strings, secrets redacted. */
  toJSON(): DecodedSessionJSON {
    const suite = cipherSuiteById(this.cipherId);
    const json: DecodedSessionJSON = {
      formatVersion: this.formatVersion,
      protocol: this.protocol,
      protocolVersion: hex4(this.protocolVersion),
      cipher: { id: hex4(this.cipherId), name: suite?.name, standardName: suite?.standardName },
      sessionId: this.sessionId.toString('hex').toUpperCase(),
      sessionIdContext: this.sessionIdContext?.toString('hex').toUpperCase(),
      masterSecret: REDACTED,
      masterSecretLength: this.masterSecretLength,
      keyArg: this.keyArg?.toString('hex').toUpperCase(),
      time: this.time,
      timeIso: isoOf(this.time),
      timeout: this.timeout,
      expiresAt: this.expiresAt,
      expiresAtIso: isoOf(this.expiresAt),
      peerCertificate: this.#peerCertificateJSON(),
      verifyResult: this.verifyResult,
      hostName: this.hostName,
      pskIdentityHint: this.pskIdentityHint,
      pskIdentity: this.pskIdentity,
      ticketLifetimeHint: this.ticketLifetimeHint,
      ticket: this.#ticket === undefined ? undefined : REDACTED,
      ticketLength: this.ticketLength,
      compressionId: this.compressionId,
      srpUsername: this.srpUsername,
      flags: this.flags,
      extendedMasterSecret: this.extendedMasterSecret,
      ticketAgeAdd: this.ticketAgeAdd,
      maxEarlyData: this.maxEarlyData,
      alpnProtocol: this.alpnProtocol,
      maxFragmentLengthMode: this.maxFragmentLengthMode,
      ticketAppData: this.#ticketAppData === undefined ? undefined : REDACTED,
      ticketAppDataLength: this.ticketAppDataLength,
      kexGroup:
        this.kexGroup === undefined
          ? undefined
          : { id: hex4(this.kexGroup), name: this.kexGroupName },
      peerRawPublicKey: this.peerRawPublicKey?.toString('hex'),
    };
    return json;
  }

  #peerCertificateJSON(): DecodedSessionJSON['peerCertificate'] {
    if (this.peerCertificate === undefined) return undefined;
    try {
      const cert = this.peerX509()!;
      return {
        derLength: this.peerCertificate.length,
        subject: cert.subject,
        issuer: cert.issuer,
        serialNumber: cert.serialNumber,
        validTo: cert.validTo,
        fingerprint256: cert.fingerprint256,
      };
    } catch {
      return { derLength: this.peerCertificate.length, error: 'does not parse as X.509' };
    }
  }

  /** A one-line summary without secrets, e.g. `DecodedSession(TLSv1.3 TLS_AES_256_GCM_SHA384 id=7A97…)`. */
  toString(): string {
    const id = this.sessionId.toString('hex').toUpperCase();
    const cipher = this.cipherName ?? `cipher 0x${hex4(this.cipherId)}`;
    return `DecodedSession(${this.protocol} ${cipher} id=${id.length > 16 ? `${id.slice(0, 16)}…` : id || '-'})`;
  }

  /** What `util.inspect` and `console.log` show: the redacted JSON view. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `DecodedSession ${inspect(this.toJSON(), options)}`;
  }
}
