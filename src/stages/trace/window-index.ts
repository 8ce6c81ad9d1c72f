/**
 * The windows of one input partition, held in memory: trace → window meta, and a deadline
 * heap saying which window comes due next. The store stays the source of truth: every
 * change is written to it in the unit that carries the batch, and the index is rebuilt
 * from it when the partition is assigned (start, restart, rebalance). What it saves is the
 * hot path's reads: no point read per span for its window's meta, no expiry index scan per
 * advance of stream time, and no expiry index entry rewritten per span.
 *
 * A batch's changes are kept apart from what was committed until its unit is durable, with
 * savepoints so that a record dead-lettered halfway leaves nothing of itself (as
 * BufferedStore does for the store's writes).
 */
import { DeadlineHeap, type DeadlineEntry } from './deadline-heap.js';
import type { WindowMeta } from './window-meta.js';

/** The index key of a trace ref: its bytes as a latin1 string (same order as the bytes). */
const keyOf = (ref: Buffer): string => ref.toString('latin1');
const refOf = (key: string): Buffer => Buffer.from(key, 'latin1');

export interface DueWindow {
  readonly ref: Buffer;
  readonly meta: WindowMeta;
}

export class WindowIndex {
  /** Metas as of the last committed unit. */
  private readonly committed = new Map<string, WindowMeta>();
  /** The current batch's changes over `committed`; null: deleted. */
  private readonly changed = new Map<string, WindowMeta | null>();
  /** What each change replaced in `changed` (undefined: nothing), to roll back. */
  private undo: { key: string; previous: WindowMeta | null | undefined }[] = [];
  private readonly deadlines = new DeadlineHeap();
  /** Heap entries this batch took out, put back if its unit is not committed. */
  private popped: DeadlineEntry[] = [];

  /** Windows held (open, closed and forgotten), as of the last commit. */
  get size(): number {
    return this.committed.size;
  }

  /** Adds a window read from the store while the index is rebuilt. */
  load(ref: Buffer, meta: WindowMeta): void {
    const key = keyOf(ref);
    this.committed.set(key, meta);
    this.deadlines.push(meta.deadlineMs, key);
  }

  private current(key: string): WindowMeta | null {
    const changed = this.changed.get(key);
    return changed !== undefined ? changed : (this.committed.get(key) ?? null);
  }

  /** A copy of the window's meta, free to change and put back; null when there is none. */
  get(ref: Buffer): WindowMeta | null {
    const meta = this.current(keyOf(ref));
    return meta === null ? null : { ...meta };
  }

  has(ref: Buffer): boolean {
    return this.current(keyOf(ref)) !== null;
  }

  /** Sets a window's meta in this batch; the stage writes it to the store once per batch, with the unit. */
  put(ref: Buffer, meta: WindowMeta): void {
    const key = keyOf(ref);
    const previous = this.current(key);
    this.change(key, { ...meta });
    if (previous === null || previous.deadlineMs !== meta.deadlineMs) this.deadlines.push(meta.deadlineMs, key);
  }

  delete(ref: Buffer): void {
    this.change(keyOf(ref), null);
  }

  private change(key: string, meta: WindowMeta | null): void {
    this.undo.push({ key, previous: this.changed.get(key) });
    this.changed.set(key, meta);
  }

  /** Marks the batch's changes so far; rollback(mark) drops every change made after it. */
  savepoint(): number {
    return this.undo.length;
  }

  rollback(mark: number): void {
    for (let i = this.undo.length - 1; i >= mark; i--) {
      const { key, previous } = this.undo[i]!;
      if (previous === undefined) this.changed.delete(key);
      else this.changed.set(key, previous);
    }
    this.undo.length = mark;
  }

  /** The batch's changes, each window once with its final meta (null: deleted). */
  *changes(): Iterable<[Buffer, WindowMeta | null]> {
    for (const [key, meta] of this.changed) yield [refOf(key), meta];
  }

  /** The batch's unit is durable: its changes become the committed state. */
  commit(): void {
    for (const [key, meta] of this.changed) {
      if (meta === null) this.committed.delete(key);
      else this.committed.set(key, meta);
    }
    this.changed.clear();
    this.undo = [];
    this.popped = [];
  }

  /** Drops the batch's changes (its unit was not committed); its windows come due again. */
  discard(): void {
    this.changed.clear();
    this.undo = [];
    for (const { deadlineMs, key } of this.popped) this.deadlines.push(deadlineMs, key);
    this.popped = [];
  }

  /** The earliest deadline held; it may belong to a window that has moved on since. */
  get nextDeadlineMs(): number {
    return this.deadlines.peek()?.deadlineMs ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * Windows whose deadline is at or before `timeMs`, earliest first (then by trace ref),
   * each once. Entries of deadlines a window has since left are dropped.
   */
  due(timeMs: number): DueWindow[] {
    const due: DueWindow[] = [];
    const seen = new Set<string>();
    for (const entry of this.deadlines.popDue(timeMs)) {
      this.popped.push(entry);
      const { deadlineMs, key } = entry;
      const meta = this.current(key);
      if (meta === null || meta.deadlineMs !== deadlineMs || seen.has(key)) continue;
      seen.add(key);
      due.push({ ref: refOf(key), meta: { ...meta } });
    }
    return due;
  }
}
