import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsumerHandlers, Log, LogRecord, TopicDeclaration } from '../../../src/log/port.js';

export function declareTopic(name: string, partitions: number, extra: Partial<TopicDeclaration> = {}): TopicDeclaration {
  return {
    name,
    partitions,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    key: 'test key',
    valueSchema: 'bytes',
    description: 'test topic',
    ...extra,
  };
}

/** A fresh directory under the OS temp dir and the function that removes it. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'tracefold-embedded-log-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Consumes `topics` as `group` until `enough` holds for the records seen, then stops the
 * consumer and returns them. Fails after `timeoutMs`.
 */
export async function consumeUntil(
  log: Log,
  group: string,
  topics: readonly string[],
  enough: (records: readonly LogRecord[]) => boolean,
  extra: Omit<ConsumerHandlers, 'eachBatch'> = {},
  timeoutMs = 10_000,
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  let reached!: () => void;
  const done = new Promise<void>((resolve) => (reached = resolve));
  const consumer = await log.consume(
    { group, topics },
    {
      ...extra,
      async eachBatch(batch) {
        records.push(...batch.records);
        if (enough(records)) reached();
      },
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`consumed ${records.length} records before the timeout`)), timeoutMs);
  });
  try {
    if (!enough(records)) await Promise.race([done, timeout, consumer.done]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
  return records;
}

export const text = (buffer: Buffer | null): string | null => (buffer === null ? null : buffer.toString('utf8'));
