// The compact SessionRecord: every field a plain record had is still readable, own and enumerable;
// the byte fields are the session's own bytes, a new Buffer per read; and the internal cache
// answers a hit with its entry, the same frozen object every time, equal to { session, source }.
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/session-cache.js';
import {
  hasSessionIdContext,
  sessionRecordFromDer,
  type SessionRecord,
} from '../../src/session/session-record.js';
import { decodeSession } from '../../src/session/decode.js';
import { buildSession } from '../helpers/session-der.js';

const T0 = 1_700_000_000;
const ID = Buffer.alloc(32, 0xab);
const CTX = Buffer.from('svc-ctx');
const der = buildSession({
  sessionId: ID,
  sidCtx: CTX,
  time: T0,
  timeout: 300,
  hostname: 'Example.COM',
  flags: 1, // extended master secret
});

function pem(bytes: Buffer): string {
  const body = bytes
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN SSL SESSION PARAMETERS-----\n${body}\n-----END SSL SESSION PARAMETERS-----\n`;
}

describe('a SessionRecord from sessionRecordFromDer', () => {
  it('reads as the decoded session, with every field own and enumerable', () => {
    const record = sessionRecordFromDer(der, 'ns');
    expect(record.id).toEqual(ID);
    expect(record.data).toEqual(der);
    expect(record.sessionIdContext).toEqual(CTX);
    expect(record).toMatchObject({
      namespace: 'ns',
      time: T0,
      timeout: 300,
      protocolVersion: 0x0303,
      hostName: 'example.com',
      extendedMasterSecret: true,
    });
    const copy = { ...record };
    expect(Object.keys(copy).sort()).toEqual(
      [
        'data',
        'extendedMasterSecret',
        'hostName',
        'id',
        'namespace',
        'protocolVersion',
        'sessionIdContext',
        'time',
        'timeout',
      ].sort(),
    );
    expect(copy.data).toEqual(der);
    // A spread copy is a plain record the cache accepts.
    expect(new SessionCache().add(copy)).toBe(true);
  });

  it('hands out a new Buffer per read, so a caller cannot change the cached bytes', () => {
    const record = sessionRecordFromDer(der, 'ns');
    const first = record.data;
    expect(record.data).not.toBe(first);
    first.fill(0);
    record.id.fill(0);
    expect(record.data).toEqual(der);
    expect(record.id).toEqual(ID);
    // The input is copied, not kept.
    const input = Buffer.from(der);
    const fromInput = sessionRecordFromDer(input, 'ns');
    input.fill(0);
    expect(fromInput.data).toEqual(der);
  });

  it('keeps the DER of a PEM input', () => {
    const record = sessionRecordFromDer(Buffer.from(pem(der)), 'ns');
    expect(record.data).toEqual(der);
    expect(record.id).toEqual(ID);
    expect(record.sessionIdContext).toEqual(CTX);
  });

  it('compares its session id context like Buffer.equals, for any context', () => {
    const none = sessionRecordFromDer(buildSession({ sessionId: ID }), 'ns');
    expect(none.sessionIdContext).toEqual(Buffer.alloc(0));
    const records: SessionRecord[] = [sessionRecordFromDer(der, 'ns'), none];
    const plain = { ...records[0]! };
    for (const context of [CTX, Buffer.alloc(0), Buffer.from('svc-ctx2'), Buffer.from('svc-ctY')]) {
      for (const record of [...records, plain]) {
        expect(hasSessionIdContext(record, context, context.toString('latin1'))).toBe(
          context.equals(record.sessionIdContext),
        );
      }
    }
  });

  it('has the id and context of sessions of every id length', () => {
    for (let length = 1; length <= 32; length++) {
      const id = Buffer.alloc(length, length);
      const record = sessionRecordFromDer(buildSession({ sessionId: id, sidCtx: CTX }), 'ns');
      expect(record.id).toEqual(decodeSession(record.data).sessionId);
      expect(record.id).toEqual(id);
      expect(record.sessionIdContext).toEqual(CTX);
    }
  });
});

describe('an internal cache hit', () => {
  it('is the same frozen answer every time, equal to { session, source: "internal" }', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    const record = sessionRecordFromDer(der, 'ns');
    cache.add(record);
    const hit = cache.lookup(ID, { namespace: 'ns' });
    expect(hit).toEqual({ session: record, source: 'internal' });
    expect(cache.lookup(ID, { namespace: 'ns' })).toBe(hit);
    expect(Object.isFrozen(hit)).toBe(true);
    expect(Object.keys(hit)).toEqual(['session', 'source']);
    expect(() => {
      (hit as { session: unknown }).session = undefined;
    }).toThrow(TypeError);
    expect(cache.lookup(ID, { namespace: 'ns' })).toMatchObject({ session: record });
  });
});
