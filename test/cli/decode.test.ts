// The built CLI (`npm test` builds first) run as a subprocess on real session files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { opensslClientSession, startNodeServer } from '../helpers/session-handshakes.js';
import { opensslSessId, opensslTextOfFile } from '../helpers/session-openssl.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let pki: TestPki;
let dir: string;
let pemFile: string;
let derFile: string;

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function expectOneLineError(stderr: string, prefix: string): void {
  expect(stderr.startsWith(prefix), stderr).toBe(true);
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.split('\n')).toHaveLength(2);
  expect(stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-decode-'));
  pemFile = join(dir, 'session.pem');
  derFile = join(dir, 'session.der');
  const server = await startNodeServer({ pki, version: 'TLSv1.3', clientCert: true });
  try {
    await opensslClientSession({
      port: server.port,
      version: 'TLSv1.3',
      sessOut: pemFile,
      servername: 'localhost',
      alpn: 'h2',
      cert: pki.files.clientCert,
      key: pki.files.clientKey,
      extraArgs: ['-CAfile', pki.files.caCert],
      until: 'server-closes',
    });
  } finally {
    await server.close();
  }
  writeFileSync(derFile, opensslSessId(pemFile, 'PEM', ['-outform', 'DER']));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('tls-session-cache decode', () => {
  it('prints an s_client -sess_out PEM session as pretty JSON, secrets redacted', () => {
    const r = run(['decode', pemFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\n  "protocol": "TLSv1.3",\n');
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    const openssl = opensslTextOfFile(pemFile, 'PEM');
    expect(json.protocol).toBe(openssl.protocol);
    expect((json.cipher as { name: string }).name).toBe(openssl.cipher);
    expect(json.sessionId).toBe(openssl.sessionId);
    expect(json.time).toBe(openssl.startTime);
    expect(json.timeout).toBe(openssl.timeout);
    expect(json.alpnProtocol).toBe('h2');
    expect((json.peerCertificate as { subject: string }).subject).toBe(
      'O=tls-session-cache\nCN=localhost',
    );
    expect(json.masterSecret).toBe('[redacted]');
    expect(json.ticket).toBe('[redacted]');
    expect(r.stdout.includes(openssl.secretHex), 'stdout contains the secret').toBe(false);
    expect(r.stdout.toUpperCase().includes(openssl.secretHex), 'stdout has the secret').toBe(false);
    expect(json).toEqual(JSON.parse(JSON.stringify(decodeSession(readFileSync(pemFile)))));
  });

  it('auto-detects DER, and reads stdin for -', () => {
    const fromPem = run(['decode', pemFile]);
    const fromDer = run(['decode', derFile]);
    expect(fromDer.status).toBe(0);
    expect(fromDer.stdout).toBe(fromPem.stdout);
    const fromStdin = run(['decode', '-'], readFileSync(derFile));
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toBe(fromPem.stdout);
    const compact = run(['decode', '--compact', derFile]);
    expect(compact.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(compact.stdout)).toEqual(JSON.parse(fromPem.stdout));
  });

  it('garbage: exit 1, one line on stderr, nothing on stdout', () => {
    const file = join(dir, 'garbage.bin');
    writeFileSync(file, Buffer.from('this is not a session\n'));
    const r = run(['decode', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, `tls-session-cache: cannot decode ${file}: `);
  });

  it('a truncated session: exit 1 with the reason', () => {
    const file = join(dir, 'truncated.der');
    const der = readFileSync(derFile);
    writeFileSync(file, der.subarray(0, der.length - 10));
    const r = run(['decode', file]);
    expect(r.status).toBe(1);
    expectOneLineError(r.stderr, `tls-session-cache: cannot decode ${file}: input ends inside`);
  });

  it('a corrupted PEM: exit 1', () => {
    const file = join(dir, 'bad.pem');
    writeFileSync(file, readFileSync(pemFile, 'utf8').replace('-----END', '!!\n-----END'));
    const r = run(['decode', file]);
    expect(r.status).toBe(1);
    expectOneLineError(r.stderr, `tls-session-cache: cannot decode ${file}: invalid base64`);
  });

  it('an oversized file: exit 1 with TOO_LARGE, read only up to the limit', () => {
    const file = join(dir, 'huge.bin');
    writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 0x30));
    const r = run(['decode', file]);
    expect(r.status).toBe(1);
    expectOneLineError(r.stderr, `tls-session-cache: cannot decode ${file}: input is `);
  });

  it('a missing file: exit 1, one line', () => {
    const file = join(dir, 'missing.pem');
    const r = run(['decode', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, `tls-session-cache: cannot read ${file}: no such file`);
  });

  it('--help explains the input and shows an example', () => {
    const r = run(['decode', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: tls-session-cache decode [options] <file>');
    expect(r.stdout).toContain('tls-session-cache decode session.pem');
  });
});
