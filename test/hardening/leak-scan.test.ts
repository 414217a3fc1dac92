// The scanner behind the suite-wide "secrets never leak" check (test/leak-capture/): it must find a
// secret in every form a leak takes, or the check at the end of the run proves nothing.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findLeaks, type Secret } from '../leak-capture/scan.js';

const master: Secret = { kind: 'master secret', bytes: randomBytes(48) };
const key: Secret = { kind: 'key', bytes: randomBytes(32) };
const secrets = [master, key];
const hex = Buffer.from(master.bytes).toString('hex');

describe('findLeaks', () => {
  it.each([
    ['lower-case hex', `Master-Key: ${hex}`],
    ['upper-case hex', `MK=${hex.toUpperCase()}.`],
    ['hex at an odd offset of a longer run', `a${hex}b`],
    ['colon-separated hex', hex.match(/../g)!.join(':')],
    ['space-separated hex', hex.match(/../g)!.join(' ')],
    ['only the first half, in hex', hex.slice(0, 48)],
    ['only the last half, in hex', hex.slice(48)],
    ['base64', Buffer.from(master.bytes).toString('base64')],
    ['base64url', Buffer.from(master.bytes).toString('base64url')],
    ...[1, 2, 3, 7].map((n) => [
      `base64 inside a larger blob, ${n} bytes in`,
      Buffer.concat([randomBytes(n), master.bytes, randomBytes(20)]).toString('base64'),
    ]),
  ])('finds a master secret as %s', (_name, text) => {
    const leaks = findLeaks(`some log line: ${text as string} and more\n`, secrets);
    expect(leaks.map((l) => l.kind)).toEqual(['master secret']);
  });

  it('finds a key inside a JSON error', () => {
    const text = JSON.stringify({ error: 'bad', key: Buffer.from(key.bytes).toString('hex') });
    expect(findLeaks(text, secrets)).toEqual([expect.objectContaining({ kind: 'key' })]);
  });

  it('reports the leak without the secret', () => {
    const [leak] = findLeaks(hex, secrets);
    expect(leak!.prefix).toBe(hex.slice(0, 8));
    expect(JSON.stringify(leak)).not.toContain(hex.slice(0, 24));
  });

  it('finds nothing in ordinary output, random bytes, or other secrets', () => {
    const other = randomBytes(48);
    const text = [
      'vitest: 700 passed, 0 failed',
      other.toString('hex'),
      other.toString('base64'),
      Buffer.from(master.bytes.subarray(0, 8)).toString('hex'), // too short to mean anything
      randomBytes(4096).toString('base64'),
    ].join('\n');
    expect(findLeaks(text, secrets)).toEqual([]);
  });
});
