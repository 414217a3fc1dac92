/**
 * Rotation under load (issue 14 item 5): real handshakes against two server processes in tickets
 * mode that share their keys through one SQLite file, with the keys rotating every few seconds of
 * real time. Virtual clients (half TLS 1.2, half TLS 1.3) reconnect again and again, each time to
 * the other process, offering their newest ticket. Counts failed handshakes, the resumed fraction
 * of resumption attempts in each key period, and the servers' own counters (renewed tickets:
 * accepted under a retired key and reissued under the current one).
 *
 * Used by `npm run rotation` (scripts/rotation-under-load.ts) and, CI-sized, by
 * test/hardening/rotation-under-load.test.ts.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSigned } from '../../src/cli/self-signed.js';
import type { TicketKeysStats } from '../../src/node/index.js';
import type { TicketServerStart } from './ticket-server-process.js';
import { connect } from '../../test/helpers/tls-server.js';

/** Options of {@link runRotation}. */
export interface RotationOptions {
  /** Handshakes in all. */
  handshakes: number;
  /** Virtual clients connecting at once. @default 16 */
  concurrency?: number;
  /** Key rotation period, ms. @default 3000 */
  rotateEveryMs?: number;
  /** How long a retired key still decrypts, ms. @default 2 × rotateEveryMs */
  acceptForMs?: number;
  /**
   * Keep going past `handshakes` until resumption attempts have started in key periods this many
   * apart: a fast machine finishes the handshakes before the keys rotate, which would test
   * nothing. @default 0
   */
  minRotations?: number;
}

/** What {@link runRotation} measured. */
export interface RotationResult {
  handshakes: number;
  failed: number;
  /** Connections that offered a ticket (or a session id). */
  attempts: number;
  resumed: number;
  /** Resumption attempts and resumed ones per key period that saw any (period number → counts). */
  periods: { period: number; attempts: number; resumed: number }[];
  /** Key periods the run's resumption attempts crossed (last attempt's period − first's). */
  rotations: number;
  durationMs: number;
  /** The two servers' ticket counters. */
  servers: TicketKeysStats[];
  /** First few failure messages. */
  errors: string[];
}

const SERVER = fileURLToPath(new URL('./ticket-server-process.ts', import.meta.url));

/** Runs the load; see the module comment. */
export async function runRotation(options: RotationOptions): Promise<RotationResult> {
  const rotateEveryMs = options.rotateEveryMs ?? 3000;
  const acceptForMs = options.acceptForMs ?? 2 * rotateEveryMs;
  const concurrency = options.concurrency ?? 16;
  const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  const pair = await generateSelfSigned();
  const children: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const child = fork(SERVER, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
      children.push(child);
      const start: TicketServerStart = {
        type: 'start',
        path: join(dir, 'keys.db'),
        rotateEveryMs,
        acceptForMs,
        // Each process re-reads the store well within a period; the next key is minted ahead.
        refreshMs: Math.max(100, Math.floor(rotateEveryMs / 4)),
        sealKeyHex: '5a'.repeat(32),
        key: pair.key.toString(),
        cert: pair.cert,
      };
      ports.push(
        await new Promise<number>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
          child.on('message', (m: { type: string; port?: number }) => {
            if (m.type === 'ready') resolve(m.port!);
          });
          child.send(start);
        }),
      );
    }

    const result: RotationResult = {
      handshakes: 0,
      failed: 0,
      attempts: 0,
      resumed: 0,
      periods: [],
      rotations: 0,
      durationMs: 0,
      servers: [],
      errors: [],
    };
    const byPeriod = new Map<number, { attempts: number; resumed: number }>();
    const began = Date.now();
    let started = 0;
    const minRotations = options.minRotations ?? 0;
    let firstPeriod = Infinity;
    let lastPeriod = -Infinity;
    const span = (): number => Math.max(0, lastPeriod - firstPeriod);
    const client = async (index: number): Promise<void> => {
      const version = index % 2 === 0 ? 'TLSv1.2' : 'TLSv1.3';
      let session: Buffer | undefined;
      let turn = index;
      // Counted the way the result counts rotations (the periods resumption attempts started in),
      // not by the wall clock: a run stopped when the clock crossed its second boundary could
      // have made its last attempt in the period before (seen in CI: 1 rotation of 2).
      while (started < options.handshakes || span() < minRotations) {
        started++;
        const port = ports[turn++ % 2]!;
        const period = Math.floor(Date.now() / rotateEveryMs);
        const outcome = await handshake(port, version, session);
        result.handshakes++;
        if (outcome.error !== undefined) {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(outcome.error);
          session = undefined;
          continue;
        }
        if (session !== undefined) {
          result.attempts++;
          const counts = byPeriod.get(period) ?? { attempts: 0, resumed: 0 };
          counts.attempts++;
          firstPeriod = Math.min(firstPeriod, period);
          lastPeriod = Math.max(lastPeriod, period);
          if (outcome.reused) counts.resumed++;
          byPeriod.set(period, counts);
          if (outcome.reused) result.resumed++;
        }
        session = outcome.session ?? session;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));
    result.durationMs = Date.now() - began;
    result.periods = [...byPeriod]
      .sort(([a], [b]) => a - b)
      .map(([period, counts]) => ({ period, ...counts }));
    result.rotations = span();
    for (const child of children) {
      result.servers.push(
        await new Promise<TicketKeysStats>((resolve) => {
          const onMessage = (m: { type: string; tickets?: TicketKeysStats }): void => {
            if (m.type !== 'stats') return;
            child.off('message', onMessage);
            resolve(m.tickets!);
          };
          child.on('message', onMessage);
          child.send({ type: 'stats' });
        }),
      );
    }
    return result;
  } finally {
    for (const child of children) {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One handshake; the newest session the client was given (TLS 1.3: the last ticket). */
async function handshake(
  port: number,
  version: 'TLSv1.2' | 'TLSv1.3',
  session: Buffer | undefined,
): Promise<{ reused: boolean; session?: Buffer; error?: string }> {
  const result = await connect(port, {
    minVersion: version,
    maxVersion: version,
    ...(session === undefined ? {} : { session }),
  });
  // The newest session offered next: a TLS 1.3 single-use ticket is renewed, never reused.
  const newest = result.sessions.at(-1) ?? result.final;
  const error =
    result.error?.message ??
    (result.data === 'hello' ? undefined : `answer ${JSON.stringify(result.data)}`);
  return {
    reused: result.reused,
    ...(newest === undefined ? {} : { session: newest }),
    ...(error === undefined ? {} : { error }),
  };
}
