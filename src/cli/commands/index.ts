import type { Command } from 'commander';
import { registerDecodeCommand } from './decode.js';
import { registerDemoCommand } from './demo.js';
import { registerFlushCommand } from './flush.js';
import { registerInspectCommand } from './inspect.js';
import { registerListCommand } from './list.js';
import { registerRemoveCommand } from './remove.js';
import { registerServeCommand } from './serve.js';
import { registerStatsCommand } from './stats.js';

/** Registers every CLI command on `program`; one module per command. */
export function registerCommands(program: Command): void {
  registerDecodeCommand(program);
  registerServeCommand(program);
  registerDemoCommand(program);
  // Operating a store the servers share.
  registerStatsCommand(program);
  registerListCommand(program);
  registerInspectCommand(program);
  registerFlushCommand(program);
  registerRemoveCommand(program);
}
