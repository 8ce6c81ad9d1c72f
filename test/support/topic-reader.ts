/**
 * Reads a whole topic of a stopped tracefold's embedded log, for assertions on what the
 * pipeline emitted (not just on what the views show).
 */
import { createEmbeddedLog } from '../../src/log/embedded/index.js';
import type { LogRecord } from '../../src/log/port.js';

export async function readTopic(dataDir: string, topic: string): Promise<LogRecord[]> {
  const log = await createEmbeddedLog({ dataDir, sync: 'none' });
  try {
    const ends = await log.endOffsets(topic);
    const total = ends.reduce((a, b) => a + b, 0);
    const records: LogRecord[] = [];
    if (total === 0) return records;
    const seen = new Map<number, number>();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = await log.consume(
      { group: `test-reader-${Date.now()}-${Math.random()}`, topics: [topic] },
      {
        eachBatch: async (batch) => {
          records.push(...batch.records);
          const last = batch.records[batch.records.length - 1];
          if (last !== undefined) seen.set(batch.partition, last.offset + 1);
          if (ends.every((end, p) => (seen.get(p) ?? 0) >= end || end === 0)) finish();
        },
      },
    );
    await finished;
    await consumer.stop();
    return records;
  } finally {
    await log.close();
  }
}
