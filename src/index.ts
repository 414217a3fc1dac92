/**
 * tls-session-cache: OpenSSL's server-side TLS session cache for Node.js.
 *
 * @packageDocumentation
 */
export {};
