// Vitest global setup: the "secrets never leak" check over the whole suite (issue 5 item 7).
//
// Before the run: a capture folder, announced to every process of the suite through the
// environment; Node subprocesses load preload.mjs through NODE_OPTIONS (workers load it through
// setupFiles). This process records what vitest prints (which includes what tests and the library
// log through console in the workers). After the run: every secret recorded (master secrets of all
// sessions handed out by Node, encryption keys) is looked for in everything captured, in hex and
// base64 at any alignment; one found fails the run, naming where (never the secret itself).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSession } from '../../src/session/decode.js';
import { printSummary } from '../reporters/plain-summary.js';
import { findLeaks, type Secret } from './scan.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PRELOAD = fileURLToPath(new URL('./preload.mjs', import.meta.url));

export default function setup(): () => void {
  const dir = join(ROOT, '.tmp', 'leak-capture', String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.TLS_SESSION_CACHE_LEAK_DIR = dir;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${PRELOAD}`.trim();
  const summary = { passed: 0, failed: 0, skipped: 0 };
  (globalThis as { tlsSessionCacheSummary?: typeof summary }).tlsSessionCacheSummary = summary;
  const own = join(dir, `output-vitest-${process.pid}.txt`);
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      try {
        writeFileSync(own, typeof chunk === 'string' ? chunk : Buffer.from(chunk), { flag: 'a' });
      } catch {
        // Recording must never break the run.
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = write as typeof stream.write));
  }

  return () => {
    for (const undo of restore) undo();
    const secrets = readSecrets(dir);
    let leaks = 0;
    let scanned = 0;
    for (const file of readdirSync(dir).filter((f) => f.startsWith('output-'))) {
      const text = readFileSync(join(dir, file), 'latin1');
      scanned += text.length;
      for (const leak of findLeaks(text, secrets)) {
        leaks++;
        process.stderr.write(
          `secret leak: a ${leak.kind} (${leak.prefix}…) appears as ${leak.encoding} in ${file} at ${leak.offset}\n`,
        );
      }
    }
    const line = `leak scan: ${secrets.length} secrets (${count(secrets, 'master secret')} master secrets, ${count(secrets, 'key')} keys) looked for in ${scanned} bytes of output: ${leaks} found`;
    process.stdout.write(`${line}\n`);
    // test/hardening/leak-recorder.test.ts checks that the recorder records, in workers and in
    // subprocesses alike.
    const failure =
      leaks > 0 ? `${leaks} secret(s) leaked into output; see the lines above` : undefined;
    if (failure === undefined) summary.passed++;
    else summary.failed++;
    printSummary(summary);
    if (failure !== undefined) throw new Error(failure);
    if (process.env.KEEP_LEAK_CAPTURE === undefined) rmSync(dir, { recursive: true, force: true });
  };
}

function count(secrets: readonly Secret[], kind: string): number {
  return secrets.filter((s) => s.kind === kind).length;
}

/** Every distinct secret the processes recorded: master secrets of sessions, and keys. */
function readSecrets(dir: string): Secret[] {
  const unique = new Map<string, Secret>();
  for (const file of readdirSync(dir).filter((f) => f.startsWith('secrets-'))) {
    for (const line of readFileSync(join(dir, file), 'latin1').split('\n')) {
      const [kind, hex] = line.split(' ');
      if (hex === undefined || hex === '') continue;
      const bytes = Buffer.from(hex, 'hex');
      if (kind === 'key') {
        unique.set(`key ${hex}`, { kind: 'key', bytes });
        continue;
      }
      try {
        const master = decodeSession(bytes).masterSecret();
        unique.set(`ms ${master.toString('hex')}`, { kind: 'master secret', bytes: master });
      } catch {
        // Not a session our decoder reads (e.g. a truncated test fixture): nothing to look for.
      }
    }
  }
  return [...unique.values()];
}
