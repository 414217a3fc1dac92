// `tls-session-cache inspect ID`: one stored session decoded, laid out like `openssl sess_id -text`
// with what the store adds (namespace, SNI, deadline). Secrets are redacted unless --show-secrets.
import { Buffer } from 'node:buffer';
import type { Command } from 'commander';
import { decodeSession } from '../../session/decode.js';
import type { DecodedSession } from '../../session/decoded-session.js';
import { StoredSessionError } from '../../session/stored-record.js';
import {
  EXIT_CODES_HELP,
  addFilterOptions,
  addStoreOptions,
  parseFilter,
  type RawFilterOptions,
  type RawStoreOptions,
} from '../operating-options.js';
import {
  findById,
  findTicketEntry,
  parseIdPrefix,
  type SessionSummary,
} from '../session-selection.js';
import { openStoreAccess, type StoreAccess } from '../store-access.js';
import { formatTime, shortId } from '../table.js';

interface RawInspectOptions extends RawStoreOptions, RawFilterOptions {
  showSecrets?: boolean;
}

/**
 * The one session whose id starts with `idArgument` (within the namespace filters), or an error
 * saying that none or several match. Shared by `inspect` and `remove`.
 */
export async function resolveOne(
  access: StoreAccess,
  idArgument: string,
  raw: RawFilterOptions,
): Promise<SessionSummary> {
  const idHex = parseIdPrefix(idArgument);
  const filter = parseFilter(raw);
  const found = await findById(access, idHex, filter);
  if (found.length === 0) {
    const ticketEntry = await findTicketEntry(access, idHex, filter);
    if (ticketEntry !== undefined) {
      // Tickets mode's entries are not sessions: a key is never shown, and neither is removed by id.
      throw new Error(
        `${idHex} is a ${ticketEntry === 'ticket-key' ? 'ticket key' : 'ticket first-use record'} (tickets mode), not a session: inspect and remove act on sessions only`,
      );
    }
    throw new Error(`no stored session has an id starting with ${idHex}`);
  }
  if (found.length > 1) {
    const where = [...new Set(found.map((s) => s.namespace))].slice(0, 3).join(', ');
    throw new Error(
      `${found.length} stored sessions have an id starting with ${idHex} (in ${where}); give more of the id or --namespace`,
    );
  }
  return found[0]!;
}

/** Registers `inspect`. */
export function registerInspectCommand(program: Command): void {
  const command = program
    .command('inspect')
    .description(
      'show one stored session decoded, like "openssl sess_id -text"; secrets redacted unless --show-secrets',
    )
    .argument('<id>', 'the session id in hex, or its beginning as "list" shows it');
  addStoreOptions(command);
  addFilterOptions(command, { idOnly: true });
  command
    .option(
      '--show-secrets',
      'print the master secret / resumption PSK and the ticket: anyone who sees them can decrypt the connections of this session',
    )
    .addHelpText(
      'after',
      `
The id may be shortened to any unique beginning; when it is not unique, give more of it or
--namespace. --json prints { namespace, tenant, sni, expiresAt, size, session }, where session is
the decoded session with secrets "[redacted]" (hex with --show-secrets).
${EXIT_CODES_HELP}

Examples:
  $ tls-session-cache inspect --store sqlite:/var/lib/my-api/sessions.db 7a97c3d1e2f3a4b5
  $ tls-session-cache inspect --store redis://10.0.0.5:6379 --namespace acme/Xp3q… 7A97C3D1 --json`,
    )
    .action(async (idArgument: string, raw: RawInspectOptions) => {
      parseFilter(raw);
      parseIdPrefix(idArgument);
      const access = await openStoreAccess(raw);
      try {
        const summary = await resolveOne(access, idArgument, raw);
        const id = Buffer.from(summary.id, 'hex');
        const value = await access.store.get(summary.namespace, id);
        if (value === undefined) {
          throw new Error(
            `session ${shortId(summary.id)} left the store meanwhile (expired or removed)`,
          );
        }
        let record;
        try {
          record = access.decode(value, summary.namespace, id);
        } catch (error) {
          const code = error instanceof StoredSessionError ? error.code : 'ERROR';
          const keys = access.encrypted
            ? 'with the keys of --key-file'
            : '(encrypted? give --key-file)';
          throw new Error(
            `session ${shortId(summary.id)}: its value could not be read ${keys} (${code})`,
          );
        }
        const session = decodeSession(record.data);
        const stored: StoredFacts = {
          namespace: summary.namespace,
          tenant: summary.tenant,
          sni: record.hostName,
          expiresAtMs: summary.expiresAtMs,
          size: value.byteLength,
        };
        const showSecrets = raw.showSecrets === true;
        process.stdout.write(
          raw.json === true
            ? `${JSON.stringify(inspectJson(session, stored, showSecrets), null, 2)}\n`
            : sessionText(session, stored, showSecrets),
        );
      } finally {
        await access.close();
      }
    });
}

/** What the store knows of a session beyond its DER. */
interface StoredFacts {
  namespace: string;
  tenant: string;
  sni: string | undefined;
  expiresAtMs: number;
  size: number;
}

function inspectJson(session: DecodedSession, stored: StoredFacts, showSecrets: boolean) {
  const json: Record<string, unknown> = { ...session.toJSON() };
  if (showSecrets) {
    json.masterSecret = session.masterSecret().toString('hex').toUpperCase();
    const ticket = session.ticket();
    if (ticket !== undefined) json.ticket = ticket.toString('hex').toUpperCase();
    const appData = session.ticketAppData();
    if (appData !== undefined) json.ticketAppData = appData.toString('hex').toUpperCase();
  }
  return {
    namespace: stored.namespace,
    tenant: stored.tenant,
    sni: stored.sni ?? null,
    expiresAt: Number.isFinite(stored.expiresAtMs)
      ? new Date(stored.expiresAtMs).toISOString()
      : null,
    size: stored.size,
    session: json,
  };
}

const TLS1_3 = 0x0304;
const REDACTED_NOTE = '[redacted: --show-secrets prints it]';

/** OpenSSL's SSL_SESSION_print layout, then the store's facts. */
function sessionText(session: DecodedSession, stored: StoredFacts, showSecrets: boolean): string {
  const hex = (bytes: Buffer | undefined): string => bytes?.toString('hex').toUpperCase() ?? '';
  // A thunk: without --show-secrets the secret is not even copied out of the session.
  const secret = (bytes: () => Buffer | undefined, length: number | undefined): string =>
    showSecrets ? hex(bytes()) : `${REDACTED_NOTE} (${length ?? 0} bytes)`;
  const none = (value: string | undefined): string => value ?? 'None';
  const tls13 = session.protocolVersion === TLS1_3;
  const lines = [
    'SSL-Session:',
    `    Protocol  : ${session.protocol}`,
    `    Cipher    : ${session.cipherName ?? session.cipherStandardName ?? `0x${session.cipherId.toString(16).padStart(4, '0')}`}`,
    `    Session-ID: ${hex(session.sessionId)}`,
    `    Session-ID-ctx: ${hex(session.sessionIdContext)}`,
    `    ${tls13 ? 'Resumption PSK' : 'Master-Key'}: ${secret(() => session.masterSecret(), session.masterSecretLength)}`,
    `    PSK identity: ${none(session.pskIdentity)}`,
    `    PSK identity hint: ${none(session.pskIdentityHint)}`,
    `    SRP username: ${none(session.srpUsername)}`,
  ];
  if (session.ticketLifetimeHint !== 0) {
    lines.push(`    TLS session ticket lifetime hint: ${session.ticketLifetimeHint} (seconds)`);
  }
  if (session.ticketLength !== undefined) {
    lines.push(`    TLS session ticket: ${secret(() => session.ticket(), session.ticketLength)}`);
  }
  if (session.compressionId !== undefined) lines.push(`    Compression: ${session.compressionId}`);
  lines.push(
    `    Start Time: ${session.time}`,
    `    Timeout   : ${session.timeout} (sec)`,
    `    Verify return code: ${session.verifyResult}${session.verifyResult === 0 ? ' (ok)' : ''}`,
    `    Extended master secret: ${session.extendedMasterSecret ? 'yes' : 'no'}`,
  );
  if (tls13) lines.push(`    Max Early Data: ${session.maxEarlyData}`);
  const peer = session.toJSON().peerCertificate;
  lines.push(
    '',
    'Stored:',
    `    Namespace : ${stored.namespace}`,
    `    Tenant    : ${stored.tenant || 'None'}`,
    `    SNI       : ${none(stored.sni)}`,
    `    ALPN      : ${none(session.alpnProtocol)}`,
    `    Group     : ${none(session.kexGroupName)}`,
    `    Created   : ${formatTime(session.time * 1000)}`,
    `    Expires   : ${formatTime(stored.expiresAtMs)}`,
    `    Peer certificate: ${peer === undefined ? 'None' : (peer.subject?.replace(/\n/g, ', ') ?? peer.error ?? '')}`,
    `    Size      : ${stored.size} bytes`,
  );
  if (session.ticketAppDataLength !== undefined) {
    lines.push(
      `    Ticket app data: ${secret(() => session.ticketAppData(), session.ticketAppDataLength)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
