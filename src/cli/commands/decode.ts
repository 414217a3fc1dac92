// `tls-session-cache decode FILE`: print a serialized SSL_SESSION as JSON, secrets redacted.
// Useful for looking at what a store holds, or at what `openssl s_client -sess_out` wrote.
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { decodeSession } from '../../session/decode.js';
import { MAX_SESSION_PEM_LENGTH, SessionDecodeError } from '../../session/errors.js';

// One byte beyond the largest acceptable input, so an oversized one is reported by the decoder
// (TOO_LARGE) without reading an arbitrarily large file or stream into memory.
const READ_LIMIT = MAX_SESSION_PEM_LENGTH + 1;

async function readLimitedFile(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(READ_LIMIT);
    let length = 0;
    while (length < READ_LIMIT) {
      const { bytesRead } = await handle.read(buffer, length, READ_LIMIT - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

async function readLimitedStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin) {
    const bytes = chunk as Buffer;
    chunks.push(bytes);
    length += bytes.length;
    if (length >= READ_LIMIT) break;
  }
  return Buffer.concat(chunks).subarray(0, READ_LIMIT);
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Registers `decode FILE` on `program`. Output is pretty JSON on stdout; any failure is a single
 * `tls-session-cache: cannot decode FILE: <reason>` line (printed by the program's error handler)
 * and exit status 1.
 */
export function registerDecodeCommand(program: Command): void {
  program
    .command('decode')
    .description(
      'decode a serialized OpenSSL SSL_SESSION (DER or PEM, auto-detected) and print it as JSON; ' +
        'the master secret, ticket and ticket app data are redacted',
    )
    .argument('<file>', 'session file, or - for stdin')
    .option('--compact', 'print the JSON on one line')
    .addHelpText(
      'after',
      `
Input is DER, exactly as Node's 'newSession' event and tlsSocket.getSession() produce it, or the
PEM that "openssl s_client -sess_out" and "openssl sess_id" write.

Examples:
  $ openssl s_client -connect example.com:443 -sess_out session.pem </dev/null
  $ tls-session-cache decode session.pem
  $ openssl sess_id -in session.pem -outform DER | tls-session-cache decode -`,
    )
    .action(async (file: string, options: { compact?: boolean }) => {
      let input: Buffer;
      try {
        input = file === '-' ? await readLimitedStdin() : await readLimitedFile(file);
      } catch (error) {
        throw new Error(`cannot read ${file}: ${describeReadError(error)}`);
      }
      let json: string;
      try {
        json = JSON.stringify(decodeSession(input), null, options.compact ? undefined : 2);
      } catch (error) {
        const reason = error instanceof SessionDecodeError ? error.message : String(error);
        throw new Error(`cannot decode ${file}: ${reason}`);
      }
      process.stdout.write(`${json}\n`);
    });
}
