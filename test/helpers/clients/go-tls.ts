// Go's `crypto/tls` (Debian's golang-go), through test/clients/go: a program built once per test
// run into a temp dir, with the Go build cache and GOPATH in temp dirs too and no network (it uses
// only the standard library, so nothing is downloaded).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientDriver, ClientRun, TwoAnswers } from './client-driver.js';
import { twoAnswersFrom } from './client-driver.js';
import { firstLineOf, runCommand } from './run-command.js';

const SOURCE = fileURLToPath(new URL('../../clients/go/', import.meta.url));

/**
 * How long building the program may take: Go 1.19 ships a compiled standard library (about 3 s on 2
 * busy cores; CGO_ENABLED=0 would not match it and cost 25 s); later Go versions compile crypto/tls
 * into the empty cache first, tens of seconds.
 */
export const GO_BUILD_TIMEOUT_MS = 120_000;

/** `go` from PATH. */
export function goCryptoTls(): ClientDriver {
  const version = firstLineOf('go', ['version']);
  let dir: string | undefined;
  let built: Promise<string | undefined> | undefined;
  const build = async (): Promise<string | undefined> => {
    if (version === undefined) return 'go not found on PATH (apt-get install -y golang-go)';
    dir = mkdtempSync(join(tmpdir(), 'tsc-go-client-'));
    const env = {
      ...process.env,
      GOCACHE: join(dir, 'cache'),
      GOPATH: join(dir, 'gopath'),
      GOFLAGS: '',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      GOTELEMETRY: 'off',
    };
    const result = await runCommand('go', ['build', '-o', join(dir, 'connect-twice'), '.'], {
      cwd: SOURCE,
      env,
      timeoutMs: GO_BUILD_TIMEOUT_MS,
    });
    return result.code === 0 ? undefined : `go build failed: ${result.stderr.trim()}`;
  };
  return {
    id: 'go',
    version,
    switchesExplicitly: false,
    unavailable: () => (built ??= build()),
    async connectTwice(run: ClientRun): Promise<TwoAnswers> {
      const reason = await (built ??= build());
      if (reason !== undefined) throw new Error(reason);
      const result = await runCommand(join(dir!, 'connect-twice'), [
        String(run.port),
        run.version,
        run.serverName,
      ]);
      if (result.code !== 0)
        throw new Error(`connect-twice exited ${result.code}: ${result.stderr}`);
      return twoAnswersFrom('go connect-twice', result.stdout);
    },
    async close() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
