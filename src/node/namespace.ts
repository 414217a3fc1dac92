import { createHash } from 'node:crypto';
import { stringOption } from '../common/validate.js';

const TENANT = /^[A-Za-z0-9._-]{0,64}$/;

/** Throws a `TypeError`/`RangeError` naming `tenant` unless it is a valid tenant name. */
export function checkTenant(tenant: unknown): string {
  const name = stringOption('tenant', tenant);
  if (!TENANT.test(name)) {
    throw new RangeError('tenant must be at most 64 letters, digits, ".", "_" or "-"');
  }
  return name;
}

/**
 * The namespace of a server's sessions: its tenant (readable, so operators can filter by it) and a
 * short hash of its session id context (fixed length whatever the context, and binary-safe). Two
 * servers share sessions exactly when both match.
 */
export function namespaceOf(tenant: string, sessionIdContext: Uint8Array): string {
  const ctx = createHash('sha256').update(sessionIdContext).digest('base64url').slice(0, 16);
  return tenant === '' ? ctx : `${tenant}/${ctx}`;
}
