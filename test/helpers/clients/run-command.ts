// Runs one client command to completion, as the matrix drivers need it: stdin written and closed,
// stdout and stderr collected, killed by its own handle if it outlives its time.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';

/**
 * How long one client command may take. Every client here finishes two loopback handshakes in well
 * under a second; the margin is for a loaded 2-core machine (and Go's first compile, see go-tls.ts).
 */
export const CLIENT_COMMAND_TIMEOUT_MS = 20_000;

/** How a command ended and what it printed. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args`, writes `input` to its stdin, and resolves once it has exited. Rejects when it
 * cannot be started or runs longer than `timeoutMs` (it is then killed).
 */
export function runCommand(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const spawnOptions: SpawnOptions = {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  };
  const child = spawn(command, args, spawnOptions);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? CLIENT_COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The first line `command args` prints (e.g. its version), or `undefined` when it cannot run. */
export function firstLineOf(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: CLIENT_COMMAND_TIMEOUT_MS });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.trim();
}
