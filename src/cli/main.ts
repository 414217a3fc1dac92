#!/usr/bin/env node
// The command line is a thin layer over the public API: each command lives in its own module under
// ./commands and registers itself on the program, so this file only wires them together.
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { packageVersion } from './version.js';

const program = new Command()
  .name('tls-session-cache')
  .description("OpenSSL's server-side TLS session cache for Node.js, kept in a real store.")
  .version(packageVersion())
  .showHelpAfterError()
  .configureOutput({
    // Errors are one line on stderr; commander already prefixes them with "error:".
    writeErr: (text) => process.stderr.write(text),
  });

registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tls-session-cache: ${message.split('\n')[0] ?? ''}\n`);
  process.exitCode = 1;
});
