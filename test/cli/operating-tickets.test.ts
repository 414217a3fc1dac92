// The operating commands against a store `serve --mode tickets` filled: the built CLI, a real
// SQLite file, real handshakes by openssl s_client (TLS 1.3 with a resumption, so a first-use
// record; TLS 1.2 without ticket support, so a session id in the store). The store then holds
// sealed ticket keys and first-use records besides the session: list, stats, inspect, remove and
// flush count them apart, never decode or print them, and flush --all removes them while the
// server keeps serving (what happens then is what docs/tickets.md says).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/stores/encryption/aes-gcm-codec.js';
import { loadKeyring } from '../../src/stores/encryption/key-source.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import type { StoredEntry } from '../../src/stores/store.js';
import { cliProcesses } from '../helpers/cli-processes.js';

const cli = cliProcesses();
let dir: string;
let keyFile: string;
let db: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-operating-tickets-'));
  keyFile = join(dir, 'keys');
  // Random, not a pattern: the leak scan looks for every key in all output.
  writeFileSync(keyFile, `k1:${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  db = join(dir, 'tickets.db');
});
afterAll(async () => {
  await cli.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The store's entries under `prefix`, with their values, read through the real SqliteStore. */
async function entries(prefix: string): Promise<StoredEntry[]> {
  const store = await SqliteStore.open({ path: db });
  try {
    const out: StoredEntry[] = [];
    for await (const entry of store.list({ namespacePrefix: prefix, withValues: true })) {
      out.push(entry);
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The unsealed body (name ‖ HMAC key ‖ AES key) of each stored ticket key. */
function unseal(keys: StoredEntry[]): Buffer[] {
  const codec = new AesGcmCodec(loadKeyring({ keyFile })!);
  return keys.map((key) =>
    Buffer.from(
      codec.decode(Buffer.from(key.value!).subarray(1), { namespace: key.namespace, id: key.id }),
    ),
  );
}

/** The names (public: in every ticket) of stored ticket keys, hex. */
function keyNames(keys: StoredEntry[]): string[] {
  return unseal(keys).map((body) => body.subarray(0, 16).toString('hex'));
}

/** Every form in which a ticket key could leak: the sealed value, and each unsealed part. */
function keyMaterial(keys: StoredEntry[]): string[] {
  const forms: string[] = [];
  const bodies = unseal(keys);
  for (const [i, key] of keys.entries()) {
    const sealed = Buffer.from(key.value!);
    const body = bodies[i]!;
    expect(body).toHaveLength(48);
    // The name is public (it travels in every ticket); the HMAC and AES keys are the secrets.
    for (const part of [sealed.subarray(1), body.subarray(16, 32), body.subarray(32, 48)]) {
      forms.push(part.toString('hex'), part.toString('hex').toUpperCase(), part.toString('base64'));
    }
  }
  return forms;
}

const reused = (out: string): boolean => /^Reused, TLSv1\.[23], Cipher/m.test(out);

async function run(args: string[]): Promise<{ code: number | null; out: string; stdout: string }> {
  const result = await cli.runCli([...args, '--store', `sqlite:${db}`, '--key-file', keyFile]);
  return { code: result.code, stdout: result.stdout, out: result.stdout + result.stderr };
}

describe('operating a store filled by serve --mode tickets', () => {
  it('list, stats, inspect, remove and flush: ticket entries counted apart, never shown', async () => {
    const server = await cli.startServe([
      '--mode',
      'tickets',
      '--store',
      `sqlite:${db}`,
      '--key-file',
      keyFile,
    ]);
    const p13 = join(dir, 'tls13.pem');
    const p12 = join(dir, 'tls12.pem');
    expect(reused((await cli.sClient(server.port, ['-tls1_3', '-sess_out', p13])).stdout)).toBe(
      false,
    );
    // A resumption: single use records the ticket's first use in the store.
    expect(reused((await cli.sClient(server.port, ['-tls1_3', '-sess_in', p13])).stdout)).toBe(
      true,
    );
    // The same ticket again is refused (a full handshake): its record is in the store.
    expect(reused((await cli.sClient(server.port, ['-tls1_3', '-sess_in', p13])).stdout)).toBe(
      false,
    );
    // A TLS 1.2 client without ticket support: its session id goes to the store.
    await cli.sClient(server.port, ['-tls1_2', '-no_ticket']);
    // A TLS 1.2 ticket: nothing stored.
    expect(reused((await cli.sClient(server.port, ['-tls1_2', '-sess_out', p12])).stdout)).toBe(
      false,
    );

    const keys = await entries('ticket-keys/');
    const uses = await entries('ticket-uses/');
    // The current and the next period's key (a third if a 6 h boundary passed meanwhile).
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(uses).toHaveLength(1);
    const secrets = keyMaterial(keys);
    const outputs: string[] = [];

    const listed = await run(['list', '--json']);
    outputs.push(listed.out);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as { namespace: string; protocol: string }[];
    expect(rows.map((r) => r.protocol)).toEqual(['TLSv1.2']);
    expect(listed.out).toContain(
      `the store also holds ${keys.length} ticket keys and 1 ticket first-use record (tickets mode), not listed`,
    );
    const table = await run(['list']);
    outputs.push(table.out);
    expect(table.out).toMatch(/^1 session$/m);

    const stats = await run(['stats', '--json']);
    outputs.push(stats.out);
    expect(JSON.parse(stats.stdout).store).toMatchObject({
      live: 1,
      byProtocol: { 'TLSv1.2': 1 },
      // Not "undecodable": they are not sessions.
      undecodable: {},
      ticketKeys: keys.length,
      ticketUses: 1,
    });
    const statsText = await run(['stats']);
    outputs.push(statsText.out);
    expect(statsText.out).toMatch(new RegExp(`^ticket keys\\s+${keys.length}$`, 'm'));
    expect(statsText.out).toMatch(/^ticket first uses\s+1$/m);
    expect(statsText.out).not.toMatch(/expired, not yet swept/);

    const keyId = Buffer.from(keys[0]!.id).toString('hex');
    for (const args of [
      ['inspect', keyId],
      ['inspect', keyId, '--show-secrets', '--json'],
      ['inspect', keyId, '--namespace', keys[0]!.namespace],
      ['remove', keyId],
    ]) {
      const refused = await run(args);
      outputs.push(refused.out);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.out).toBe(
        `tls-session-cache: ${keyId} is a ticket key (tickets mode), not a session: inspect and remove act on sessions only\n`,
      );
    }
    const useId = Buffer.from(uses[0]!.id).toString('hex');
    const use = await run(['remove', useId]);
    expect(use.out).toMatch(/is a ticket first-use record \(tickets mode\), not a session/);
    expect(await entries('ticket-')).toHaveLength(keys.length + 1);

    const dryRun = await run(['flush', '--all', '--dry-run', '--json']);
    outputs.push(dryRun.out);
    expect(JSON.parse(dryRun.stdout)).toEqual({
      dryRun: true,
      matched: 1,
      removed: 0,
      ticketKeys: keys.length,
      ticketUses: 1,
    });
    const flushed = await run(['flush', '--all']);
    outputs.push(flushed.out);
    expect(flushed.stdout).toBe(
      `removed 1 session, ${keys.length} ticket keys and 1 ticket first-use record\n`,
    );
    expect(await entries('')).toEqual([]);

    for (const output of outputs) {
      for (const secret of secrets) expect(output).not.toContain(secret);
    }

    // The server keeps serving on the keys it holds: a TLS 1.2 ticket from before resumes, and a
    // new TLS 1.3 session is issued and resumes.
    expect(reused((await cli.sClient(server.port, ['-tls1_2', '-sess_in', p12])).stdout)).toBe(
      true,
    );
    // The first-use record went with the flush: the TLS 1.3 ticket used before resumes once more.
    expect(reused((await cli.sClient(server.port, ['-tls1_3', '-sess_in', p13])).stdout)).toBe(
      true,
    );
    const fresh = join(dir, 'fresh13.pem');
    await cli.sClient(server.port, ['-tls1_3', '-sess_out', fresh]);
    expect(reused((await cli.sClient(server.port, ['-tls1_3', '-sess_in', fresh])).stdout)).toBe(
      true,
    );
    // A server started on the flushed store finds no key and mints new ones, unless the first
    // server's sync (every 30 s) put its own back first: then it adopts those. The old TLS 1.2
    // ticket resumes there exactly when the key that sealed it is the one in the store.
    const second = await cli.startServe(['--store', `sqlite:${db}`, '--key-file', keyFile]);
    const stored = keyNames(await entries('ticket-keys/'));
    expect(stored.length).toBeGreaterThanOrEqual(2);
    const putBack = keyNames(keys).some((name) => stored.includes(name));
    expect(reused((await cli.sClient(second.port, ['-tls1_2', '-sess_in', p12])).stdout)).toBe(
      putBack,
    );
  }, 60_000);
});
