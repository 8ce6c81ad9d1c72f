import { describe, expect, it } from 'vitest';
import type { OutgoingRecord, StateStore, StoreOp, WorkUnit } from '../../../src/log/port.js';
import { BufferedStore, StateStoreError } from '../../../src/runtime/buffered-store.js';
import { MemoryStore } from '../../../src/runtime/memory-log.js';

/** The in-memory store, counting the round trips a buffered store makes to it. */
class CountingStore extends MemoryStore {
  reads = 0;

  constructor() {
    super('memory');
  }

  override async get(key: Buffer): Promise<Buffer | null> {
    this.reads++;
    return super.get(key);
  }

  override async getMany(keys: readonly Buffer[]): Promise<(Buffer | null)[]> {
    this.reads++;
    return super.getMany(keys);
  }
}

/** A work unit that only records what it is given. */
class RecordingUnit implements WorkUnit {
  readonly writes: { store: StateStore; ops: readonly StoreOp[] }[] = [];
  append(_topic: string, _records: readonly OutgoingRecord[]): void {}
  write(store: StateStore, ops: readonly StoreOp[]): void {
    this.writes.push({ store, ops: [...ops] });
  }
  consumed(_topic: string, _partition: number, _nextOffset: number): void {}
  async commit(): Promise<void> {}
}

const k = (...bytes: number[]) => Buffer.from(bytes);
const v = (s: string) => Buffer.from(s);
const ALL = { gte: k(0x00), lt: k(0xff) };

function storeWith(entries: [Buffer, string][]): CountingStore {
  const store = new CountingStore();
  store.apply(entries.map(([key, value]) => ({ type: 'put', key, value: v(value) })));
  return store;
}

async function collect(
  buffered: BufferedStore,
  opts: { gte: Buffer; lt: Buffer; limit?: number; reverse?: boolean } = ALL,
): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [key, value] of buffered.range(opts)) out.push([key.toString('hex'), value.toString()]);
  return out;
}

describe('BufferedStore reads', () => {
  it('see pending puts over stored values, and fall through to the store otherwise', async () => {
    const buffered = new BufferedStore(storeWith([[k(1), 'stored-1'], [k(2), 'stored-2']]));
    buffered.put(k(1), v('pending-1'));
    buffered.put(k(3), v('pending-3'));
    expect((await buffered.get(k(1)))?.toString()).toBe('pending-1');
    expect((await buffered.get(k(2)))?.toString()).toBe('stored-2');
    expect((await buffered.get(k(3)))?.toString()).toBe('pending-3');
    expect(await buffered.get(k(4))).toBeNull();
  });

  it('see pending deletes', async () => {
    const buffered = new BufferedStore(storeWith([[k(1), 'stored-1']]));
    buffered.del(k(1));
    expect(await buffered.get(k(1))).toBeNull();
    buffered.put(k(1), v('again'));
    expect((await buffered.get(k(1)))?.toString()).toBe('again');
  });

  it('see range deletes over stored and earlier pending keys, but not later puts', async () => {
    const buffered = new BufferedStore(storeWith([[k(1, 1), 'a'], [k(1, 2), 'b'], [k(2, 1), 'c']]));
    buffered.put(k(1, 3), v('pending'));
    buffered.delRange(k(1), k(2));
    expect(await buffered.get(k(1, 1))).toBeNull();
    expect(await buffered.get(k(1, 3))).toBeNull();
    expect((await buffered.get(k(2, 1)))?.toString()).toBe('c');
    buffered.put(k(1, 2), v('rewritten'));
    expect((await buffered.get(k(1, 2)))?.toString()).toBe('rewritten');
  });
});

describe('BufferedStore.prefetch', () => {
  it('reads missing keys in one round trip and serves later gets from it', async () => {
    const store = storeWith([[k(1), 'stored-1'], [k(2), 'stored-2']]);
    const buffered = new BufferedStore(store);
    buffered.put(k(3), v('pending-3'));
    await buffered.prefetch([k(1), k(2), k(3), k(4)]);
    expect(store.reads).toBe(1);
    expect((await buffered.get(k(1)))?.toString()).toBe('stored-1');
    expect((await buffered.get(k(2)))?.toString()).toBe('stored-2');
    expect((await buffered.get(k(3)))?.toString()).toBe('pending-3');
    expect(await buffered.get(k(4))).toBeNull();
    expect(store.reads).toBe(1);
  });

  it('lets writes made after the prefetch win over prefetched values', async () => {
    const buffered = new BufferedStore(storeWith([[k(1), 'stored-1']]));
    await buffered.prefetch([k(1)]);
    buffered.put(k(1), v('new'));
    expect((await buffered.get(k(1)))?.toString()).toBe('new');
    buffered.delRange(k(1), k(2));
    expect(await buffered.get(k(1))).toBeNull();
  });
});

describe('BufferedStore.range', () => {
  const stored: [Buffer, string][] = [
    [k(1), 's1'],
    [k(3), 's3'],
    [k(5), 's5'],
    [k(7), 's7'],
  ];

  it('merges pending and stored entries in key order', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.put(k(4), v('p4'));
    buffered.put(k(0), v('p0'));
    buffered.put(k(5), v('p5'));
    expect(await collect(buffered)).toEqual([
      ['00', 'p0'],
      ['01', 's1'],
      ['03', 's3'],
      ['04', 'p4'],
      ['05', 'p5'],
      ['07', 's7'],
    ]);
  });

  it('orders keys as bytes, a prefix before its extensions', async () => {
    const buffered = new BufferedStore(storeWith([[k(1, 0), 'b'], [k(2), 'd']]));
    buffered.put(k(1), v('a'));
    buffered.put(k(1, 0xff), v('c'));
    expect((await collect(buffered)).map(([, value]) => value)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps to [gte, lt)', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.put(k(2), v('p2'));
    buffered.put(k(6), v('p6'));
    expect(await collect(buffered, { gte: k(2), lt: k(6) })).toEqual([
      ['02', 'p2'],
      ['03', 's3'],
      ['05', 's5'],
    ]);
  });

  it('honours reverse', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.put(k(4), v('p4'));
    expect((await collect(buffered, { ...ALL, reverse: true })).map(([key]) => key)).toEqual(['07', '05', '04', '03', '01']);
  });

  it('honours limit over the merged entries, forwards and in reverse', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.put(k(2), v('p2'));
    buffered.put(k(6), v('p6'));
    expect((await collect(buffered, { ...ALL, limit: 3 })).map(([key]) => key)).toEqual(['01', '02', '03']);
    expect((await collect(buffered, { ...ALL, limit: 3, reverse: true })).map(([key]) => key)).toEqual(['07', '06', '05']);
  });

  it('honours limit without pending writes', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    expect((await collect(buffered, { ...ALL, limit: 2 })).map(([key]) => key)).toEqual(['01', '03']);
    expect((await collect(buffered, { ...ALL, limit: 2, reverse: true })).map(([key]) => key)).toEqual(['07', '05']);
  });

  it('does not let deleted keys count against the limit', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.del(k(1));
    buffered.del(k(3));
    expect((await collect(buffered, { ...ALL, limit: 2 })).map(([key]) => key)).toEqual(['05', '07']);
  });

  it('hides deleted keys', async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.del(k(3));
    buffered.put(k(4), v('p4'));
    buffered.del(k(4));
    expect((await collect(buffered)).map(([key]) => key)).toEqual(['01', '05', '07']);
  });

  it("hides keys in a delRange'd span, stored or pending, but shows puts made after it", async () => {
    const buffered = new BufferedStore(storeWith(stored));
    buffered.put(k(4), v('p4'));
    buffered.delRange(k(3), k(6));
    expect((await collect(buffered)).map(([key]) => key)).toEqual(['01', '07']);
    buffered.put(k(5), v('p5-after'));
    expect(await collect(buffered)).toEqual([
      ['01', 's1'],
      ['05', 'p5-after'],
      ['07', 's7'],
    ]);
  });
});

describe('BufferedStore.flushInto', () => {
  it('hands every op, in order, to the unit for its store and clears the buffer', async () => {
    const store = storeWith([[k(1), 's1']]);
    const buffered = new BufferedStore(store);
    buffered.put(k(2), v('p2'));
    buffered.del(k(1));
    buffered.delRange(k(5), k(6));
    expect(buffered.hasWrites).toBe(true);

    const unit = new RecordingUnit();
    buffered.flushInto(unit);
    expect(unit.writes).toHaveLength(1);
    expect(unit.writes[0]!.store).toBe(store);
    expect(unit.writes[0]!.ops).toEqual([
      { type: 'put', key: k(2), value: v('p2') },
      { type: 'del', key: k(1) },
      { type: 'delRange', gte: k(5), lt: k(6) },
    ]);

    // Nothing pending any more: reads go to the (unchanged) store.
    expect(buffered.hasWrites).toBe(false);
    expect(await buffered.get(k(2))).toBeNull();
    expect((await buffered.get(k(1)))?.toString()).toBe('s1');
    expect(await collect(buffered)).toEqual([['01', 's1']]);
  });

  it('writes nothing when nothing is pending', () => {
    const unit = new RecordingUnit();
    new BufferedStore(new CountingStore()).flushInto(unit);
    expect(unit.writes).toEqual([]);
  });

  it('hands over ops that, applied to the store, give what the buffer showed', async () => {
    const store = storeWith([
      [k(1), 's1'],
      [k(2), 's2'],
      [k(3), 's3'],
      [k(9), 's9'],
    ]);
    const buffered = new BufferedStore(store);
    buffered.put(k(4), v('p4'));
    buffered.delRange(k(2), k(5));
    buffered.put(k(3), v('p3'));
    buffered.del(k(9));
    buffered.put(k(8), v('p8'));
    const shown = await collect(buffered);

    const unit = new RecordingUnit();
    buffered.flushInto(unit);
    store.apply(unit.writes[0]!.ops);
    expect(await collect(new BufferedStore(store))).toEqual(shown);
    expect(shown.map(([key]) => key)).toEqual(['01', '03', '08']);
  });
});

describe('BufferedStore savepoints', () => {
  it('roll back the puts, deletes and range deletes made after the savepoint, and keep those before', async () => {
    const store = storeWith([[k(1), 'stored-1'], [k(5), 'stored-5']]);
    const buffered = new BufferedStore(store);
    buffered.put(k(2), v('before'));
    const mark = buffered.savepoint();
    buffered.put(k(2), v('after'));
    buffered.put(k(3), v('after'));
    buffered.del(k(1));
    buffered.delRange(k(4), k(6));
    expect(await collect(buffered)).toEqual([['02', 'after'], ['03', 'after']]);
    buffered.rollback(mark);
    expect(await collect(buffered)).toEqual([['01', 'stored-1'], ['02', 'before'], ['05', 'stored-5']]);
    const unit = new RecordingUnit();
    buffered.flushInto(unit);
    store.apply(unit.writes[0]!.ops);
    expect(await collect(new BufferedStore(store))).toEqual([['01', 'stored-1'], ['02', 'before'], ['05', 'stored-5']]);
  });

  it('tell a failing store read apart as a StateStoreError', async () => {
    const store = storeWith([]);
    store.get = () => Promise.reject(new Error('disk gone'));
    await expect(new BufferedStore(store).get(k(1))).rejects.toBeInstanceOf(StateStoreError);
  });
});
