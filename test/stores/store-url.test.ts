import { describe, expect, it } from 'vitest';
import { StoreUrlError, parseStoreUrl } from '../../src/stores/store-url.js';

describe('parseStoreUrl', () => {
  it.each(['memory', 'memory:', 'MEMORY'])('%j is the memory store', (value) => {
    expect(parseStoreUrl(value)).toEqual({ kind: 'memory' });
  });

  it.each([
    ['sqlite:/var/lib/sessions.db', '/var/lib/sessions.db'],
    ['sqlite:sessions.db', 'sessions.db'],
    ['sqlite:./data/s.db', './data/s.db'],
    ['SQLite:/x.db', '/x.db'],
    ['sqlite:///var/lib/sessions.db', '/var/lib/sessions.db'],
    ['sqlite::memory:', ':memory:'],
    ['sqlite:/path with spaces/s.db', '/path with spaces/s.db'],
  ])('%j is the sqlite store on %j', (value, path) => {
    expect(parseStoreUrl(value)).toEqual({ kind: 'sqlite', path });
  });

  it.each([
    ['redis://localhost:6379/0', 'redis'],
    ['redis://user:pass@localhost:6379', 'redis'],
    ['rediss://localhost:6380', 'redis'],
    ['redis+cluster://a:7000,b:7001', 'redis-cluster'],
    ['rediss+cluster://:pw@a:7000', 'redis-cluster'],
  ] as const)('%j is kept whole for the Redis store (%s)', (value, kind) => {
    expect(parseStoreUrl(value)).toEqual({ kind, url: value });
  });

  it.each([
    ['postgres://db/x', /unknown store "postgres"/],
    ['nonsense', /unknown store "nonsense"/],
    ['', /empty store/],
    ['   ', /empty store/],
    ['://x', /malformed store/],
    ['1memory', /malformed store/],
    ['memory://here', /memory store takes no location/],
    ['memory:x', /memory store takes no location/],
    ['sqlite', /sqlite store needs a file/],
    ['sqlite:', /sqlite store needs a file/],
    ['sqlite://host/x.db', /sqlite:PATH or sqlite:\/\/\/ABSOLUTE\/PATH/],
    ['sqlite:a\u0000b', /NUL/],
    ['redis:localhost', /redis store needs redis:\/\/HOST:PORT/],
    ['redis://', /redis store needs/],
    ['redis://user:pw@', /redis store needs/],
    ['redis+cluster://', /redis\+cluster store needs/],
  ])('%j is refused', (value, message) => {
    expect(() => parseStoreUrl(value)).toThrow(StoreUrlError);
    expect(() => parseStoreUrl(value)).toThrow(message);
  });

  it('names every supported form when it refuses one', () => {
    expect(() => parseStoreUrl('nonsense')).toThrow(
      /supported: memory, sqlite:PATH, redis:\/\/HOST:PORT, rediss:\/\/HOST:PORT, redis\+cluster:\/\//,
    );
  });

  it('never repeats a password, and stays one line', () => {
    for (const value of [
      'redis://user:hunter2@',
      'rediss://:hunter2@',
      'redis:hunter2@host',
      ' redis://user:hunter2@host',
      'memory://user:hunter2@host',
      'x\n://user:hunter2@host',
      'postgres://user:hunter2@host',
    ]) {
      let message = '';
      try {
        parseStoreUrl(value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, value).not.toBe('');
      expect(message, value).not.toContain('hunter2');
      expect(message, value).not.toContain('\n');
    }
  });
});
