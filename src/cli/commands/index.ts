import type { Command } from 'commander';

/** Registers every CLI command on `program`; one module per command. */
export function registerCommands(program: Command): void {
  void program;
}
