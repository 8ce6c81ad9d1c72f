/**
 * Local state of the Kafka adapter: one RocksDB at `<dataDir>/kafka-state` holding every
 * group's state stores in the key layout both adapters share (rocks/keys.ts:
 * `S group 00 store 00 key`, served by rocks/state-store.ts), plus two kinds of bookkeeping:
 *
 *   C changelogTopic 00 partition(u16 BE)    → changelog offset the local store is current to (u64 BE)
 *   O group 00 topic 00 partition(u16 BE)    → next offset, for units that commit locally only
 *
 * Writes skip the fsync: a changelog-backed store that loses its last writes to a power
 * cut loses its checkpoint with them and is brought forward again from the changelog; a
 * local-only store loses its consumed offsets with them and reads the records again.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import RocksDB from 'rocksdb-native';
import { readU64, writeU64 } from '../rocks/keys.js';
import { RocksStateStore } from '../rocks/state-store.js';
import { Writer } from '../rocks/writer.js';
import type { Logger } from './options.js';

const TAG_CHECKPOINT = 0x43; // 'C'

/** A state store of the Kafka adapter; `changelog` names its changelog topic, if any. */
export class KafkaStateStore extends RocksStateStore {
  constructor(
    db: RocksDB,
    group: string,
    name: string,
    readonly changelog: string | null,
  ) {
    super(db, group, name);
  }
}

export function checkpointKey(changelogTopic: string, partition: number): Buffer {
  const name = Buffer.from(changelogTopic, 'utf8');
  const key = Buffer.allocUnsafe(1 + name.length + 1 + 2);
  key[0] = TAG_CHECKPOINT;
  name.copy(key, 1);
  key[1 + name.length] = 0;
  key.writeUInt16BE(partition, key.length - 2);
  return key;
}

export function encodeCheckpoint(offset: number): Buffer {
  const value = Buffer.allocUnsafe(8);
  writeU64(value, offset, 0);
  return value;
}

export class LocalState {
  private constructor(
    readonly db: RocksDB,
    readonly writer: Writer,
    readonly dir: string,
  ) {}

  static async open(dataDir: string, logger: Logger): Promise<LocalState> {
    const dir = join(dataDir, 'kafka-state');
    await mkdir(dir, { recursive: true });
    const db = new RocksDB(dir);
    try {
      await db.ready();
    } catch (err) {
      // Most often the LOCK: another process has this data directory open.
      throw new Error(`cannot open the kafka log's local state at ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return new LocalState(db, new Writer(db, null, logger), dir);
  }

  store(group: string, name: string, changelog: string | null): KafkaStateStore {
    return new KafkaStateStore(this.db, group, name, changelog);
  }

  /** The changelog offset the local copy of a store partition is current to, if any. */
  async checkpoint(changelogTopic: string, partition: number): Promise<number | null> {
    const value = await this.db.get(checkpointKey(changelogTopic, partition));
    return value === null ? null : readU64(value, 0);
  }

  /** One atomic write batch. */
  write(fill: (batch: RocksDB.WriteBatch) => void): Promise<void> {
    return this.writer.write(fill, false);
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.db.close();
  }
}
