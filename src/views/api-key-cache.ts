/**
 * API key records in memory, so that authenticating a request does not read the store
 * (a blocking read per request on the ingest path). The views invalidate a key the moment
 * a batch that creates or revokes it is committed, before they report the new position,
 * so a revocation the views show refuses the very next request.
 *
 * Only found keys are kept: a key unknown now may be created a moment later.
 */
import type { ApiKeyView } from './view-model.js';

export const API_KEY_CACHE_SIZE = 4096;

export class ApiKeyCache {
  /** Least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, ApiKeyView>();
  /**
   * Moves on every invalidation. A lookup that read the store before a change was
   * committed and finishes after its invalidation must not put the old record back.
   */
  private generation = 0;

  constructor(private readonly capacity = API_KEY_CACHE_SIZE) {}

  async get(keyId: string, load: (keyId: string) => Promise<ApiKeyView | null>): Promise<ApiKeyView | null> {
    const cached = this.entries.get(keyId);
    if (cached !== undefined) {
      this.entries.delete(keyId);
      this.entries.set(keyId, cached);
      return cached;
    }
    const generation = this.generation;
    const loaded = await load(keyId);
    if (loaded !== null && generation === this.generation) {
      this.entries.set(keyId, loaded);
      if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return loaded;
  }

  invalidate(keyIds: Iterable<string>): void {
    this.generation++;
    for (const keyId of keyIds) this.entries.delete(keyId);
  }

  get size(): number {
    return this.entries.size;
  }
}
