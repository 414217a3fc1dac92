// `openssl s_client` in the two TLS 1.3 corners that issue 14 names, each a run of two invocations
// joined by a session file (-sess_out, then -sess_in):
// - `-no_middlebox`: the ClientHello's legacy session id is empty, as NSS-based programs send it.
// - a HelloRetryRequest: the client's key share is X25519 (OpenSSL's first group), which a server
//   that allows only P-256 answers with a HelloRetryRequest; `-msg` shows the second ClientHello.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientDriver, ClientId, ClientRun, TwoAnswers } from './client-driver.js';
import { oneAnswerFrom } from './client-driver.js';
import { firstLineOf, runCommand } from './run-command.js';

/** `openssl s_client -no_middlebox`: an empty legacy session id. */
export function opensslNoMiddlebox(): ClientDriver {
  return sClientDriver('openssl-no-middlebox', ['-no_middlebox'], () => undefined);
}

/**
 * `openssl s_client -groups X25519:P-256`, for a server restricted to P-256: every handshake takes a
 * HelloRetryRequest. Throws if one did not (the cell would not test what it says).
 */
export function opensslHelloRetry(): ClientDriver {
  return sClientDriver('openssl-hrr', ['-groups', 'X25519:P-256', '-msg'], (stdout) => {
    const clientHellos = stdout.match(
      /^>>> TLS 1\.3, Handshake \[length [0-9a-f]+\], ClientHello$/gm,
    );
    if (clientHellos?.length !== 2) {
      throw new Error(
        `expected a HelloRetryRequest (2 ClientHellos), saw ${clientHellos?.length ?? 0}`,
      );
    }
  });
}

function sClientDriver(
  id: ClientId,
  extra: string[],
  check: (stdout: string) => void,
): ClientDriver {
  const version = firstLineOf('openssl', ['version']);
  const dir = mkdtempSync(join(tmpdir(), 'tsc-s-client-'));
  let runs = 0;
  return {
    id,
    version,
    switchesExplicitly: false,
    unavailable: async () =>
      version === undefined ? 'openssl not found on PATH (apt-get install -y openssl)' : undefined,
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      const file = join(dir, `session-${++runs}.pem`);
      const exchange = async (sessionArgs: string[]) => {
        const result = await runCommand(
          'openssl',
          [
            's_client',
            '-connect',
            `127.0.0.1:${run.port}`,
            '-servername',
            run.serverName,
            `-tls${run.version.replace('.', '_')}`,
            // Read until the server closes, so a TLS 1.3 ticket is in the file before exit.
            '-ign_eof',
            ...extra,
            ...sessionArgs,
          ],
          { input: `GET / HTTP/1.1\r\nHost: ${run.serverName}\r\nConnection: close\r\n\r\n` },
        );
        check(result.stdout);
        return oneAnswerFrom(`openssl s_client ${extra.join(' ')}`, result.stdout);
      };
      const first = await exchange(['-sess_out', file]);
      const second = await exchange(['-sess_in', file]);
      return { first, second };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
