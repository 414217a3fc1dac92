// The store that docs/operating.md's commands work on: sessions with the ids, tenant and SNI the
// commands name (7a97c3d1e2f3a4b5…, acme, api.example.com), written through the library's own
// SqliteStore and stored-record encoding, so `list`, `inspect`, `remove` and `flush` find them.
import { join } from 'node:path';
import { namespaceOf } from '../../src/node/namespace.js';
import { encodeStoredSession } from '../../src/session/stored-record.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { buildSession } from '../helpers/session-der.js';

/** Writes three sessions into `dir`/sessions.db: two of tenant acme (one with the docs' id), one of none. */
export async function seedOperatingStore(dir: string): Promise<void> {
  const store = await SqliteStore.open({ path: join(dir, 'sessions.db') });
  try {
    const now = Math.floor(Date.now() / 1000);
    const context = Buffer.from('my-api');
    const sessions = [
      { tenant: 'acme', id: Buffer.from(`7a97c3d1e2f3a4b5${'ab'.repeat(24)}`, 'hex') },
      { tenant: 'acme', id: Buffer.alloc(32, 0x42) },
      { tenant: '', id: Buffer.alloc(32, 0x43) },
    ];
    for (const { tenant, id } of sessions) {
      const namespace = namespaceOf(tenant, context);
      const data = buildSession({
        sessionId: id,
        sidCtx: context,
        time: now,
        timeout: 300,
        flags: 1,
      });
      const value = encodeStoredSession({ id, data, namespace, hostName: 'api.example.com' });
      await store.set(namespace, id, value, (now + 300) * 1000);
    }
  } finally {
    await store.close();
  }
}
