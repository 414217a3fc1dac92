// createStore(): a parsed --store value → an open store.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStoreUrl } from '../../src/stores/store-url.js';
import { createStore } from '../../src/stores/from-url.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-from-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createStore', () => {
  it('memory: a MemoryStore bounded like OpenSSL’s internal cache', async () => {
    const store = await createStore(parseStoreUrl('memory'));
    expect(store).toBeInstanceOf(MemoryStore);
    expect((store as MemoryStore).maxEntries).toBe(20_480);
    await store.close();
  });

  it('sqlite:PATH: a SqliteStore on that file, created when missing', async () => {
    const path = join(dir, 'sessions.db');
    const store = await createStore(parseStoreUrl(`sqlite:${path}`));
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.kind).toBe('sqlite');
    expect(existsSync(path)).toBe(true);
    await store.close();
  });

  it('sqlite: a file that cannot be opened is an error naming it', async () => {
    // (A missing directory is created; one under a regular file cannot be.)
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    await expect(
      createStore(parseStoreUrl(`sqlite:${join(file, 'missing', 'x.db')}`)),
    ).rejects.toThrow(/^SqliteStore: cannot open ".*a-file\/missing\/x\.db"/);
  });
});
