// GnuTLS's `gnutls-cli --resume`: a full handshake, then a second connection that offers the session
// (a TLS 1.2 session id, or a TLS 1.3 ticket once `--waitresumption` has received it) and sends the
// request on stdin. The first connection sends no request, so only the second has a server answer.
import type { ClientDriver, ClientRun, TwoAnswers } from './client-driver.js';
import { oneAnswerFrom } from './client-driver.js';
import { firstLineOf, runCommand } from './run-command.js';

/** `gnutls-cli` (Debian: gnutls-bin). */
export function gnutlsCli(): ClientDriver {
  const version = firstLineOf('gnutls-cli', ['--version']);
  return {
    id: 'gnutls',
    version,
    switchesExplicitly: false,
    unavailable: async () =>
      version === undefined
        ? 'gnutls-cli not found on PATH (apt-get install -y gnutls-bin)'
        : undefined,
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      const priority = `NORMAL:-VERS-ALL:+VERS-TLS${run.version}`;
      const args = [
        '--resume',
        '--insecure',
        `--priority=${priority}`,
        `--sni-hostname=${run.serverName}`,
        '--port',
        String(run.port),
        // TLS 1.3 tickets arrive after the handshake: wait for one before reconnecting.
        ...(run.version === '1.3' ? ['--waitresumption'] : []),
        '127.0.0.1',
      ];
      const request = `GET / HTTP/1.1\r\nHost: ${run.serverName}\r\nConnection: close\r\n\r\n`;
      const result = await runCommand('gnutls-cli', args, { input: request });
      return { first: undefined, second: oneAnswerFrom('gnutls-cli', result.stdout) };
    },
    close: async () => undefined,
  };
}
