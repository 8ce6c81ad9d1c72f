/**
 * The embedded log adapter: a durable, single-process log on one RocksDB instance at
 * `<dataDir>/embedded-log`, holding topic records, consumer group offsets and the state
 * stores of every stage, so one atomic write batch can cover all three.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import RocksDB from 'rocksdb-native';
import { EmbeddedLogImpl, type EmbeddedLog } from './log.js';
import { silentLogger, type Logger } from '../rocks/logger.js';
import { TopicRegistry } from './topics.js';
import { WalSync } from '../rocks/wal-sync.js';
import { Writer } from '../rocks/writer.js';

export type { EmbeddedLog } from './log.js';
export type { Logger } from '../rocks/logger.js';

export interface EmbeddedLogOptions {
  readonly dataDir: string;
  /**
   * 'fsync' (default): an append resolves once its records are on stable storage.
   * 'none': once they are in the OS page cache, which survives the process being killed
   * but not a power loss. See wal-sync.ts.
   */
  readonly sync?: 'fsync' | 'none';
  readonly logger?: Logger;
}

export async function createEmbeddedLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const sync = options.sync ?? 'fsync';
  if (sync !== 'fsync' && sync !== 'none') throw new Error(`embedded log: sync must be 'fsync' or 'none', got ${String(sync)}`);
  const logger = options.logger ?? silentLogger;
  const dir = join(options.dataDir, 'embedded-log');
  // Every tenant's data: for tracefold's user alone (the files get the process umask).
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const db = new RocksDB(dir);
  try {
    await db.ready();
  } catch (err) {
    // Most often the LOCK: another process has this data directory open.
    throw new Error(`cannot open the embedded log at ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const topics = await TopicRegistry.load(db);
    const walSync = sync === 'fsync' ? await WalSync.open(dir, db) : null;
    logger.info({ dir, sync, topics: [...topics.all()].length }, 'embedded log opened');
    return new EmbeddedLogImpl(db, topics, new Writer(db, walSync, logger), logger);
  } catch (err) {
    await db.close();
    throw err;
  }
}
