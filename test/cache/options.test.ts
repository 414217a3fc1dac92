import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_SESSION_TIMEOUT,
  SessionCache,
} from '../../src/cache/index.js';

describe('SessionCache options', () => {
  it('has OpenSSL/Node defaults', () => {
    const cache = new SessionCache();
    expect(cache.cacheSize).toBe(DEFAULT_CACHE_SIZE);
    expect(cache.cacheSize).toBe(20480);
    expect(cache.timeout).toBe(DEFAULT_SESSION_TIMEOUT);
    expect(cache.mode).toBe('server');
    expect([
      cache.noInternalLookup,
      cache.noInternalStore,
      cache.noAutoClear,
      cache.updateTime,
    ]).toEqual([false, false, false, false]);
    expect(cache.onNew).toBeUndefined();
    expect(cache.onRemove).toBeUndefined();
    expect(cache.onGet).toBeUndefined();
  });

  it.each([
    [{ cacheSize: -1 }, RangeError, /cacheSize/],
    [{ cacheSize: 1.5 }, RangeError, /cacheSize/],
    [{ cacheSize: '10' }, TypeError, /cacheSize/],
    [{ timeout: -5 }, RangeError, /timeout/],
    [{ timeout: Number.NaN }, TypeError, /timeout/],
    [{ mode: 'sometimes' }, TypeError, /mode/],
    [{ noInternalLookup: 'yes' }, TypeError, /noInternalLookup/],
    [{ noInternalStore: 1 }, TypeError, /noInternalStore/],
    [{ noAutoClear: null }, TypeError, /noAutoClear/],
    [{ updateTime: 'no' }, TypeError, /updateTime/],
    [{ lookupDeadlineMs: 0 }, RangeError, /lookupDeadlineMs/],
    [{ onNew: 42 }, TypeError, /onNew/],
    [{ onRemove: {} }, TypeError, /onRemove/],
    [{ onGet: 'get' }, TypeError, /onGet/],
    [{ clock: 5 }, TypeError, /clock/],
  ])('rejects %o naming the option', (options, type, message) => {
    expect(() => new SessionCache(options as never)).toThrow(type);
    expect(() => new SessionCache(options as never)).toThrow(message);
  });

  it('validates setters too, and the callbacks set are the ones read back', () => {
    const cache = new SessionCache();
    expect(() => {
      cache.cacheSize = -3;
    }).toThrow(RangeError);
    expect(() => {
      cache.mode = 'nope' as never;
    }).toThrow(/mode/);
    const onNew = () => true;
    const onRemove = () => undefined;
    const onGet = () => undefined;
    cache.onNew = onNew;
    cache.onRemove = onRemove;
    cache.onGet = onGet;
    expect(cache.onNew).toBe(onNew);
    expect(cache.onRemove).toBe(onRemove);
    expect(cache.onGet).toBe(onGet);
    cache.onNew = undefined;
    expect(cache.onNew).toBeUndefined();
  });

  it('rejects malformed sessions with a TypeError/RangeError', () => {
    const cache = new SessionCache();
    expect(() => cache.add({ id: 'abc', data: Buffer.alloc(1) } as never)).toThrow(TypeError);
    expect(() => cache.add({ id: Buffer.alloc(0), data: Buffer.alloc(1) })).toThrow(RangeError);
    expect(() => cache.add({ id: Buffer.alloc(4), data: Buffer.alloc(1), timeout: -1 })).toThrow(
      /timeout/,
    );
  });
});
