import { describe, expect, it } from 'vitest';
import { StoreUrlError, parseStoreUrl } from '../../src/cli/store-url.js';

describe('parseStoreUrl', () => {
  it.each(['memory', 'memory:', 'MEMORY'])('%j is the memory store', (value) => {
    expect(parseStoreUrl(value)).toEqual({ kind: 'memory' });
  });

  it.each([
    ['sqlite:/var/lib/sessions.db', /sqlite store is not available yet/],
    ['redis://localhost:6379/0', /redis store is not available yet/],
    ['rediss://localhost:6380', /rediss store is not available yet/],
    ['redis+cluster://a:7000,b:7001', /redis\+cluster store is not available yet/],
    ['postgres://db/x', /unknown store "postgres"/],
    ['nonsense', /unknown store "nonsense"/],
    ['', /empty store/],
    ['   ', /empty store/],
    ['://x', /malformed store/],
    ['1memory', /malformed store/],
    ['memory://here', /memory store takes no location/],
    ['memory:x', /memory store takes no location/],
  ])('%j is refused', (value, message) => {
    expect(() => parseStoreUrl(value)).toThrow(StoreUrlError);
    expect(() => parseStoreUrl(value)).toThrow(message);
  });

  it('never repeats a password, and stays one line', () => {
    for (const value of [
      'redis://user:hunter2@host:6379',
      'rediss://:hunter2@host',
      ' redis://user:hunter2@host',
      'memory://user:hunter2@host',
      'x\n://user:hunter2@host',
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
