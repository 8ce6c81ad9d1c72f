/**
 * Reads what a topic holds, for assertions on what the pipeline emitted (not just on what
 * the views show): every record up to the topic's end at the time of the call, read with
 * a throwaway consumer group.
 */
import { randomBytes } from 'node:crypto';
import { createEmbeddedLog } from '../../src/log/embedded/index.js';
import type { Log, LogRecord } from '../../src/log/port.js';

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
    { group: `test-reader-${Date.now()}-${randomBytes(4).toString('hex')}`, topics: [topic] },
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

/** Every record of a topic in a stopped tracefold's embedded log. */
export async function readTopic(dataDir: string, topic: string): Promise<LogRecord[]> {
  const log = await createEmbeddedLog({ dataDir, sync: 'none' });
  try {
    return await readRecords(log, topic);
  } finally {
    await log.close();
  }
}
