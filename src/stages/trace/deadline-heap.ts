/**
 * A binary min-heap of (deadline, key): which window comes due next, without scanning an
 * expiry index in the store. Ties are broken by key (compared as strings), so windows due
 * at the same moment come out in one order on every run.
 *
 * Entries are never updated or removed in place: a window whose deadline moves gets a new
 * entry, and the holder checks a popped entry against the window's current deadline
 * (lazy deletion). Stale entries leave the heap when their own deadline passes.
 */
export interface DeadlineEntry {
  readonly deadlineMs: number;
  readonly key: string;
}

function before(a: DeadlineEntry, b: DeadlineEntry): boolean {
  return a.deadlineMs < b.deadlineMs || (a.deadlineMs === b.deadlineMs && a.key < b.key);
}

export class DeadlineHeap {
  private readonly entries: DeadlineEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(deadlineMs: number, key: string): void {
    const entries = this.entries;
    const entry = { deadlineMs, key };
    let i = entries.length;
    entries.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, entries[parent]!)) break;
      entries[i] = entries[parent]!;
      i = parent;
    }
    entries[i] = entry;
  }

  peek(): DeadlineEntry | undefined {
    return this.entries[0];
  }

  pop(): DeadlineEntry | undefined {
    const entries = this.entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined || entries.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= entries.length) break;
      const right = left + 1;
      const child = right < entries.length && before(entries[right]!, entries[left]!) ? right : left;
      if (!before(entries[child]!, last)) break;
      entries[i] = entries[child]!;
      i = child;
    }
    entries[i] = last;
    return top;
  }

  /** Removes and returns every entry due at or before `timeMs`, earliest first. */
  popDue(timeMs: number): DeadlineEntry[] {
    const due: DeadlineEntry[] = [];
    while (this.entries.length > 0 && this.entries[0]!.deadlineMs <= timeMs) due.push(this.pop()!);
    return due;
  }
}
