// Where keys come from — options, a key file, TLS_SESSION_CACHE_KEYS — and how strictly they are
// checked: every bad input is a TypeError/RangeError naming the option and the line or entry, and
// no message ever holds key text. Real files on disk (modes included) and a real pipe.
import { execFileSync, spawn } from 'node:child_process';
import { createSecretKey, generateKeySync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KEYS_ENV_VAR,
  Keyring,
  MAX_KEY_FILE_BYTES,
  loadKeyring,
} from '../../../src/stores/encryption/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const K3 = randomBytes(32);

let counter = 0;
function keyFile(text: string, mode = 0o600): string {
  const path = join(dir, `keys-${++counter}`);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

/** The error `fn` throws; fails the test if it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** Asserts `error` holds no form of `key` (nor a long piece of one). */
function expectNoKeyText(error: Error, ...keys: string[]): void {
  const shown = `${error.message}\n${inspect(error)}`;
  for (const key of keys) {
    for (let i = 0; i + 12 <= key.length; i += 6) expect(shown).not.toContain(key.slice(i, i + 12));
  }
}

let warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

describe('Keyring', () => {
  it('takes raw bytes, hex, base64, base64url and secret KeyObjects; the first key writes', () => {
    const keyring = new Keyring([
      { id: 'a', key: K1 },
      { id: 'b.2026-02_x', key: K2.toString('hex') },
      { id: 'C', key: K3.toString('base64') },
      { id: 'd', key: K1.toString('base64url') },
      { id: 'e', key: K2.toString('base64').replace(/=$/, '') },
      { id: 'f', key: createSecretKey(K3) },
      { id: 'g', key: ` ${K1.toString('hex').toUpperCase()}\n` },
      { id: 'x'.repeat(32), key: new Uint8Array(K2) },
    ]);
    expect(keyring.writeKeyId).toBe('a');
    expect(keyring.ids).toEqual(['a', 'b.2026-02_x', 'C', 'd', 'e', 'f', 'g', 'x'.repeat(32)]);
    expect(keyring.has('C')).toBe(true);
    expect(keyring.has('c')).toBe(false);
    expect(Object.isFrozen(keyring)).toBe(true);
  });

  it('refuses an empty ring, bad ids, duplicate ids and keys that are not 32 bytes', () => {
    expect(thrown(() => new Keyring([]))).toBeInstanceOf(RangeError);
    expect(thrown(() => new Keyring([])).message).toBe('keys must hold at least one key');
    expect(thrown(() => new Keyring('k1' as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => new Keyring([null as never])).message).toMatch(/^keys\[0\] must be/);
    for (const id of ['', 'a:b', 'x'.repeat(33), 'é', 'a b']) {
      const error = thrown(() => new Keyring([{ id, key: K1 }]));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/^keys\[0\]: key id must be 1 to 32 characters/);
    }
    expect(thrown(() => new Keyring([{ id: 7 as never, key: K1 }]))).toBeInstanceOf(TypeError);
    const duplicate = thrown(
      () =>
        new Keyring([
          { id: 'k1', key: K1 },
          { id: 'k2', key: K2 },
          { id: 'k1', key: K3 },
        ]),
    );
    expect(duplicate).toBeInstanceOf(RangeError);
    expect(duplicate.message).toBe('keys[2]: duplicate key id "k1"');

    const cases: [unknown, RegExp][] = [
      [K1.subarray(0, 16), /must be 32 bytes \(AES-256\), got 16/],
      [Buffer.concat([K1, K2]), /got 64/],
      [
        K1.toString('hex').slice(2),
        /64 hex digits or 43-44 base64 characters, got a string of length 62/,
      ],
      [randomBytes(16).toString('base64'), /a string of length 24/],
      [`${K1.toString('hex')}00`, /length 66/],
      // Always one character replaced (a random key need not contain any given letter).
      [`*${K1.toString('base64').slice(1)}`, /base64/],
      [generateKeySync('aes', { length: 128 }), /secret KeyObject of 32 bytes.*of 16 bytes/],
      [42, /must be a Uint8Array, a string or a KeyObject/],
    ];
    for (const [key, message] of cases) {
      const error = thrown(() => new Keyring([{ id: 'k1', key: key as never }]));
      expect(error.message).toMatch(/^keys\[0\] \(key id "k1"\): key must be/);
      expect(error.message).toMatch(message);
      if (typeof key === 'string') expectNoKeyText(error, key);
      expectNoKeyText(error, K1.toString('hex'), K1.toString('base64'), K2.toString('hex'));
    }
  });

  it('keeps no copy of the caller’s key and shows only ids', () => {
    const bytes = Buffer.from(K1);
    const keyring = new Keyring([{ id: 'k1', key: bytes }]);
    const shown = [
      inspect(keyring, { showHidden: true, depth: Infinity }),
      JSON.stringify(keyring),
      String(keyring),
      JSON.stringify(Object.getOwnPropertyDescriptors(keyring)),
    ].join('\n');
    expect(shown).toContain('k1');
    expect(shown).not.toContain(K1.toString('hex'));
    expect(shown).not.toContain(K1.toString('base64'));
    expect(Object.keys(keyring)).toEqual([]);
  });
});

describe('loadKeyring', () => {
  it('reads a key file: comments, blank lines, CRLF, hex and base64, newest first', () => {
    const path = keyFile(
      [
        '# session keys: newest first',
        '',
        `  2026-02:${K2.toString('base64')}  `,
        `2026-01:${K1.toString('hex')}\r`,
        '   # retired after 2026-02-03',
        `old:${K3.toString('base64url')}`,
        '',
      ].join('\n'),
    );
    const keyring = loadKeyring({ keyFile: path, env: {} })!;
    expect(keyring.ids).toEqual(['2026-02', '2026-01', 'old']);
    expect(keyring.writeKeyId).toBe('2026-02');
    expect(warnings).toEqual([]);
  });

  it('reads TLS_SESSION_CACHE_KEYS (commas and/or white space) when no option is given', () => {
    const env = {
      [KEYS_ENV_VAR]: ` k2:${K2.toString('hex')},k1:${K1.toString('base64')}\n k0:${K3.toString('base64')}`,
    };
    expect(loadKeyring({ env })!.ids).toEqual(['k2', 'k1', 'k0']);
    expect(loadKeyring({ env: {} })).toBeUndefined();
    expect(loadKeyring({ env: { OTHER: 'x' } })).toBeUndefined();
  });

  it('defaults env to process.env', () => {
    const saved = process.env[KEYS_ENV_VAR];
    try {
      process.env[KEYS_ENV_VAR] = `pk:${K1.toString('base64')}`;
      expect(loadKeyring({})!.ids).toEqual(['pk']);
      delete process.env[KEYS_ENV_VAR];
      expect(loadKeyring({})).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env[KEYS_ENV_VAR];
      else process.env[KEYS_ENV_VAR] = saved;
    }
  });

  it('uses keys and keyFile together (keys first) and then ignores the environment', () => {
    const path = keyFile(`f1:${K3.toString('hex')}\n`);
    const env = { [KEYS_ENV_VAR]: `e1:${K1.toString('hex')}` };
    expect(
      loadKeyring({
        keys: [`o1:${K1.toString('base64')}`, { id: 'o2', key: K2 }],
        keyFile: path,
        env,
      })!.ids,
    ).toEqual(['o1', 'o2', 'f1']);
    expect(loadKeyring({ keyFile: path, env })!.ids).toEqual(['f1']);
    expect(loadKeyring({ keys: [{ id: 'o2', key: K2 }], env })!.ids).toEqual(['o2']);
    // A duplicate across sources is still a duplicate.
    expect(
      thrown(() => loadKeyring({ keys: [`f1:${K1.toString('hex')}`], keyFile: path })).message,
    ).toMatch(/duplicate key id "f1"/);
  });

  it('refuses a source that is given but holds no key, rather than storing in plain text', () => {
    expect(thrown(() => loadKeyring({ keys: [] })).message).toBe('keys must hold at least one key');
    expect(thrown(() => loadKeyring({ keyFile: keyFile('# nothing yet\n\n') })).message).toMatch(
      /^keyFile .* holds no key$/,
    );
    expect(thrown(() => loadKeyring({ keyFile: keyFile('') }))).toBeInstanceOf(RangeError);
    for (const value of ['', ' ', ',,\n']) {
      const error = thrown(() => loadKeyring({ env: { [KEYS_ENV_VAR]: value } }));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(`${KEYS_ENV_VAR} is set but holds no key`);
    }
  });

  it('names the line or entry of a bad key, never its text', () => {
    const hex = K1.toString('hex');
    const b64 = K2.toString('base64');
    const lines = [
      [`k1:${hex.slice(0, 62)}`, /keyFile .* line 2 \(key id "k1"\): key must be 32 bytes/],
      [hex, /keyFile .* line 2: expected ID:KEY/],
      [`k1:`, /line 2: expected ID:KEY/],
      [`:${b64}`, /line 2: expected ID:KEY/],
      [`bad id:${b64}`, /line 2: key id must be/],
      [`k1:${randomBytes(31).toString('base64')}`, /line 2 \(key id "k1"\): key must be 32 bytes/],
    ] as const;
    for (const [line, message] of lines) {
      const path = keyFile(`# a comment\n${line}\nk9:${K3.toString('hex')}\n`);
      const error = thrown(() => loadKeyring({ keyFile: path }));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(message);
      expectNoKeyText(error, hex, b64, K3.toString('hex'), line);
    }
    const env = thrown(() =>
      loadKeyring({ env: { [KEYS_ENV_VAR]: `k1:${b64},k2:${hex.slice(1)}` } }),
    );
    expect(env.message).toMatch(
      new RegExp(`^${KEYS_ENV_VAR} entry 2 \\(key id "k2"\\): key must be`),
    );
    expectNoKeyText(env, hex, b64);
    const option = thrown(() => loadKeyring({ keys: [{ id: 'k1', key: K1 }, `k2=${b64}`] }));
    expect(option.message).toMatch(/^keys\[1\]: expected ID:KEY/);
    expectNoKeyText(option, b64);
  });

  it('says which file cannot be read, and bounds what it reads', () => {
    const missing = thrown(() => loadKeyring({ keyFile: join(dir, 'missing') }));
    expect(missing.message).toMatch(/^keyFile .*missing: cannot read it \(ENOENT\)$/);
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    expect(thrown(() => loadKeyring({ keyFile: sub })).message).toMatch(/is a directory|EISDIR/);
    const big = keyFile(`k1:${K1.toString('hex')}\n${'#'.repeat(MAX_KEY_FILE_BYTES)}\n`);
    expect(thrown(() => loadKeyring({ keyFile: big })).message).toMatch(/larger than 65536 bytes/);
    expect(thrown(() => loadKeyring({ keyFile: '' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => loadKeyring(null as never))).toBeInstanceOf(TypeError);
    expect(thrown(() => loadKeyring({ keys: 'k1:x' as never }))).toBeInstanceOf(TypeError);
  });

  it('warns (and still loads) when group or others may read or write the key file', async () => {
    const text = `k1:${K1.toString('hex')}\n`;
    for (const mode of [0o600, 0o400]) {
      loadKeyring({ keyFile: keyFile(text, mode) });
    }
    expect(warnings).toEqual([]);
    for (const mode of [0o640, 0o644, 0o620, 0o606]) {
      expect(loadKeyring({ keyFile: keyFile(text, mode) })!.ids).toEqual(['k1']);
    }
    // process.emitWarning delivers on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual(
      Array(4).fill('TLS_SESSION_CACHE_KEY_FILE_MODE'),
    );
    expect(warnings[1]!.message).toMatch(/mode 0644.*chmod 600/);
    for (const warning of warnings) expectNoKeyText(warning, K1.toString('hex'));
  });

  it('reads keys from a pipe (--key-file <(secret-tool …))', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const writer = spawn('sh', ['-c', `printf 'p1:%s\\n' "$KEY" > "$FIFO"`], {
      env: { ...process.env, KEY: K1.toString('base64'), FIFO: fifo },
      stdio: 'ignore',
    });
    try {
      expect(loadKeyring({ keyFile: fifo })!.ids).toEqual(['p1']);
    } finally {
      await new Promise((resolve) => writer.once('exit', resolve));
    }
  });
});
