/**
 * A write buffer over a state store for the duration of one batch: reads see the batch's
 * own pending writes, and the writes leave together in the batch's WorkUnit, so state and
 * the consumed offset move as one.
 */
import type { ReadableStore, StateStore, StoreOp, WorkUnit } from '../log/port.js';

function hex(key: Buffer): string {
  return key.toString('hex');
}

export class BufferedStore implements ReadableStore {
  /** Pending writes by key (hex); null marks a delete. */
  private readonly pending = new Map<string, Buffer | null>();
  private ops: StoreOp[] = [];
  /** Pending range deletes, as [gte, lt) hex bounds; writes after them win via `pending`. */
  private deletedRanges: [string, string][] = [];

  constructor(private readonly store: StateStore) {}

  async get(key: Buffer): Promise<Buffer | null> {
    const pending = this.pending.get(hex(key));
    if (pending !== undefined) return pending;
    if (this.rangeDeleted(hex(key))) return null;
    return this.store.get(key);
  }

  put(key: Buffer, value: Buffer): void {
    this.pending.set(hex(key), value);
    this.ops.push({ type: 'put', key, value });
  }

  del(key: Buffer): void {
    this.pending.set(hex(key), null);
    this.ops.push({ type: 'del', key });
  }

  delRange(gte: Buffer, lt: Buffer): void {
    const lo = hex(gte);
    const hi = hex(lt);
    for (const k of this.pending.keys()) if (k >= lo && k < hi) this.pending.delete(k);
    this.deletedRanges.push([lo, hi]);
    this.ops.push({ type: 'delRange', gte, lt });
  }

  private rangeDeleted(k: string): boolean {
    for (const [lo, hi] of this.deletedRanges) if (k >= lo && k < hi) return true;
    return false;
  }

  /** Entries in [gte, lt), merging pending writes over the store, in key order. */
  async *range(opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean }): AsyncIterable<[Buffer, Buffer]> {
    const lo = hex(opts.gte);
    const hi = hex(opts.lt);
    const overlay = [...this.pending.entries()].filter(([k]) => k >= lo && k < hi);
    const merged = new Map<string, Buffer | null>();
    const plain = overlay.length === 0 && this.deletedRanges.length === 0;
    for await (const [key, value] of this.store.range({ gte: opts.gte, lt: opts.lt, reverse: opts.reverse })) {
      const k = hex(key);
      if (this.rangeDeleted(k)) continue;
      merged.set(k, value);
      // Without pending writes the store's own order and limit are final.
      if (plain && opts.limit !== undefined && merged.size >= opts.limit) break;
    }
    for (const [k, v] of overlay) merged.set(k, v);
    const keys = [...merged.keys()].sort();
    if (opts.reverse) keys.reverse();
    let n = 0;
    for (const k of keys) {
      const v = merged.get(k);
      if (v === null || v === undefined) continue;
      if (opts.limit !== undefined && n >= opts.limit) return;
      n++;
      yield [Buffer.from(k, 'hex'), v];
    }
  }

  get hasWrites(): boolean {
    return this.ops.length > 0;
  }

  /** Moves the pending writes into `unit` and starts a fresh buffer. */
  flushInto(unit: WorkUnit): void {
    if (this.ops.length > 0) unit.write(this.store, this.ops);
    this.ops = [];
    this.pending.clear();
    this.deletedRanges = [];
  }
}
