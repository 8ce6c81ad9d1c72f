/**
 * Reads what a topic holds, for assertions on what the pipeline emitted (not just on what
 * the views show): every record up to the topic's end at the time of the call, read with
 * a throwaway consumer group.
 */
import { createEmbeddedLog } from '../../src/log/embedded/index.js';
import type { LogRecord } from '../../src/log/port.js';
import { readRecords } from '../../src/log/read-topic.js';

export { readRecords };

/** Every record of a topic in a stopped tracefold's embedded log. */
export async function readTopic(dataDir: string, topic: string): Promise<LogRecord[]> {
  const log = await createEmbeddedLog({ dataDir, sync: 'none' });
  try {
    return await readRecords(log, topic);
  } finally {
    await log.close();
  }
}
