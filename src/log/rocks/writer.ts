import type RocksDB from 'rocksdb-native';
import type { Logger } from './logger.js';
import type { WalSync } from './wal-sync.js';

/**
 * The one way a local RocksDB is written (the embedded log, the Kafka adapter's local
 * state): fill a batch, apply it atomically, then make it durable (wal-sync.ts) when asked
 * to and when a WalSync is given (the embedded log with sync: 'fsync').
 * Tracks writes in flight so close() can wait for them.
 */
export class Writer {
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private failure: Error | null = null;

  constructor(
    private readonly db: RocksDB,
    private readonly walSync: WalSync | null,
    private readonly logger: Logger,
  ) {}

  /** False once an fsync failed: nothing acknowledged after that could be trusted. */
  get healthy(): boolean {
    return this.failure === null && !this.closed;
  }

  get fsyncRounds(): number {
    return this.walSync?.fsyncRounds ?? 0;
  }

  /**
   * Applies what `fill` puts in the batch as one atomic write. `durable` asks for the
   * fsync step; writes that can be lost on power loss without harm (positions a handler
   * already made durable itself, retention deletes) skip it.
   *
   * `onApplied` runs as soon as the batch is applied, before the fsync: records become
   * readable then, in the same instant as everything else in the batch (a unit's consumed
   * offsets included), so no reader sees an offset commit before the outputs it covers.
   * Reading ahead of the fsync is safe: the WAL is written in order, so whatever survives
   * a power loss is a prefix, and anything derived from a lost record is lost with it.
   */
  async write(fill: (batch: RocksDB.WriteBatch) => void, durable: boolean, onApplied?: () => void): Promise<void> {
    if (this.failure !== null) throw new Error('embedded log failed to sync its WAL earlier; restart the process', { cause: this.failure });
    if (this.closed) throw new Error('embedded log is closed');
    const write = this.apply(fill, durable, onApplied);
    this.inFlight.add(write);
    try {
      await write;
    } finally {
      this.inFlight.delete(write);
    }
  }

  /** Refuses new writes, then waits for those in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.walSync?.close();
  }

  private async apply(fill: (batch: RocksDB.WriteBatch) => void, durable: boolean, onApplied?: () => void): Promise<void> {
    const batch = this.db.write({ autoDestroy: true });
    try {
      fill(batch);
    } catch (err) {
      batch.destroy(); // an unflushed batch holds a reference that would block db.close()
      throw err;
    }
    await batch.flush();
    onApplied?.();
    if (!durable || this.walSync === null) return;
    try {
      await this.walSync.sync();
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      this.logger.error({ err }, 'embedded log: fdatasync of the WAL failed; refusing further writes');
      throw err;
    }
  }
}
