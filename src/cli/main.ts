#!/usr/bin/env node
// The command line is a thin layer over the public API: each command lives in its own module under
// ./commands and registers itself on the program, so this file only wires them together and turns
// every error into one line on stderr and an exit code (./exit-codes.ts).
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { packageVersion } from './version.js';

const NAME = 'tls-session-cache';

const program = new Command()
  .name(NAME)
  .description("OpenSSL's server-side TLS session cache for Node.js, kept in a real store.")
  .version(packageVersion())
  // Commander's own errors (unknown option, missing argument, …) are thrown to the catch below
  // rather than printed with the whole help: one line and a hint instead.
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .showHelpAfterError(false);

registerCommands(program);

/** The subcommand being parsed, for the hint of a usage error. */
let current: Command | undefined;
program.hook('preSubcommand', (_program, subcommand) => {
  current = subcommand;
});

/**
 * A commander error as one line: its text without commander's `error: ` prefix, and a missing
 * required option named with the environment variable that can give it instead.
 */
function usageLine(error: CommanderError): string {
  const text = error.message.replace(/^error: /, '');
  if (error.code === 'commander.missingMandatoryOptionValue' && current !== undefined) {
    const option = current.options.find((o) => text.includes(`'${o.flags}'`));
    if (option?.long !== undefined) {
      const env = option.envVar === undefined ? '' : ` (or set ${option.envVar})`;
      return `${option.long}: required${env}`;
    }
  }
  return text;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version print and end here; help shown for a missing command is a usage error.
    if (error.exitCode === 0) {
      process.exitCode = EXIT_OK;
      return;
    }
    if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') {
      process.exitCode = EXIT_USAGE;
      return;
    }
    const command = current === undefined ? NAME : `${NAME} ${current.name()}`;
    process.stderr.write(`${NAME}: ${usageLine(error)}\nrun '${command} --help' for usage\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${NAME}: ${message.split('\n')[0] ?? ''}\n`);
  process.exitCode = EXIT_FAILURE;
});
