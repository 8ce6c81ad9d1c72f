import { mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WalSync, type WalSource } from '../../../src/log/rocks/wal-sync.js';

/** Stands in for RocksDB: reports whichever WAL the test says is current. */
class FakeWal implements WalSource {
  number = 4;
  lookups = 0;
  async currentWalFile(): Promise<{ path: string; number: number }> {
    this.lookups++;
    return { path: `/${walName(this.number)}`, number: this.number };
  }
}

const walName = (number: number): string => `${String(number).padStart(6, '0')}.log`;

describe('WalSync', () => {
  let dir: string;
  let wal: FakeWal;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracefold-walsync-'));
    wal = new FakeWal();
    await writeFile(join(dir, walName(4)), 'records');
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  /** Counts fdatasync calls on any FileHandle. */
  async function countDatasyncs(): Promise<{ readonly calls: number }> {
    const probe = await open(join(dir, walName(4)), 'r');
    const prototype = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const spy = vi.spyOn(prototype, 'datasync');
    return {
      get calls() {
        return spy.mock.calls.length;
      },
    };
  }

  it('groups concurrent sync calls into few rounds', async () => {
    const sync = await WalSync.open(dir, wal);
    await Promise.all(Array.from({ length: 100 }, () => sync.sync()));
    // The first call starts a round; the other 99 arrive while it runs and share the next.
    expect(sync.fsyncRounds).toBe(2);
    await sync.sync();
    expect(sync.fsyncRounds).toBe(3);
    await sync.close();
  });

  it('follows WAL rotation, syncing skipped WALs that still exist and ignoring flushed ones', async () => {
    const sync = await WalSync.open(dir, wal);
    const datasyncs = await countDatasyncs();
    await writeFile(join(dir, walName(6)), 'more records'); // still on disk: must be synced
    await writeFile(join(dir, walName(9)), 'newest');
    wal.number = 9; // 000005.log and 000008.log were flushed to SSTs and deleted (ENOENT)
    await sync.sync();
    expect(sync.fsyncRounds).toBe(1);
    // The previous WAL (4), the skipped one still on disk (6) and the new current one (9).
    expect(datasyncs.calls).toBe(3);
    await unlink(join(dir, walName(9))); // an open fd stays valid after RocksDB deletes the file
    await sync.sync();
    await sync.close();
  });

  it('looks again when the new WAL disappears before it could be opened', async () => {
    const sync = await WalSync.open(dir, wal);
    await writeFile(join(dir, walName(12)), 'newer');
    let reported = 0;
    wal.currentWalFile = async () => {
      reported++;
      // First answer names a WAL that is already gone, the second the real one.
      const number = reported === 1 ? 10 : 12;
      return { path: `/${walName(number)}`, number };
    };
    await sync.sync();
    expect(reported).toBe(2);
    await sync.close();
  });
});
