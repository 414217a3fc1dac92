import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_LOOKUP_DEADLINE_MS, DEFAULT_SESSION_TIMEOUT } from '../../cache/index.js';
import {
  DEFAULT_ACCEPT_FOR_MS,
  DEFAULT_ROTATE_EVERY_MS,
  DEFAULT_SESSION_ID_CONTEXT,
  statefulServerOptions,
} from '../../node/index.js';
import { checkTenant } from '../../node/namespace.js';
import { RESUMPTION_MODES, type ResumptionMode } from '../../front-door/options.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  TLS_CHOICES,
  startHttpsServer,
  type HttpsServerOptions,
  type RunningHttpsServer,
  type TlsChoice,
} from '../https-server.js';
import { KEYS_ENV_VAR, loadKeyring } from '../../stores/encryption/key-source.js';
import type { Keyring } from '../../stores/encryption/keyring.js';
import { createStore, type CreateStoreOptions } from '../../stores/from-url.js';
import { onEvent, type StoreStateEvent } from '../../cache/events.js';
import type { SessionStore } from '../../stores/store.js';
import { logEvents } from '../../metrics/event-log.js';
import { createMetrics } from '../../metrics/create-metrics.js';
import { loadPromClient } from '../../metrics/prom-client.js';
import { StoreLatencyRecorder } from '../../metrics/store-latency.js';
import { startMetricsServer, type MetricsServer } from '../metrics-server.js';
import { optionValue, show, wholeNumber } from '../option-parsing.js';
import { SUPPORTED_STORES, parseStoreUrl, type StoreUrl } from '../../stores/store-url.js';

/** The port `serve` listens on unless told otherwise. */
export const DEFAULT_SERVE_PORT = 8443;

/**
 * `serve`'s resumption mode unless `--mode` says otherwise: tickets, the one mode in which every
 * client of docs/clients.md resumes across processes in TLS 1.2 and TLS 1.3 (Go and Firefox resume
 * TLS 1.2 only through tickets). The library's `openSessionCache` keeps `'stateful'`.
 */
export const DEFAULT_SERVE_MODE: ResumptionMode = 'tickets';

/** `serve`'s options as commander hands them over: strings, unchecked. */
export interface RawServeOptions {
  host: string;
  port: string;
  store: string;
  tls: string;
  cert?: string;
  key?: string;
  tenant?: string;
  sessionIdContext: string;
  timeout: string;
  lookupDeadline: string;
  keyFile?: string;
  metricsPort?: string;
  metricsHost: string;
  logEvents?: boolean;
  requireStore?: boolean;
  mode: string;
  rotateEvery?: string;
  acceptFor?: string;
}

/** `serve`'s monitoring options, checked: the metrics endpoint and the event log. */
export interface ServeMonitoring {
  /** Port of the `/metrics` endpoint (0: any free one); absent: no endpoint. */
  metricsPort?: number;
  /** Address of the `/metrics` endpoint. */
  metricsHost: string;
  /** Print every event as a JSON line on stderr. */
  logEvents: boolean;
}

/** Checks `--metrics-port`, `--metrics-host` and `--log-events`. */
export function parseServeMonitoring(raw: RawServeOptions): ServeMonitoring {
  if (raw.metricsHost.trim() === '') throw new Error('--metrics-host: must not be empty');
  return {
    ...(raw.metricsPort === undefined
      ? {}
      : { metricsPort: wholeNumber('--metrics-port', raw.metricsPort, 0, 65_535) }),
    metricsHost: raw.metricsHost,
    logEvents: raw.logEvents === true,
  };
}

/**
 * Checks `serve`'s options and reads the certificate and key files. Every error is an `Error` whose
 * message is one line starting with the option's name (`--port: …`), which main prints after the
 * program name.
 *
 * @param env - where {@link KEYS_ENV_VAR} is read from when there is no `--key-file`
 */
export function parseServeOptions(
  raw: RawServeOptions,
  env: NodeJS.ProcessEnv = process.env,
): HttpsServerOptions {
  const options: HttpsServerOptions = {
    host: raw.host,
    port: wholeNumber('--port', raw.port, 0, 65_535),
    store: optionValue('--store', () => parseStoreUrl(raw.store)),
    tls: tlsChoice(raw.tls),
    timeout: wholeNumber('--timeout', raw.timeout, 1, 2 ** 31 - 1),
    lookupDeadlineMs: wholeNumber('--lookup-deadline', raw.lookupDeadline, 1, 60_000),
    sessionIdContext: optionValue('--session-id-context', () => {
      statefulServerOptions({ sessionIdContext: raw.sessionIdContext });
      return raw.sessionIdContext;
    }),
  };
  if (raw.host.trim() === '') throw new Error('--host: must not be empty');
  const mode = RESUMPTION_MODES.find((m) => m === raw.mode);
  if (mode === undefined) {
    throw new Error(`--mode: must be one of ${RESUMPTION_MODES.join(', ')}, got ${show(raw.mode)}`);
  }
  options.mode = mode;
  for (const [flag, value, key] of [
    ['--rotate-every', raw.rotateEvery, 'rotateEveryMs'],
    ['--accept-for', raw.acceptFor, 'acceptForMs'],
  ] as const) {
    if (value === undefined) continue;
    if (mode !== 'tickets') throw new Error(`${flag}: only with --mode tickets`);
    options[key] = wholeNumber(flag, value, key === 'rotateEveryMs' ? 1 : 0, 365 * 86_400) * 1000;
  }
  if (raw.tenant !== undefined) {
    options.tenant = optionValue('--tenant', () => checkTenant(raw.tenant));
  }
  if (raw.cert !== undefined || raw.key !== undefined) {
    if (raw.cert === undefined) throw new Error('--key: needs --cert too');
    if (raw.key === undefined) throw new Error('--cert: needs --key too');
    options.cert = readPem('--cert', raw.cert);
    options.key = readPem('--key', raw.key);
    checkPemPair(options.cert, options.key);
  }
  const encryption = keyringOption(raw.keyFile, env);
  if (encryption !== undefined) options.encryption = encryption;
  const store = options.store as StoreUrl;
  if (mode === 'tickets' && store.kind !== 'memory' && encryption === undefined) {
    // Ticket keys open every ticket of their window: never readable in a shared store.
    throw new Error(
      `--mode: tickets (the default) with a shared store needs --key-file (or ${KEYS_ENV_VAR}) to seal the ticket keys in it; or choose --mode stateful`,
    );
  }
  return options;
}

/**
 * The keys of `--key-file`, else of {@link KEYS_ENV_VAR}; `undefined` when neither is given (then
 * sessions are stored in plain text). Errors are one line naming the option, never key text.
 */
export function keyringOption(
  keyFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Keyring | undefined {
  if (keyFile === undefined) {
    // loadKeyring's messages already start with the variable's name.
    return optionValue('', () => loadKeyring({ env }));
  }
  return optionValue('--key-file', () =>
    // The flag overrides the environment, as flags do.
    loadKeyring({ keyFile, env: {} }),
  );
}

/**
 * Registers `serve`: an HTTPS server with the session cache attached, until SIGTERM or SIGINT.
 * Its only stdout line is `listening on https://HOST:PORT`, so scripts can wait for it.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run an HTTPS server whose TLS 1.2 and TLS 1.3 sessions resume across processes: stateless tickets under keys shared through the store (default), or every session in the store (--mode stateful)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', String(DEFAULT_SERVE_PORT))
    .option('--store <store>', `where sessions live: ${SUPPORTED_STORES.join(', ')}`, 'memory')
    .option('--tls <versions>', `TLS versions offered: ${TLS_CHOICES.join(', ')}`, 'both')
    .option(
      '--mode <mode>',
      `how sessions resume: ${RESUMPTION_MODES.join(', ')} (tickets: stateless tickets under keys shared through --store, sealed with --key-file; stateful: every session in --store, revocable with remove and flush)`,
      DEFAULT_SERVE_MODE,
    )
    .option(
      '--rotate-every <seconds>',
      `tickets mode: how long each ticket key encrypts (default ${DEFAULT_ROTATE_EVERY_MS / 1000})`,
    )
    .option(
      '--accept-for <seconds>',
      `tickets mode: how long a retired key still decrypts and renews (default ${DEFAULT_ACCEPT_FOR_MS / 1000})`,
    )
    .option('--cert <file>', 'certificate, PEM (default: a self-signed ECDSA P-256 one)')
    .option('--key <file>', 'private key of --cert, PEM')
    .option('--tenant <name>', 'tenant: sessions resume only between servers of the same tenant')
    .option(
      '--session-id-context <s>',
      'session id context, 1 to 32 bytes: the same on every server of one service',
      DEFAULT_SESSION_ID_CONTEXT,
    )
    .option('--timeout <seconds>', 'session lifetime in seconds', String(DEFAULT_SESSION_TIMEOUT))
    .option(
      '--lookup-deadline <ms>',
      'how long a handshake waits for the store to find a session; a later answer is a full handshake (raise it for a distant Redis)',
      String(DEFAULT_LOOKUP_DEADLINE_MS),
    )
    .option(
      '--key-file <file>',
      `encrypt stored sessions (AES-256-GCM) with the keys of this file, one ID:KEY per line, newest first (default: the ${KEYS_ENV_VAR} environment variable, else no encryption)`,
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://METRICS-HOST:PORT/metrics (0 picks a free port); needs prom-client',
    )
    .option('--metrics-host <host>', 'address of the metrics endpoint', '127.0.0.1')
    .option(
      '--require-store',
      'exit if the store (Redis) cannot be reached at start, instead of serving without it (full handshakes) while it reconnects',
    )
    .option(
      '--log-events',
      'print every cache event (new, resume, miss, remove, rejected, store-error, breaker, store-state, ticket-keys) as a JSON line on stderr',
    )
    // An invalid option is one line on stderr, not the whole help.
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      `
Every request is answered with "ok", the TLS protocol and whether the session was resumed.
Prints one line, "listening on https://HOST:PORT", when ready (and, with --metrics-port, a second
one, "metrics on http://HOST:PORT/metrics"); SIGTERM or SIGINT stop it. --log-events lines carry
ids as hex prefixes and never a secret.
A networked store (Redis) that cannot be reached at start, or is lost later, does not stop the
server: it serves full handshakes, prints one line on stderr ("store … degraded: …"), reconnects,
and prints one more ("store … ready again …") when sessions resume again. --require-store exits
instead when the store is unreachable at start.
Exit codes: 0 stopped by a signal; 1 error (one line on stderr).

The default mode is tickets: with a shared store (sqlite:, redis://…) it needs --key-file (or
${KEYS_ENV_VAR}), which seals the ticket keys in the store; --mode stateful needs no key (sessions
are then stored in plain text unless a key is given) and can revoke single sessions (remove, flush).

Examples:
  $ tls-session-cache serve --port 0 --tls 1.3
  $ tls-session-cache serve --store sqlite:/var/tmp/sessions.db --key-file /etc/my-api/session-keys --session-id-context my-api
  $ tls-session-cache serve --mode stateful --store sqlite:/var/tmp/sessions.db --key-file /etc/my-api/session-keys
  $ tls-session-cache serve --mode stateful --store sqlite:/var/tmp/sessions.db --metrics-port 9464 --log-events
  $ curl -s http://127.0.0.1:9464/metrics | grep tls_session_cache_hits_total
  $ openssl s_client -connect 127.0.0.1:8443 -sess_out s.pem -ign_eof <<< $'GET / HTTP/1.0\\r\\n\\r\\n'
  $ openssl s_client -connect 127.0.0.1:8443 -sess_in s.pem -ign_eof <<< $'GET / HTTP/1.0\\r\\n\\r\\n' | grep Reused`,
    )
    .action(async (raw: RawServeOptions) => {
      const options = parseServeOptions(raw);
      const monitoring = parseServeMonitoring(raw);
      // Before anything is opened: a missing prom-client is a one-line error, not a half-started server.
      const client =
        monitoring.metricsPort === undefined
          ? undefined
          : optionValue('--metrics-port', () => loadPromClient('the metrics endpoint'));
      const storeLatency = client === undefined ? undefined : new StoreLatencyRecorder();
      // Before the store opens, so that its first state change (ready, or degraded at start) is
      // logged too; an operator sees a lost store in one line, and its return in one more.
      const stopLogging = monitoring.logEvents
        ? logEvents((line) => process.stderr.write(line))
        : undefined;
      const stopStateLog = onEvent('storeState', (event) => {
        const line = storeStateLine(event);
        if (line !== undefined) process.stderr.write(`tls-session-cache: serve: ${line}\n`);
      });
      const store = await openStoreOption(options.store as StoreUrl, {
        requireStore: raw.requireStore === true,
      });
      let running: RunningHttpsServer;
      try {
        // The server owns the store from here on, and closes it if it cannot start.
        running = await startHttpsServer({ ...options, store, storeLatency });
      } catch (error) {
        // listen errors (EADDRINUSE, a host that does not resolve) and unusable certificates.
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`serve: ${message.split('\n')[0] ?? ''}`);
      }
      let metricsServer: MetricsServer | undefined;
      if (client !== undefined) {
        const registry = new client.Registry();
        client.collectDefaultMetrics({ register: registry });
        createMetrics({
          cache: running.cache,
          attachment: running.attachment,
          adapter: running.storeAdapter,
          storeLatency,
          registry,
        });
        try {
          metricsServer = await startMetricsServer(
            registry,
            monitoring.metricsHost,
            monitoring.metricsPort!,
          );
        } catch (error) {
          await running.close(0);
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`--metrics-port: ${message.split('\n')[0] ?? ''}`);
        }
      }
      let stopping = false;
      const stop = (): void => {
        if (stopping) {
          // A second signal means "now": whoever sends it has stopped waiting for the grace period.
          process.stderr.write('tls-session-cache: serve: stopped without waiting\n');
          process.exit(1);
        }
        stopping = true;
        void Promise.all([running.close(DEFAULT_CLOSE_GRACE_MS), metricsServer?.close()]).then(
          () => {
            stopLogging?.();
            stopStateLog();
            process.off('SIGTERM', stop);
            process.off('SIGINT', stop);
            process.exitCode = 0;
            // Everything of ours is closed; should a handle we do not know of linger, exit anyway.
            setTimeout(() => process.exit(0), 2000).unref();
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      // One write, so that a reader waiting for the first line gets the second with it.
      process.stdout.write(
        `listening on ${running.url}\n${metricsServer === undefined ? '' : `metrics on ${metricsServer.url}\n`}`,
      );
    });
}

/**
 * The log line of a store state change, or `undefined` for changes not worth one: `degraded` (with
 * why: the last connection error) and `ready` after `degraded`. Never a credential: `where` and
 * `reason` come from the store, which leaves passwords out.
 */
export function storeStateLine(event: StoreStateEvent): string | undefined {
  const store = `store ${event.store} (${event.where})`;
  if (event.state === 'degraded') {
    return `${store} degraded: ${event.reason ?? 'unreachable'}; serving full handshakes while it reconnects`;
  }
  if (event.state === 'ready' && event.previous === 'degraded') {
    return `${store} ready again after ${(event.previousMs / 1000).toFixed(1)} s degraded`;
  }
  return undefined;
}

/**
 * Opens the `--store` store; its failures (a missing optional dependency, a file that cannot be
 * opened, a newer schema, a Redis that refuses the password or database, or with `requireStore` a
 * Redis that cannot be reached) become one line starting with `--store:`.
 */
export async function openStoreOption(
  url: StoreUrl,
  options: CreateStoreOptions = {},
): Promise<SessionStore> {
  try {
    return await createStore(url, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`--store: ${message.split('\n')[0] ?? ''}`);
  }
}

function tlsChoice(value: string): TlsChoice {
  const found = TLS_CHOICES.find((choice) => choice === value);
  if (found === undefined) {
    throw new Error(`--tls: must be one of ${TLS_CHOICES.join(', ')}, got ${show(value)}`);
  }
  return found;
}

/**
 * Checks that `cert` is a PEM certificate and `key` an unencrypted PEM private key of it, so that a
 * wrong file is named by its option rather than reported in OpenSSL's words when the server
 * starts. Messages never show the files' contents.
 */
export function checkPemPair(cert: Buffer, key: Buffer): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new Error('--cert: not a certificate (expected PEM, -----BEGIN CERTIFICATE-----)');
  }
  // OpenSSL's error for an encrypted key without a passphrase says "interrupted or cancelled".
  const text = key.toString('latin1');
  if (
    text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') ||
    text.includes('Proc-Type: 4,ENCRYPTED')
  ) {
    throw new Error(
      '--key: the private key is encrypted; give it unencrypted (openssl pkey -in KEY -out PLAIN)',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error('--key: not a private key (expected PEM, -----BEGIN PRIVATE KEY-----)');
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error("--key: not the private key of --cert's certificate");
  }
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`${name}: cannot read ${show(file)} (${code})`);
  }
}
