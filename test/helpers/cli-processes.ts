// The built CLI (`dist/cli/main.js`; `npm test` builds first) as users run it, in subprocesses that a
// test file tracks and stops by their own handles: `serve` until it prints its `listening on` line,
// one-shot commands, and `openssl s_client` sending one HTTP request.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnSClient } from './tls-capture.js';
import { WAIT_MS } from './eventually.js';
import { SHARED_STORE_LOOKUP_DEADLINE_MS } from './eventually.js';

/** Path of the built CLI entry point. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const HTTP_REQUEST = 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n';

/** How a process ended. */
/** `serve --lookup-deadline` for tests that assert a resumption through a shared store (see there). */
export const SHARED_STORE_LOOKUP_DEADLINE = [
  '--lookup-deadline',
  String(SHARED_STORE_LOOKUP_DEADLINE_MS),
] as const;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `serve` process that is listening. */
export interface Serving {
  child: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

/** Resolves when `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL if it is still there after 3 s; resolves once it has exited. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** The processes of one test file; call `stopAll()` in `afterEach`. */
export function cliProcesses() {
  const children = new Set<ChildProcess>();
  const track = (child: ChildProcess): ChildProcess => {
    children.add(child);
    return child;
  };
  return {
    /** Tracks a process started elsewhere so that `stopAll` stops it too. */
    track,
    /** Stops every tracked process. */
    async stopAll(): Promise<void> {
      await Promise.all([...children].map((child) => stop(child)));
      children.clear();
    },
    /**
     * `serve --port 0 ...args`, resolved once it printed its `listening on` line.
     * @param env - its environment (default: this process's)
     */
    startServe(args: string[], env?: NodeJS.ProcessEnv): Promise<Serving> {
      const child = track(
        spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(env === undefined ? {} : { env }),
        }),
      );
      const exited = exitOf(child);
      let stdout = '';
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`serve did not start: ${stderr}`)),
          WAIT_MS,
        );
        child.stdout?.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          const match = /^listening on https:\/\/127\.0\.0\.1:(\d+)\n/.exec(stdout);
          if (match === null) return;
          clearTimeout(timer);
          resolve({
            child,
            port: Number(match[1]),
            stdout: () => stdout,
            stderr: () => stderr,
            exited,
          });
        });
        void exited.then((exit) => {
          clearTimeout(timer);
          reject(
            new Error(`serve exited (${exit.code ?? exit.signal}) before listening: ${stderr}`),
          );
        });
      });
    },
    /**
     * Runs the CLI to completion.
     * @param env - its environment (default: this process's)
     */
    async runCli(
      args: string[],
      env?: NodeJS.ProcessEnv,
    ): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = track(
        spawn(process.execPath, [CLI, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(env === undefined ? {} : { env }),
        }),
      );
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      await new Promise((resolve) => child.once('close', resolve));
      return { code: child.exitCode, stdout, stderr };
    },
    /** `openssl s_client` sending one HTTP/1.0 request and reading until the server closes. */
    sClient(port: number, args: string[]): Promise<{ code: number | null; stdout: string }> {
      const child = track(spawnSClient(port, ['-ign_eof', '-servername', 'localhost', ...args]));
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin?.end(HTTP_REQUEST);
      return new Promise((resolve, reject) => {
        // A hang detector, not a speed limit (test/helpers/eventually.ts).
        const timer = setTimeout(() => {
          child.kill('SIGTERM');
          reject(new Error(`s_client gave no answer within ${WAIT_MS} ms: ${stderr}`));
        }, WAIT_MS);
        child.once('close', (code: number | null) => {
          clearTimeout(timer);
          resolve({ code, stdout });
        });
      });
    },
  };
}
