import type { Command } from 'commander';
import { registerDecodeCommand } from './decode.js';
import { registerDemoCommand } from './demo.js';
import { registerServeCommand } from './serve.js';

/** Registers every CLI command on `program`; one module per command. */
export function registerCommands(program: Command): void {
  registerDecodeCommand(program);
  registerServeCommand(program);
  registerDemoCommand(program);
}
