/**
 * What a read_committed reader makes of a fetched range, as Kafka's consumer does: control
 * records (transaction markers) and the records of aborted transactions are dropped, and
 * the position moves past the end of the last record batch, markers included.
 */

/** The fields of a decoded kafkajs record this needs. */
export interface RawRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord: boolean;
  readonly batchContext: {
    readonly firstOffset: string;
    readonly lastOffsetDelta: number;
    readonly producerId: string;
    readonly inTransaction: boolean;
  };
}

export interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

/** A control record's key is version (int16) then type (int16): 0 aborts, 1 commits. */
function isAbortMarker(record: RawRecord): boolean {
  return record.isControlRecord && record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === 0;
}

/** The records a read_committed consumer sees, from offset `from` on, in offset order. */
export function visibleRecords<T extends RawRecord>(records: readonly T[], aborted: readonly AbortedTransaction[], from: number): T[] {
  const pending = [...aborted].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  const abortedProducers = new Set<string>();
  const visible: T[] = [];
  for (const record of records) {
    const offset = Number(record.offset);
    while (pending.length > 0 && offset >= Number(pending[0]!.firstOffset)) abortedProducers.add(pending.shift()!.producerId);
    const { producerId, inTransaction } = record.batchContext;
    if (record.isControlRecord) {
      if (isAbortMarker(record)) abortedProducers.delete(producerId);
      continue;
    }
    if (inTransaction && abortedProducers.has(producerId)) continue;
    if (offset >= from) visible.push(record);
  }
  return visible;
}

/** The offset after the last record batch fetched (`from` when nothing came back). */
export function nextOffset(records: readonly RawRecord[], from: number): number {
  let next = from;
  for (const { batchContext } of records) {
    next = Math.max(next, Number(batchContext.firstOffset) + batchContext.lastOffsetDelta + 1);
  }
  return next;
}
