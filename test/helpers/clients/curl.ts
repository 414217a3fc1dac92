// curl with two URLs in one invocation: curl keeps a session cache per process (keyed by host and
// port), and `Connection: close` makes the server end the first connection, so the second URL
// needs a new connection that offers the cached session.
import type { ClientDriver, ClientRun, TwoAnswers } from './client-driver.js';
import { twoAnswersFrom } from './client-driver.js';
import { firstLineOf, runCommand } from './run-command.js';

/** `curl` (Debian: curl, built with OpenSSL). */
export function curl(): ClientDriver {
  const version = firstLineOf('curl', ['--version']);
  return {
    id: 'curl',
    version,
    switchesExplicitly: false,
    unavailable: async () =>
      version === undefined ? 'curl not found on PATH (apt-get install -y curl)' : undefined,
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      const url = `https://${run.serverName}:${run.port}/`;
      const result = await runCommand('curl', [
        '--silent',
        '--show-error',
        '--insecure',
        '--http1.1',
        `--tlsv${run.version}`,
        '--tls-max',
        run.version,
        // The name resolves to the front whatever /etc/hosts says.
        '--resolve',
        `${run.serverName}:${run.port}:127.0.0.1`,
        '--header',
        'Connection: close',
        url,
        url,
      ]);
      if (result.code !== 0) throw new Error(`curl exited ${result.code}: ${result.stderr}`);
      return twoAnswersFrom('curl', result.stdout);
    },
    close: async () => undefined,
  };
}
