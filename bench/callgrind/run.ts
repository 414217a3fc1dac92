/**
 * Instructions per handshake of a server configuration, counted by valgrind's callgrind.
 *
 *   npm run bench:callgrind [-- --filter REGEX] [-- --warmup N] [-- --count N] [-- --json FILE]
 *       [-- --keep DIR]
 *
 * For each case it starts `bench/handshake/server.ts` under `valgrind --tool=callgrind` with
 * instrumentation off, drives it with the load client for `warmup` handshakes (module loading and
 * V8's optimizing compiler do their work there), switches instrumentation on with
 * `callgrind_control`, drives `count` more handshakes, switches it off, and reports the window's
 * instructions ÷ `count` (callgrind's own `totals:` line).
 *
 * Why a window and not the difference of a short and a long run (the earlier method): V8 compiles
 * and re-compiles hot functions at moments that depend on timing, and a compilation costs tens of
 * millions of instructions, and a major collection comes when it comes; two runs of the same case
 * differed by 40 % on a loaded machine. After 3 000 handshakes of warm-up the optimizing compiler
 * has little left to do, and 2 000 counted handshakes spread the collections out (600 of warm-up
 * still left a tenth of the window in the compiler).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLIENT_SCRIPT, SERVER_SCRIPT, TSX_ARGS, exited } from '../handshake/orchestrator.js';
import { generateCert, removeCert, type CertKind } from '../handshake/certs.js';
import {
  numberOption,
  parseArgs,
  type ConfigName,
  type Mode,
  type TlsVersion,
} from '../handshake/common.js';

const { values, flags } = parseArgs(process.argv.slice(2), {
  values: ['filter', 'warmup', 'count', 'json', 'concurrency', 'keep'],
  flags: ['help'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:callgrind -- [options]
  --filter REGEX   only cases whose id (config/TLSvX/mode/cert) matches
  --warmup N       handshakes before counting starts (default 3000)
  --count N        handshakes counted (default 2000)
  --concurrency N  connections of the load client (default 4)
  --json FILE      write the results as JSON
  --keep DIR       keep each case's callgrind output in DIR, for callgrind_annotate
`);
  process.exit(0);
}
const warmup = numberOption(values, 'warmup', 3000, { integer: true });
const count = numberOption(values, 'count', 2000, { integer: true });
const concurrency = numberOption(values, 'concurrency', 4, { integer: true });
const filter = values.has('filter') ? new RegExp(values.get('filter')!) : undefined;

interface Case {
  config: ConfigName;
  version: TlsVersion;
  mode: Mode;
  cert: CertKind;
}
const CASES: Case[] = [];
for (const cert of ['ecdsa', 'rsa'] as const) {
  for (const mode of ['resumed', 'full'] as const) {
    for (const config of [
      'map',
      'node-tickets',
      'attach-memory',
      'attach-memory-no-reader',
      'attach-tickets',
    ] as const) {
      CASES.push({ config, version: 'TLSv1.2', mode, cert });
    }
    for (const config of ['node-tickets', 'attach-memory', 'attach-tickets'] as const) {
      CASES.push({ config, version: 'TLSv1.3', mode, cert });
    }
  }
}
const id = (c: Case): string => `${c.config}/${c.version}/${c.mode}/${c.cert}`;
const cases = CASES.filter((c) => filter === undefined || filter.test(id(c)));
if (cases.length === 0) throw new Error('--filter matches no case');

/** Drives the server at `port` with the load client for `handshakes` handshakes. */
async function drive(c: Case, certDir: string, port: number, handshakes: number) {
  const client = spawn(
    process.execPath,
    [
      ...TSX_ARGS,
      CLIENT_SCRIPT,
      ...['--port', String(port), '--tls', c.version, '--mode', c.mode, '--cert-dir', certDir],
      ...['--concurrency', String(concurrency), '--warmup', '0.001', '--count', String(handshakes)],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  client.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await exited(client, 'client');
  return JSON.parse(out) as { resumed: number; handshakes: number };
}

/** Switches callgrind's instrumentation of process `pid` on or off (through vgdb). */
async function instrument(pid: number, on: boolean): Promise<void> {
  const control = spawn('callgrind_control', [`--instr=${on ? 'on' : 'off'}`, String(pid)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await exited(control, 'callgrind_control');
}

/** Runs the server under callgrind; returns the instructions of the counted window. */
async function instructions(c: Case, certDir: string): Promise<{ ir: number; resumed: number }> {
  const outDir = mkdtempSync(join(tmpdir(), 'tsc-callgrind-'));
  // --smc-check: V8 writes and rewrites machine code on its heap; valgrind must notice.
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--instr-atstart=no',
      `--callgrind-out-file=${join(outDir, 'callgrind.out.%p')}`,
      process.execPath,
      ...TSX_ARGS,
      SERVER_SCRIPT,
      ...['--config', c.config, '--tls', c.version, '--cert-dir', certDir],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const serverExit = exited(server, 'valgrind server');
  serverExit.catch(() => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) resolve(Number(ready[1]));
    });
    server.once('exit', () =>
      reject(new Error(`server exited before it was ready: ${stderr.slice(-500)}`)),
    );
  });
  await drive(c, certDir, port, warmup);
  await instrument(server.pid!, true);
  const result = await drive(c, certDir, port, count);
  await instrument(server.pid!, false);
  server.kill('SIGTERM');
  await serverExit.catch(() => undefined);
  const file = readdirSync(outDir).find((f) => f.startsWith('callgrind.out'));
  if (file === undefined) throw new Error(`no callgrind output: ${stderr.slice(-500)}`);
  const text = readFileSync(join(outDir, file), 'utf8');
  const keep = values.get('keep');
  if (keep !== undefined) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, `${id(c).replaceAll('/', '_')}.out`), text);
  }
  rmSync(outDir, { recursive: true, force: true });
  // `summary:` is 0 when instrumentation starts off; `totals:` sums what was counted.
  const totals = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
  if (totals === null) throw new Error('no totals line in the callgrind output');
  return { ir: Number(totals[1]), resumed: result.resumed / Math.max(1, result.handshakes) };
}

const certs = { ecdsa: generateCert('ecdsa'), rsa: generateCert('rsa') };
const rows: { id: string; irPerHandshake: number; resumedFraction: number }[] = [];
try {
  for (const c of cases) {
    const measured = await instructions(c, certs[c.cert].dir);
    const per = measured.ir / count;
    rows.push({ id: id(c), irPerHandshake: per, resumedFraction: measured.resumed });
    process.stdout.write(
      `${id(c)}: ${(per / 1e6).toFixed(3)} M instructions/handshake, ${(measured.resumed * 100).toFixed(0)}% resumed\n`,
    );
  }
} finally {
  removeCert(certs.ecdsa);
  removeCert(certs.rsa);
}
const jsonFile = values.get('json');
if (jsonFile !== undefined) {
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ warmup, count, concurrency, node: process.version, rows }, null, 2)}\n`,
  );
}
