/**
 * A write buffer over a state store for the duration of one batch: reads see the batch's
 * own pending writes, and the writes leave together in the batch's WorkUnit, so state and
 * the consumed offset move as one.
 *
 * A savepoint marks the buffer before one record is applied; rolling back to it drops
 * what that record wrote, so a record that fails halfway leaves nothing of itself in the
 * batch (the poison-record policy, dead-letter.ts).
 */
import type { ReadableStore, StateStore, StoreOp, WorkUnit } from '../log/port.js';

/**
 * A key as a map key: its bytes as latin1 characters, one per byte, so strings compare in
 * the store's byte order; cheaper to make than hex and half its length.
 */
function keyString(key: Buffer): string {
  return key.toString('latin1');
}

/**
 * The state store itself failed (a read did not complete): the stage's own state is
 * unusable, which no record's content explains, so it is never dead-lettered.
 */
export class StateStoreError extends Error {
  constructor(store: string, cause: unknown) {
    super(`state store ${store} could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StateStoreError';
  }
}

/** A position in the buffer's writes; see BufferedStore.savepoint. */
export interface Savepoint {
  readonly ops: number;
  readonly undo: number;
  readonly ranges: number;
}

export class BufferedStore implements ReadableStore {
  /** Pending writes by key string; null marks a delete. */
  private readonly pending = new Map<string, Buffer | null>();
  private ops: StoreOp[] = [];
  /** Values read from the store during this batch (prefetched or looked up), by key string. */
  private readonly cache = new Map<string, Buffer | null>();
  /** Pending range deletes, as [gte, lt) key-string bounds; writes after them win via `pending`. */
  private deletedRanges: [string, string][] = [];
  /** What each change to `pending` replaced (undefined: nothing pending), to roll back. */
  private undo: { key: string; previous: Buffer | null | undefined }[] = [];

  constructor(private readonly store: StateStore) {}

  /** Marks the writes so far; rollback(mark) drops every write made after it. */
  savepoint(): Savepoint {
    return { ops: this.ops.length, undo: this.undo.length, ranges: this.deletedRanges.length };
  }

  rollback(mark: Savepoint): void {
    for (let i = this.undo.length - 1; i >= mark.undo; i--) {
      const { key, previous } = this.undo[i]!;
      if (previous === undefined) this.pending.delete(key);
      else this.pending.set(key, previous);
    }
    this.undo.length = mark.undo;
    this.ops.length = mark.ops;
    this.deletedRanges.length = mark.ranges;
  }

  private setPending(k: string, value: Buffer | null): void {
    this.undo.push({ key: k, previous: this.pending.get(k) });
    this.pending.set(k, value);
  }

  private async read<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (err) {
      throw new StateStoreError(this.store.name, err);
    }
  }

  async get(key: Buffer): Promise<Buffer | null> {
    const k = keyString(key);
    const pending = this.pending.get(k);
    if (pending !== undefined) return pending;
    if (this.rangeDeleted(k)) return null;
    const cached = this.cache.get(k);
    if (cached !== undefined) return cached;
    const value = await this.read(() => this.store.get(key));
    this.cache.set(k, value);
    return value;
  }

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    await this.prefetch(keys);
    return Promise.all(keys.map((key) => this.get(key)));
  }

  /** Reads the keys this batch is about to need in one round trip. */
  async prefetch(keys: readonly Buffer[]): Promise<void> {
    const missing = new Map<string, Buffer>();
    for (const key of keys) {
      const k = keyString(key);
      if (!this.pending.has(k) && !this.cache.has(k)) missing.set(k, key);
    }
    if (missing.size === 0) return;
    const values = await this.read(() => this.store.getMany([...missing.values()]));
    let i = 0;
    for (const k of missing.keys()) this.cache.set(k, values[i++] ?? null);
  }

  put(key: Buffer, value: Buffer): void {
    this.setPending(keyString(key), value);
    this.ops.push({ type: 'put', key, value });
  }

  del(key: Buffer): void {
    this.setPending(keyString(key), null);
    this.ops.push({ type: 'del', key });
  }

  delRange(gte: Buffer, lt: Buffer): void {
    const lo = keyString(gte);
    const hi = keyString(lt);
    for (const [k, previous] of this.pending) {
      if (k < lo || k >= hi) continue;
      this.undo.push({ key: k, previous });
      this.pending.delete(k);
    }
    this.deletedRanges.push([lo, hi]);
    this.ops.push({ type: 'delRange', gte, lt });
  }

  private rangeDeleted(k: string): boolean {
    for (const [lo, hi] of this.deletedRanges) if (k >= lo && k < hi) return true;
    return false;
  }

  /**
   * Entries in [gte, lt), pending writes merged over the store, in key order. A streaming
   * merge: the store is read only as far as the limit needs, so "the first entry of a large
   * range" stays cheap while the batch has pending writes.
   */
  async *range(opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean }): AsyncIterable<[Buffer, Buffer]> {
    const lo = keyString(opts.gte);
    const hi = keyString(opts.lt);
    const reverse = opts.reverse ?? false;
    const limit = opts.limit ?? Infinity;
    if (limit <= 0) return;
    const before = (a: string, b: string) => (reverse ? a > b : a < b);
    const overlay = [...this.pending.entries()].filter(([k]) => k >= lo && k < hi).sort(([a], [b]) => (before(a, b) ? -1 : 1));
    let next = 0;
    let emitted = 0;
    // Yields pending entries due before `bound` (all of them when bound is null); false once the limit is reached.
    const drainOverlay = function* (bound: string | null): Generator<[Buffer, Buffer], boolean> {
      while (next < overlay.length && (bound === null || before(overlay[next]![0], bound))) {
        const [k, v] = overlay[next++]!;
        if (v === null) continue;
        yield [Buffer.from(k, 'latin1'), v];
        if (++emitted >= limit) return false;
      }
      return true;
    };
    // Iterated by hand so that a failing store read is told apart from the caller's errors.
    const entries = this.store.range({ gte: opts.gte, lt: opts.lt, reverse })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const entry = await this.read(() => entries.next());
        if (entry.done === true) break;
        const [key, value] = entry.value;
        const k = keyString(key);
        if (!(yield* drainOverlay(k))) return;
        if (next < overlay.length && overlay[next]![0] === k) continue; // the pending write shadows it
        if (this.rangeDeleted(k)) continue;
        yield [key, value];
        if (++emitted >= limit) return;
      }
    } finally {
      await entries.return?.();
    }
    yield* drainOverlay(null);
  }

  get hasWrites(): boolean {
    return this.ops.length > 0;
  }

  /** Moves the pending writes into `unit` and starts a fresh buffer. */
  flushInto(unit: WorkUnit): void {
    if (this.ops.length > 0) unit.write(this.store, this.ops);
    this.ops = [];
    this.undo = [];
    this.pending.clear();
    this.cache.clear();
    this.deletedRanges = [];
  }
}
