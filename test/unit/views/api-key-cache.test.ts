import { describe, expect, it } from 'vitest';
import { ApiKeyCache } from '../../../src/views/api-key-cache.js';
import type { ApiKeyView } from '../../../src/views/view-model.js';

const view = (keyId: string, revokedAtMs: number | null = null): ApiKeyView => ({ keyId, tenantId: 't', secretHash: 'h', createdAtMs: 1, revokedAtMs });

/** A loader over a mutable map that counts its reads. */
function source(initial: Record<string, ApiKeyView>) {
  const records = new Map(Object.entries(initial));
  const reads: string[] = [];
  return { records, reads, load: async (id: string) => (reads.push(id), records.get(id) ?? null) };
}

describe('ApiKeyCache', () => {
  it('reads a found key once and serves it from memory until it is invalidated', async () => {
    const s = source({ k1: view('k1') });
    const cache = new ApiKeyCache();
    expect(await cache.get('k1', s.load)).toEqual(view('k1'));
    expect(await cache.get('k1', s.load)).toEqual(view('k1'));
    expect(s.reads).toEqual(['k1']);
    s.records.set('k1', view('k1', 5));
    cache.invalidate(['k1']);
    expect((await cache.get('k1', s.load))?.revokedAtMs).toBe(5);
    expect(s.reads).toEqual(['k1', 'k1']);
  });

  it('does not keep a missing key, so a key created a moment later is found', async () => {
    const s = source({});
    const cache = new ApiKeyCache();
    expect(await cache.get('k1', s.load)).toBeNull();
    s.records.set('k1', view('k1'));
    expect(await cache.get('k1', s.load)).toEqual(view('k1'));
  });

  it('does not keep a record read before an invalidation that happened while it was read', async () => {
    const cache = new ApiKeyCache();
    let release!: () => void;
    const stale = cache.get('k1', () => new Promise((resolve) => (release = () => resolve(view('k1')))));
    cache.invalidate(['k1']);
    release();
    expect(await stale).toEqual(view('k1'));
    const s = source({ k1: view('k1', 9) });
    expect((await cache.get('k1', s.load))?.revokedAtMs).toBe(9);
    expect(s.reads).toEqual(['k1']);
  });

  it('holds at most its capacity, dropping the least recently used', async () => {
    const s = source({ a: view('a'), b: view('b'), c: view('c') });
    const cache = new ApiKeyCache(2);
    await cache.get('a', s.load);
    await cache.get('b', s.load);
    await cache.get('a', s.load);
    await cache.get('c', s.load);
    expect(cache.size).toBe(2);
    s.reads.length = 0;
    await cache.get('a', s.load);
    await cache.get('b', s.load);
    expect(s.reads).toEqual(['b']);
  });
});
