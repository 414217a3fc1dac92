// Python's `ssl` module (the system python3, linked to its own OpenSSL), driven by
// test/clients/python/connect_twice.py: the second connection passes the first's `session`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientDriver, ClientRun, TwoAnswers } from './client-driver.js';
import { twoAnswersFrom } from './client-driver.js';
import { firstLineOf, runCommand } from './run-command.js';

const SCRIPT = fileURLToPath(new URL('../../clients/python/connect_twice.py', import.meta.url));

/**
 * Debian's python3 when there is one: a version manager's `python3` on PATH (pyenv's shim) starts
 * in seconds rather than milliseconds on this machine, and runs the same `ssl` module.
 */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Python 3 with its standard-library `ssl`. */
export function pythonSsl(): ClientDriver {
  const version = firstLineOf(PYTHON, [
    '-c',
    'import ssl, sys; print("Python", sys.version.split()[0], ssl.OPENSSL_VERSION)',
  ]);
  return {
    id: 'python',
    version,
    switchesExplicitly: false,
    unavailable: async () =>
      version === undefined
        ? 'python3 with the ssl module not found on PATH (apt-get install -y python3)'
        : undefined,
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      const result = await runCommand(PYTHON, [
        SCRIPT,
        String(run.port),
        run.version,
        run.serverName,
      ]);
      if (result.code !== 0) throw new Error(`python3 exited ${result.code}: ${result.stderr}`);
      return twoAnswersFrom('python3', result.stdout);
    },
    close: async () => undefined,
  };
}
