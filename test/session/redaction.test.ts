// The master secret (and, on the client side, the ticket and ticket app data) must never leak
// through the ways sessions get logged or serialized: JSON, util.inspect / console.log, String(),
// spreading, structuredClone, or the messages of errors about corrupted copies.
import { format, inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { REDACTED } from '../../src/session/decoded-session.js';
import { SessionDecodeError } from '../../src/session/errors.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { buildSession } from '../helpers/session-der.js';
import { nodeHandshake } from '../helpers/session-handshakes.js';

let pki: TestPki;
const samples: { name: string; der: Buffer }[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  const tls12 = await nodeHandshake({ pki, version: 'TLSv1.2', clientCert: true });
  const tls13 = await nodeHandshake({ pki, version: 'TLSv1.3', alpn: ['h2'] });
  samples.push({ name: 'TLS 1.2 server session', der: tls12.server[0]! });
  samples.push({ name: 'TLS 1.3 client session (with ticket)', der: tls13.client! });
  samples.push({
    name: 'synthetic session with ticket app data',
    der: buildSession({
      masterKey: Buffer.from('f00dfeedcafebeef'.repeat(6), 'hex'),
      tick: Buffer.from('0123456789abcdef0123456789abcdef', 'hex'),
      ticketAppdata: Buffer.from('5ec2e7a99da7a5ec2e7a99da7a', 'hex'),
      time: 1_700_000_000,
      timeout: 300,
    }),
  });
});
afterAll(() => pki.cleanup());

/** Every textual form a secret could take in output. */
function forms(secret: Buffer): string[] {
  return [
    secret.toString('hex'),
    secret.toString('hex').toUpperCase(),
    secret.toString('base64'),
    secret.toString('base64url'),
    // Node prints Buffers as "<Buffer 0a 1b ...>": the first bytes space-separated.
    [...secret.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    // And byte arrays in JSON as comma-separated numbers.
    [...secret.subarray(0, 8)].join(','),
  ];
}

function expectNoLeak(text: string, secrets: Buffer[], where: string): void {
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      // Assert with a boolean so a failure does not print the secret either.
      expect(text.includes(form), `${where} contains a secret`).toBe(false);
    }
  }
}

describe.each([0, 1, 2])('sample %i', (index) => {
  it('secrets do not appear in any serialized or printed form', () => {
    const { name, der } = samples[index]!;
    const session = decodeSession(der);
    const secrets = [session.masterSecret()];
    const ticket = session.ticket();
    const appData = session.ticketAppData();
    if (ticket) secrets.push(ticket);
    if (appData) secrets.push(appData);
    expect(secrets[0]!.length, name).toBeGreaterThan(0);
    if (index === 1) expect(ticket).toBeDefined();
    if (index === 2) expect(appData).toBeDefined();

    const outputs: [string, string][] = [
      ['JSON.stringify', JSON.stringify(session)],
      ['JSON.stringify nested', JSON.stringify({ session, list: [session] }, null, 2)],
      ['util.inspect', inspect(session)],
      ['util.inspect showHidden', inspect(session, { showHidden: true, depth: Infinity })],
      [
        'util.inspect customInspect:false',
        inspect(session, { customInspect: false, showHidden: true, depth: Infinity }),
      ],
      ['util.format %o', format('%o', session)],
      ['util.format %s %j', format('%s %j', session, session)],
      ['String()', String(session)],
      ['template literal', `${session}`],
      ['spread', inspect({ ...session }, { depth: Infinity })],
      ['spread JSON', JSON.stringify({ ...session })],
      ['Object.entries', inspect(Object.entries(session), { depth: Infinity })],
      ['structuredClone', inspect(structuredClone(session), { depth: Infinity })],
    ];
    for (const [where, text] of outputs) expectNoLeak(text, secrets, where);

    const json = session.toJSON();
    expect(json.masterSecret).toBe(REDACTED);
    expect(json.masterSecretLength).toBe(secrets[0]!.length);
    if (ticket) expect(json.ticket).toBe(REDACTED);
    if (appData) expect(json.ticketAppData).toBe(REDACTED);
    expect(inspect(session)).toContain(REDACTED);
  });

  it('errors about corrupted copies never quote the input', () => {
    const { der } = samples[index]!;
    const secrets = [decodeSession(der).masterSecret()];
    let errors = 0;
    for (let at = 0; at < der.length; at++) {
      for (const value of [0x00, 0x80, 0xff]) {
        const copy = Buffer.from(der);
        copy[at] = value;
        try {
          decodeSession(copy);
        } catch (error) {
          expect(error).toBeInstanceOf(SessionDecodeError);
          const e = error as SessionDecodeError;
          expectNoLeak(`${e.message}\n${e.stack ?? ''}\n${inspect(e)}`, secrets, 'error');
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});
