/**
 * Durability of the embedded log's writes.
 *
 * rocksdb-native resolves a write batch once RocksDB has appended it to its write-ahead
 * log (WAL) with write(2), and offers no per-write sync. At that point the batch is in
 * the OS page cache: it survives the process dying (SIGKILL, crash, OOM kill) but not a
 * power loss or kernel crash. Recovery is point-in-time, so a lost tail is always a
 * suffix of whole batches, never half of one.
 *
 * sync: 'fsync' (the default) closes that gap here. After its batch resolved, a writer
 * calls `sync()`, which fdatasyncs the current WAL file before it resolves:
 *
 * - Group commit: one round (look up the current WAL, then fdatasync it) runs at a time.
 *   Writers arriving while a round is in flight wait together for the next round, which
 *   starts as soon as the current one ends; so N concurrent writers cost about two
 *   fdatasyncs, not N. A round only covers writes that completed before it started,
 *   which is why a writer never joins a round already in flight.
 * - WAL rotation: when a memtable switch moves RocksDB to a new WAL, batches acknowledged
 *   before the switch are in the previous file(s). The round fdatasyncs the fd of the WAL
 *   it synced last (still valid even if RocksDB deleted the file), opens and fdatasyncs
 *   any WAL numbered in between that still exists (ENOENT means RocksDB flushed it into an
 *   SST file, which RocksDB syncs itself, together with the MANIFEST, before deleting a
 *   WAL), then opens the new WAL and fsyncs the database directory once so the new file's
 *   directory entry is durable too.
 *
 * sync: 'none' never calls this module: acknowledged writes survive process death and
 * are lost on power loss back to whatever the kernel had written out. That is the right
 * trade for tests and disposable data, not for ingest that answers 202 on durability.
 *
 * A failed fdatasync leaves the page cache in an unknown state (the kernel may have
 * dropped the dirty pages and will not report the error again), so the caller must treat
 * it as fatal for the log rather than retry.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { deferred, type Deferred } from './deferred.js';

/** What WalSync needs from the database. */
export interface WalSource {
  currentWalFile(): Promise<{ path: string; number: number }>;
}

interface OpenWal {
  readonly number: number;
  readonly handle: FileHandle;
}

const WAL_FILE = /^(\d+)\.log$/;

export class WalSync {
  private rounds = 0;
  private next: Deferred<void> | null = null;
  private inFlight: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly db: WalSource,
    private wal: OpenWal,
  ) {}

  static async open(dir: string, db: WalSource): Promise<WalSync> {
    for (;;) {
      const current = await db.currentWalFile();
      const handle = await openIfExists(join(dir, current.path));
      if (handle !== null) {
        await syncDirectory(dir);
        return new WalSync(dir, db, { number: current.number, handle });
      }
    }
  }

  /** fsync rounds run so far; fewer than the sync() calls when calls were grouped. */
  get fsyncRounds(): number {
    return this.rounds;
  }

  /** Resolves once every write that completed before this call is on stable storage. */
  sync(): Promise<void> {
    this.next ??= deferred();
    const waiting = this.next.promise;
    this.startRound();
    return waiting;
  }

  async close(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    await this.wal.handle.close();
  }

  private startRound(): void {
    if (this.inFlight !== null || this.next === null) return;
    const round = this.next;
    this.next = null;
    this.inFlight = this.runRound()
      .then(round.resolve, round.reject)
      .finally(() => {
        this.inFlight = null;
        this.startRound();
      });
  }

  private async runRound(): Promise<void> {
    this.rounds++;
    for (;;) {
      const current = await this.db.currentWalFile();
      if (current.number === this.wal.number || (await this.rotate(current))) break;
    }
    await this.wal.handle.datasync();
  }

  /** Syncs what is left in older WALs and moves to `current`; false if it vanished first. */
  private async rotate(current: { path: string; number: number }): Promise<boolean> {
    const previous = this.wal;
    await previous.handle.datasync();
    for (const skipped of await this.walsBetween(previous.number, current.number)) {
      const handle = await openIfExists(join(this.dir, skipped));
      if (handle === null) continue;
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
    const handle = await openIfExists(join(this.dir, current.path));
    if (handle === null) return false;
    this.wal = { number: current.number, handle };
    await previous.handle.close();
    await syncDirectory(this.dir);
    return true;
  }

  private async walsBetween(after: number, before: number): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((name) => {
      const match = WAL_FILE.exec(name);
      const number = match?.[1] === undefined ? -1 : Number(match[1]);
      return number > after && number < before;
    });
  }
}

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}
