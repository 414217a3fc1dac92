// Test certificates made by the real `openssl` command line, once per test file, in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA, a server certificate for `localhost`/`example.com`, and a client certificate, PEM. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Paths of the same files, for `openssl s_client`/`s_server`. */
  files: {
    caCert: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
  };
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates an ECDSA P-256 test PKI with the `openssl` CLI. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=Test CA',
    ],
    dir,
  );
  for (const name of ['server', 'client'] as const) {
    const cn = name === 'server' ? 'localhost' : 'Test Client';
    openssl(
      [
        'req',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/O=tls-session-cache/CN=${cn}`,
      ],
      dir,
    );
    const ext = join(dir, `${name}.ext`);
    const extText =
      name === 'server'
        ? 'subjectAltName=DNS:localhost,DNS:example.com,DNS:other.example,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n';
    execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', extText, ext]);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        ext,
      ],
      dir,
    );
  }
  const files = {
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
  const read = (path: string): string => readFileSync(path, 'utf8');
  return {
    dir,
    caCert: read(files.caCert),
    serverCert: read(files.serverCert),
    serverKey: read(files.serverKey),
    clientCert: read(files.clientCert),
    clientKey: read(files.clientKey),
    files,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
