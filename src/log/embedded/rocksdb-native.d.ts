/**
 * The part of rocksdb-native (a CommonJS package without type definitions) that the
 * embedded log uses. Every session here works on the default column family; keys and
 * values are raw Buffers (no key or value encoding configured).
 */
declare module 'rocksdb-native' {
  class RocksDB {
    constructor(path: string, options?: RocksDB.OpenOptions);
    ready(): Promise<void>;
    /** A batch bound to this session's column family; applied atomically by `flush()`. */
    write(options?: { capacity?: number; autoDestroy?: boolean }): RocksDB.WriteBatch;
    get(key: Buffer): Promise<Buffer | null>;
    /** A batch of reads answered by one native call. */
    read(options?: { capacity?: number; autoDestroy?: boolean }): RocksDB.ReadBatch;
    iterator(range: RocksDB.IteratorRange): AsyncIterable<RocksDB.Entry>;
    /** The WAL RocksDB currently appends to; `path` is relative to the database directory. */
    currentWalFile(): Promise<RocksDB.WalFile>;
    close(): Promise<void>;
  }

  namespace RocksDB {
    interface OpenOptions {
      createIfMissing?: boolean;
    }

    interface WriteBatch {
      /** The `try*` variants queue an operation without a per-operation promise. */
      tryPut(key: Buffer, value: Buffer): void;
      tryDelete(key: Buffer): void;
      tryDeleteRange(start: Buffer, end: Buffer): void;
      flush(): Promise<void>;
      destroy(): void;
    }

    interface ReadBatch {
      get(key: Buffer): Promise<Buffer | null>;
      flush(): Promise<void>;
    }

    interface IteratorRange {
      gte?: Buffer;
      lt?: Buffer;
      reverse?: boolean;
      limit?: number;
      /** Entries fetched per native call (default 8). */
      capacity?: number;
    }

    interface Entry {
      key: Buffer;
      value: Buffer;
    }

    interface WalFile {
      path: string;
      number: number;
      size: number;
    }
  }

  export = RocksDB;
}
