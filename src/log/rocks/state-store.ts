import type RocksDB from 'rocksdb-native';
import type { StateStore, StoreOp } from '../port.js';
import { storePrefix } from './keys.js';

const ITERATOR_CAPACITY = 256;

/**
 * A state store is the key range `S group 00 store 00` of a local RocksDB (the embedded
 * log's own, or the Kafka adapter's local state), so its writes share a batch with the
 * records and offsets of the unit that carries them. Reads see what committed units wrote.
 */
export class RocksStateStore implements StateStore {
  readonly prefix: Buffer;

  constructor(
    private readonly db: RocksDB,
    readonly group: string,
    readonly name: string,
  ) {
    this.prefix = storePrefix(group, name);
  }

  get(key: Buffer): Promise<Buffer | null> {
    return this.db.get(this.key(key));
  }

  /** Many keys in one native read batch: one thread-pool round trip instead of one each. */
  async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    const batch = this.db.read({ capacity: keys.length, autoDestroy: true });
    const values = keys.map((key) => batch.get(this.key(key)));
    await batch.flush();
    return Promise.all(values);
  }

  async *range(opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean }): AsyncIterable<[Buffer, Buffer]> {
    if (Buffer.compare(opts.gte, opts.lt) >= 0 || opts.limit === 0) return;
    const range = {
      gte: this.key(opts.gte),
      lt: this.key(opts.lt),
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? Infinity,
      capacity: Math.min(opts.limit ?? ITERATOR_CAPACITY, ITERATOR_CAPACITY),
    };
    for await (const { key, value } of this.db.iterator(range)) {
      yield [key.subarray(this.prefix.length), value];
    }
  }

  /** Adds `ops` to a unit's batch; every key lands inside this store's prefix. */
  put(batch: RocksDB.WriteBatch, ops: readonly StoreOp[]): void {
    for (const op of ops) {
      switch (op.type) {
        case 'put':
          batch.tryPut(this.key(op.key), op.value);
          break;
        case 'del':
          batch.tryDelete(this.key(op.key));
          break;
        case 'delRange':
          if (Buffer.compare(op.gte, op.lt) < 0) batch.tryDeleteRange(this.key(op.gte), this.key(op.lt));
          break;
      }
    }
  }

  private key(userKey: Buffer): Buffer {
    return Buffer.concat([this.prefix, userKey]);
  }
}
