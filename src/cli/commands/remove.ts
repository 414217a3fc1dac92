// `tls-session-cache remove ID…`: revoke single sessions by id.
import { Buffer } from 'node:buffer';
import type { Command } from 'commander';
import { DeleteQueue } from '../delete-queue.js';
import {
  EXIT_CODES_HELP,
  addFilterOptions,
  addStoreOptions,
  parseFilter,
  type RawFilterOptions,
  type RawStoreOptions,
} from '../operating-options.js';
import { parseIdPrefix, type SessionSummary } from '../session-selection.js';
import { openStoreAccess } from '../store-access.js';
import { printRemoval } from './flush.js';
import { resolveOne } from './inspect.js';

interface RawRemoveOptions extends RawStoreOptions, RawFilterOptions {
  dryRun?: boolean;
}

/** Registers `remove`. */
export function registerRemoveCommand(program: Command): void {
  const command = program
    .command('remove')
    .description('remove (revoke) sessions from a store by id: no server resumes them afterwards')
    .argument('<ids...>', 'session ids in hex, or their beginnings as "list" shows them');
  addStoreOptions(command);
  addFilterOptions(command, { idOnly: true });
  command
    .option('--dry-run', 'remove nothing; check that every id names exactly one session')
    .addHelpText(
      'after',
      `
Every id must name exactly one stored session (give more of it, or --namespace, when several
match); if one does not, nothing is removed. Prints how many were removed ({ dryRun, matched,
removed } with --json).
${EXIT_CODES_HELP}

Examples:
  $ tls-session-cache remove --store sqlite:/var/lib/my-api/sessions.db 7a97c3d1e2f3a4b5
  $ tls-session-cache list --store redis://10.0.0.5:6379 --sni old.example.com --json \\
      | jq -r '.[].id' | xargs tls-session-cache remove --store redis://10.0.0.5:6379`,
    )
    .action(async (ids: string[], raw: RawRemoveOptions) => {
      parseFilter(raw);
      for (const id of ids) parseIdPrefix(id);
      const dryRun = raw.dryRun === true;
      const access = await openStoreAccess(raw);
      let removed = 0;
      let matched = 0;
      try {
        const found = new Map<string, SessionSummary>();
        for (const id of ids) {
          const summary = await resolveOne(access, id, raw);
          found.set(`${summary.namespace}\u0000${summary.id}`, summary);
        }
        matched = found.size;
        if (!dryRun) {
          const deletes = new DeleteQueue(access.store);
          for (const summary of found.values()) {
            await deletes.push(summary.namespace, Buffer.from(summary.id, 'hex'));
          }
          await deletes.drain();
          removed = deletes.removed;
        }
      } finally {
        await access.close();
      }
      printRemoval({ dryRun, matched, removed }, raw.json === true, access.encrypted);
    });
}
