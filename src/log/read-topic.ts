/**
 * Reads what a topic holds up to its end at the time of the call, with a throwaway
 * consumer group: for tools that inspect a log (the audit CLI reading a stopped
 * tracefold's data dir) and for tests asserting on what the pipeline emitted.
 */
import { randomBytes } from 'node:crypto';
import type { Log, LogRecord } from './port.js';

export async function readRecords(log: Log, topic: string, keep: (record: LogRecord) => boolean = () => true): Promise<LogRecord[]> {
  const ends = await log.endOffsets(topic);
  const records: LogRecord[] = [];
  const reached = new Map<number, number>();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const check = () => {
    if (ends.every((end, p) => end === 0 || (reached.get(p) ?? 0) >= end)) finish();
  };
  const consumer = await log.consume(
    { group: `tracefold-reader-${Date.now()}-${randomBytes(4).toString('hex')}`, topics: [topic] },
    {
      eachBatch: async (batch) => {
        for (const r of batch.records) if (keep(r)) records.push(r);
        const last = batch.records.at(-1);
        if (last !== undefined) reached.set(batch.partition, last.offset + 1);
        check();
      },
      onIdle: async () => check(),
    },
  );
  check();
  await finished;
  await consumer.stop();
  return records;
}
