/**
 * The key-exchange groups a Node TLS server accepts in a TLS 1.3 `key_share`, as IANA numbers,
 * from its `ecdhCurve` option: what decides whether OpenSSL answers a ClientHello with a
 * HelloRetryRequest.
 *
 * @module
 */

/**
 * OpenSSL 3.0's default group list (`ecdhCurve: 'auto'`, Node's default): x25519, secp256r1, x448,
 * secp521r1, secp384r1, ffdhe2048..8192 (ssl/t1_lib.c `supported_groups_default`).
 */
const OPENSSL_DEFAULT_GROUPS: readonly number[] = [29, 23, 30, 25, 24, 256, 257, 258, 259, 260];

/** Names OpenSSL accepts in a groups list (case-insensitive), with their IANA numbers. */
const GROUP_NUMBERS: Readonly<Record<string, number>> = {
  'p-256': 23,
  prime256v1: 23,
  secp256r1: 23,
  'p-384': 24,
  secp384r1: 24,
  'p-521': 25,
  secp521r1: 25,
  x25519: 29,
  x448: 30,
  ffdhe2048: 256,
  ffdhe3072: 257,
  ffdhe4096: 258,
  ffdhe6144: 259,
  ffdhe8192: 260,
};

/**
 * The groups of an `ecdhCurve` value (`'auto'` or a colon-separated list), or `undefined` if a name
 * is not one this table knows (a provider's group, say): the caller must then not predict.
 *
 * @param ecdhCurve - the server's `ecdhCurve` (or `tls.DEFAULT_ECDH_CURVE`)
 */
export function serverKeyShareGroups(ecdhCurve: string): ReadonlySet<number> | undefined {
  if (ecdhCurve.toLowerCase() === 'auto') return new Set(OPENSSL_DEFAULT_GROUPS);
  const groups = new Set<number>();
  for (const name of ecdhCurve.split(':')) {
    const group = GROUP_NUMBERS[name.trim().toLowerCase()];
    if (group === undefined) return undefined;
    groups.add(group);
  }
  return groups.size === 0 ? undefined : groups;
}
