/**
 * Instructions per handshake of a server configuration, counted by valgrind's callgrind: unlike
 * CPU time, an instruction count does not move with the load of a shared machine, so two
 * configurations can be compared on a busy CI host, one at a time.
 *
 *   npm run bench:callgrind [-- --filter REGEX] [-- --small N] [-- --large N] [-- --json FILE]
 *
 * For each case it starts `bench/handshake/server.ts` under `valgrind --tool=callgrind` twice,
 * drives it with the load client for `small` and then `large` handshakes (after the first full
 * one), and reports (I_large − I_small) / (large − small): start-up, module loading and the
 * first JIT tiers cancel out. The instruction totals come from callgrind's own `totals:` line.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  values: ['filter', 'small', 'large', 'json', 'concurrency'],
  flags: ['help'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:callgrind -- [options]
  --filter REGEX   only cases whose id (config/TLSvX/mode/cert) matches
  --small N        handshakes of the short run (default 200)
  --large N        handshakes of the long run (default 600)
  --concurrency N  connections of the load client (default 4)
  --json FILE      write the results as JSON
`);
  process.exit(0);
}
const small = numberOption(values, 'small', 200, { integer: true });
const large = numberOption(values, 'large', 600, { integer: true });
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

/** Runs the server under callgrind for `count` handshakes; returns its instruction total. */
async function instructions(
  c: Case,
  certDir: string,
  count: number,
): Promise<{ ir: number; resumed: number }> {
  const outDir = mkdtempSync(join(tmpdir(), 'tsc-callgrind-'));
  // --smc-check: V8 writes and rewrites machine code on its heap; valgrind must notice.
  const server = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
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
  let report = '';
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) resolve(Number(ready[1]));
      if (line.startsWith('report ')) report = line.slice(7);
    });
    server.once('exit', () =>
      reject(new Error(`server exited before it was ready: ${stderr.slice(-500)}`)),
    );
  });
  const client = spawn(
    process.execPath,
    [
      ...TSX_ARGS,
      CLIENT_SCRIPT,
      ...['--port', String(port), '--tls', c.version, '--mode', c.mode, '--cert-dir', certDir],
      ...['--concurrency', String(concurrency), '--warmup', '0.001', '--count', String(count)],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  client.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await exited(client, 'client');
  const result = JSON.parse(out) as { resumed: number; handshakes: number };
  server.kill('SIGTERM');
  await serverExit.catch(() => undefined);
  const file = readdirSync(outDir).find((f) => f.startsWith('callgrind.out'));
  if (file === undefined) throw new Error(`no callgrind output: ${stderr.slice(-500)}`);
  const text = readFileSync(join(outDir, file), 'utf8');
  rmSync(outDir, { recursive: true, force: true });
  const totals = /^(?:totals|summary): (\d+)/m.exec(text);
  if (totals === null) throw new Error('no totals line in the callgrind output');
  void report;
  return { ir: Number(totals[1]), resumed: result.resumed / Math.max(1, result.handshakes) };
}

const certs = { ecdsa: generateCert('ecdsa'), rsa: generateCert('rsa') };
const rows: { id: string; irPerHandshake: number; resumedFraction: number }[] = [];
try {
  for (const c of cases) {
    const a = await instructions(c, certs[c.cert].dir, small);
    const b = await instructions(c, certs[c.cert].dir, large);
    const per = (b.ir - a.ir) / (large - small);
    rows.push({ id: id(c), irPerHandshake: per, resumedFraction: b.resumed });
    process.stdout.write(
      `${id(c)}: ${(per / 1e6).toFixed(3)} M instructions/handshake, ${(b.resumed * 100).toFixed(0)}% resumed\n`,
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
    `${JSON.stringify({ small, large, concurrency, node: process.version, rows }, null, 2)}\n`,
  );
}
