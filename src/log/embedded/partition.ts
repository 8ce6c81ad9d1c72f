import { recordPrefix } from './keys.js';

/**
 * In-memory state of one partition: the next offset to hand out and the appends whose
 * write has not settled yet.
 *
 * Offsets are reserved synchronously, in call order, before the batch is written; two
 * batches written concurrently can still land in RocksDB in either order. Readers stop at
 * `stableEnd`, the first offset still pending, so a consumer never moves its position
 * past a record that is about to appear. A failed write releases its range all the same:
 * it becomes a gap, which readers step over as Kafka consumers do.
 */
export class PartitionState {
  readonly prefix: Buffer;
  /** First offsets of the pending ranges, ascending because reservations only grow. */
  private readonly pending: number[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    private nextOffset: number,
    /** First offset retention has not deleted. */
    public start: number,
  ) {
    this.prefix = recordPrefix(topic, partition);
  }

  /** Offset the next reserved record gets. */
  get next(): number {
    return this.nextOffset;
  }

  /** Offsets below this are settled: written, or left as a gap by a failed write. */
  get stableEnd(): number {
    return this.pending[0] ?? this.nextOffset;
  }

  /** Reserves `count` consecutive offsets; returns the first. Pair with release(). */
  reserve(count: number): number {
    const first = this.nextOffset;
    this.nextOffset += count;
    this.pending.push(first);
    return first;
  }

  release(first: number): void {
    const index = this.pending.indexOf(first);
    if (index >= 0) this.pending.splice(index, 1);
  }
}
