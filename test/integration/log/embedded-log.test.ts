import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setImmediate } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import { partitionFor } from '../../../src/log/partitioner.js';
import type { Batch, LogRecord, OutgoingRecord } from '../../../src/log/port.js';
import { tpKey } from '../../../src/log/port.js';
import { consumeUntil, declareTopic, tempDir, text } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const appendChild = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url));

describe('embedded log', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const opened: EmbeddedLog[] = [];

  async function open(sync: 'fsync' | 'none' = 'fsync'): Promise<EmbeddedLog> {
    const log = await createEmbeddedLog({ dataDir: dir.path, sync });
    opened.push(log);
    return log;
  }

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    for (const log of opened.splice(0)) await log.close();
    await dir.remove();
  });

  it('round-trips records with keys, headers, timestamps and nulls', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('round-trip', 3)]);
    const before = Date.now();
    const records: OutgoingRecord[] = [
      { key: Buffer.from('tenant/trace-1'), value: Buffer.from('span 1'), headers: { 'content-type': 'avro', tenant: 't1' }, timestamp: 1_700_000_000_000 },
      { key: null, value: Buffer.from('no key'), partition: 2 },
      { key: Buffer.from('tenant/trace-1'), value: null, headers: {} },
    ];
    const results = await log.append('round-trip', records);
    const after = Date.now();

    expect(results.map((r) => r.topic)).toEqual(['round-trip', 'round-trip', 'round-trip']);
    const keyed = partitionFor(Buffer.from('tenant/trace-1'), 3);
    expect(results[0]).toMatchObject({ partition: keyed, offset: 0 });
    expect(results[1]).toMatchObject({ partition: 2 });
    expect(results[2]).toMatchObject({ partition: keyed, offset: 1 });

    const read = await consumeUntil(log, 'reader', ['round-trip'], (seen) => seen.length === 3);
    const byOffset = new Map(read.map((r) => [tpKey(r.topic, r.partition) + '@' + r.offset, r]));
    const first = byOffset.get(`${tpKey('round-trip', keyed)}@0`);
    expect(first).toMatchObject({ headers: { 'content-type': 'avro', tenant: 't1' }, timestamp: 1_700_000_000_000 });
    expect(text(first?.key ?? null)).toBe('tenant/trace-1');
    expect(text(first?.value ?? null)).toBe('span 1');
    const third = byOffset.get(`${tpKey('round-trip', keyed)}@1`);
    expect(third?.value).toBeNull();
    expect(third?.timestamp).toBeGreaterThanOrEqual(before);
    expect(third?.timestamp).toBeLessThanOrEqual(after);
    const unkeyed = read.find((r) => r.key === null);
    expect(unkeyed).toMatchObject({ partition: 2, headers: {} });
    expect(await log.endOffsets('round-trip')).toEqual(
      [0, 1, 2].map((p) => results.filter((r) => r.partition === p).length),
    );
  });

  it('keeps per-key order across many concurrent appends', async () => {
    const log = await open('none');
    await log.ensureTopics([declareTopic('ordered', 4)]);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const sequence = new Map(keys.map((k) => [k, 0]));
    const appends: Promise<unknown>[] = [];
    for (let call = 0; call < 100; call++) {
      const batch = Array.from({ length: 1 + (call % 7) }, (_, i) => {
        const key = keys[(call * 7 + i * 3) % keys.length] ?? 'key-0';
        const n = sequence.get(key) ?? 0;
        sequence.set(key, n + 1);
        return { key: Buffer.from(key), value: Buffer.from(String(n)) };
      });
      appends.push(log.append('ordered', batch));
    }
    await Promise.all(appends);
    const total = [...sequence.values()].reduce((a, b) => a + b, 0);

    const read = await consumeUntil(log, 'ordering', ['ordered'], (seen) => seen.length === total);
    const seenPerKey = new Map<string, number[]>();
    for (const record of read) {
      const key = text(record.key) ?? '';
      expect(record.partition).toBe(partitionFor(record.key, 4));
      seenPerKey.set(key, [...(seenPerKey.get(key) ?? []), Number(text(record.value))]);
    }
    for (const [key, values] of seenPerKey) {
      expect(values, key).toEqual(Array.from({ length: sequence.get(key) ?? 0 }, (_, i) => i));
    }
  });

  it('keeps records and offsets across close and reopen', async () => {
    let log = await open();
    await log.ensureTopics([declareTopic('persistent', 2)]);
    await log.append('persistent', [
      { key: null, value: Buffer.from('a'), partition: 0 },
      { key: null, value: Buffer.from('b'), partition: 0 },
      { key: null, value: Buffer.from('c'), partition: 1 },
    ]);
    await log.close();
    await log.close(); // idempotent

    log = await open();
    expect(log.partitionsOf('persistent')).toBe(2);
    expect(await log.endOffsets('persistent')).toEqual([2, 1]);
    const next = await log.append('persistent', [{ key: null, value: Buffer.from('d'), partition: 0 }]);
    expect(next[0]?.offset).toBe(2);
    const read = await consumeUntil(log, 'reopen', ['persistent'], (seen) => seen.length === 4);
    expect(read.filter((r) => r.partition === 0).map((r) => [r.offset, text(r.value)])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'd'],
    ]);
  });

  it('resumes a group after its committed offsets when restarted', async () => {
    let log = await open();
    await log.ensureTopics([declareTopic('resume', 2)]);
    await log.append('resume', Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`old-${i}`), partition: i % 2 })));
    await consumeUntil(log, 'resumer', ['resume'], (seen) => seen.length === 10);
    expect(await log.committedOffsets('resumer', 'resume')).toEqual(new Map([[0, 5], [1, 5]]));
    await log.close();

    log = await open();
    expect(await log.committedOffsets('resumer', 'resume')).toEqual(new Map([[0, 5], [1, 5]]));
    await log.append('resume', [{ key: null, value: Buffer.from('new'), partition: 1 }]);
    const assigned: string[] = [];
    const read = await consumeUntil(log, 'resumer', ['resume'], (seen) => seen.length >= 1, {
      async onAssigned(partitions) {
        assigned.push(...partitions.map((p) => tpKey(p.topic, p.partition)));
      },
    });
    expect(assigned).toEqual(['resume:0', 'resume:1']);
    expect(read.map((r) => [r.partition, r.offset, text(r.value)])).toEqual([[1, 5, 'new']]);
  });

  it('starts from the offsets onAssigned returns', async () => {
    const log = await open('none');
    await log.ensureTopics([declareTopic('chosen', 1)]);
    await log.append('chosen', Array.from({ length: 6 }, (_, i) => ({ key: null, value: Buffer.from(String(i)) })));
    const read = await consumeUntil(log, 'chooser', ['chosen'], (seen) => seen.length === 2, {
      async onAssigned() {
        return new Map([[tpKey('chosen', 0), 4]]);
      },
    });
    expect(read.map((r) => r.offset)).toEqual([4, 5]);
  });

  it('commits a unit’s outputs, store writes and consumed offsets together', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('unit-in', 1), declareTopic('unit-out', 2)]);
    const store = await log.openStore('stage', 'counts');
    await log.append('unit-in', ['x', 'y', 'x'].map((k) => ({ key: Buffer.from(k), value: Buffer.from('1') })));

    const consumer = await log.consume(
      { group: 'stage', topics: ['unit-in'] },
      {
        async eachBatch(batch: Batch) {
          const unit = log.beginUnit('stage');
          const counts = new Map<string, number>();
          for (const record of batch.records) counts.set(text(record.key) ?? '', (counts.get(text(record.key) ?? '') ?? 0) + 1);
          for (const [key, count] of counts) {
            unit.write(store, [{ type: 'put', key: Buffer.from(key), value: Buffer.from(String(count)) }]);
            unit.append('unit-out', [{ key: Buffer.from(key), value: Buffer.from(String(count)) }]);
          }
          unit.write(store, [{ type: 'put', key: Buffer.from('zz-marker'), value: Buffer.from('m') }]);
          unit.consumed(batch.topic, batch.partition, (batch.records.at(-1)?.offset ?? 0) + 1);
          await unit.commit();
          await expect(unit.commit()).rejects.toThrow(/already committed/);
        },
      },
    );
    const out = await consumeUntil(log, 'downstream', ['unit-out'], (seen) => seen.length === 2);
    await consumer.stop();

    expect(Object.fromEntries(out.map((r) => [text(r.key), text(r.value)]))).toEqual({ x: '2', y: '1' });
    expect(text(await store.get(Buffer.from('x')))).toBe('2');
    expect(await log.committedOffsets('stage', 'unit-in')).toEqual(new Map([[0, 3]]));

    const entries: [string, string][] = [];
    for await (const [key, value] of store.range({ gte: Buffer.from('a'), lt: Buffer.from('z') })) entries.push([key.toString(), value.toString()]);
    expect(entries).toEqual([
      ['x', '2'],
      ['y', '1'],
    ]);
    const reversed: string[] = [];
    for await (const [key] of store.range({ gte: Buffer.alloc(0), lt: Buffer.from([0xff]), reverse: true, limit: 2 })) reversed.push(key.toString());
    expect(reversed).toEqual(['zz-marker', 'y']);

    const cleanup = log.beginUnit('stage');
    cleanup.write(store, [
      { type: 'del', key: Buffer.from('zz-marker') },
      { type: 'delRange', gte: Buffer.from('x'), lt: Buffer.from('y') },
    ]);
    await cleanup.commit();
    expect(await store.get(Buffer.from('x'))).toBeNull();
    expect(await store.get(Buffer.from('zz-marker'))).toBeNull();
    expect(text(await store.get(Buffer.from('y')))).toBe('1');
  });

  it('shows nothing of a unit that is never committed, not even after a restart', async () => {
    let log = await open();
    await log.ensureTopics([declareTopic('pending-in', 1), declareTopic('pending-out', 1)]);
    let store = await log.openStore('stage', 'state');
    const unit = log.beginUnit('stage');
    unit.append('pending-out', [{ key: Buffer.from('k'), value: Buffer.from('v') }]);
    unit.write(store, [{ type: 'put', key: Buffer.from('k'), value: Buffer.from('v') }]);
    unit.consumed('pending-in', 0, 10);

    expect(await log.endOffsets('pending-out')).toEqual([0]);
    expect(await store.get(Buffer.from('k'))).toBeNull();
    expect(await log.committedOffsets('stage', 'pending-in')).toEqual(new Map());

    await log.close();
    log = await open();
    store = await log.openStore('stage', 'state');
    expect(await log.endOffsets('pending-out')).toEqual([0]);
    expect(await store.get(Buffer.from('k'))).toBeNull();
    expect(await log.committedOffsets('stage', 'pending-in')).toEqual(new Map());
  });

  it('refuses store writes from another group and names unknown topics', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('known', 1)]);
    const store = await log.openStore('owner', 'state');
    const unit = log.beginUnit('intruder');
    expect(() => unit.write(store, [])).toThrow(/not opened by this log for group intruder/);
    expect(() => unit.append('missing', [{ key: null, value: null }])).toThrow(/unknown topic "missing"/);
    expect(() => log.partitionsOf('missing')).toThrow(/unknown topic "missing"/);
    await expect(log.append('missing', [])).rejects.toThrow(/unknown topic/);
    await expect(log.append('known', [{ key: null, value: null, partition: 1 }])).rejects.toThrow(/has 1 partitions/);
    await expect(log.consume({ group: 'g', topics: ['missing'] }, { eachBatch: async () => undefined })).rejects.toThrow(/unknown topic/);
    expect(() => log.beginUnit('bad\0group')).toThrow(/invalid group name/);
  });

  it('grows partitions, refuses to shrink them and assigns new partitions to running consumers', async () => {
    const log = await open('none');
    expect(await log.ensureTopics([declareTopic('growing', 2)])).toEqual([]);
    expect(await log.ensureTopics([declareTopic('growing', 2)])).toEqual([]);
    const assigned: number[] = [];
    const read: LogRecord[] = [];
    const consumer = await log.consume(
      { group: 'grower', topics: ['growing'] },
      {
        async onAssigned(partitions) {
          assigned.push(...partitions.map((p) => p.partition));
        },
        async eachBatch(batch) {
          read.push(...batch.records);
        },
      },
    );
    expect(await log.ensureTopics([declareTopic('growing', 4)])).toEqual([]);
    expect(log.partitionsOf('growing')).toBe(4);
    const problems = await log.ensureTopics([declareTopic('growing', 3)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/growing.*3 partitions.*has 4/);
    expect(log.partitionsOf('growing')).toBe(4);

    await log.append('growing', [{ key: null, value: Buffer.from('late'), partition: 3 }]);
    await expect.poll(() => read.length, { timeout: 5_000 }).toBe(1);
    await consumer.stop();
    expect(assigned).toEqual([0, 1, 2, 3]);
    expect(read[0]?.partition).toBe(3);
  });

  it('wakes idle consumers, calls onIdle and runs consumers of several groups at once', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('live', 2)]);
    const idleCalls: number[] = [];
    const readBy = { a: 0, b: 0 };
    const first = consumeUntil(log, 'group-a', ['live'], (seen) => (readBy.a = seen.length) === 20, {
      async onIdle(partitions) {
        idleCalls.push(partitions.length);
      },
    });
    const second = consumeUntil(log, 'group-b', ['live'], (seen) => (readBy.b = seen.length) === 20);
    for (let i = 0; i < 20; i++) {
      await log.append('live', [{ key: Buffer.from(`k${i}`), value: Buffer.from(String(i)) }]);
      if (i % 5 === 0) {
        // Both groups catch up and group-a goes idle; the next append has to wake them.
        const idleBefore = idleCalls.length;
        await expect.poll(() => readBy, { timeout: 5_000 }).toEqual({ a: i + 1, b: i + 1 });
        await expect.poll(() => idleCalls.length, { timeout: 5_000 }).toBeGreaterThan(idleBefore);
      }
    }
    const [a, b] = await Promise.all([first, second]);
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(idleCalls.length).toBeGreaterThan(0);
    expect(idleCalls.every((n) => n === 2)).toBe(true);
  });

  it('delivers every record of concurrent appends exactly once to a live consumer', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('busy', 2)]);
    const reading = consumeUntil(log, 'live-reader', ['busy'], (seen) => seen.length >= 1000);
    const appends = Array.from({ length: 250 }, (_, call) =>
      log.append('busy', Array.from({ length: 4 }, (_, i) => ({ key: Buffer.from(`k${(call + i) % 13}`), value: Buffer.from(`${call}-${i}`) }))),
    );
    await Promise.all(appends);
    const read = await reading;
    const seen = read.map((r) => `${r.partition}@${r.offset}`);
    expect(new Set(seen).size).toBe(1000);
    expect(read).toHaveLength(1000);
    expect(new Set(read.map((r) => text(r.value))).size).toBe(1000);
  });

  it('reports a failing handler through done and keeps delivering one batch at a time', async () => {
    const log = await open('none');
    await log.ensureTopics([declareTopic('failing', 3)]);
    await log.append('failing', Array.from({ length: 30 }, (_, i) => ({ key: null, value: Buffer.from(String(i)), partition: i % 3 })));
    let active = 0;
    let maxActive = 0;
    let batches = 0;
    const consumer = await log.consume(
      { group: 'fragile', topics: ['failing'], maxBatchRecords: 4 },
      {
        async eachBatch(batch) {
          active++;
          maxActive = Math.max(maxActive, active);
          expect(batch.records.length).toBeLessThanOrEqual(4);
          // Yield to the event loop: a second batch handed over concurrently would start here.
          await setImmediate();
          active--;
          if (++batches === 5) throw new Error('detector exploded');
        },
      },
    );
    await expect(consumer.done).rejects.toThrow('detector exploded');
    await consumer.stop();
    expect(maxActive).toBe(1);
    expect(batches).toBe(5);
  });

  it('shares fsyncs between concurrent appends (group commit)', async () => {
    const log = await open('fsync');
    await log.ensureTopics([declareTopic('grouped', 4)]);
    const rounds = log.fsyncRounds;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append('grouped', [{ key: Buffer.from(`k${i}`), value: Buffer.alloc(100) }])),
    );
    const used = log.fsyncRounds - rounds;
    expect(results).toHaveLength(200);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(200);
    expect((await log.endOffsets('grouped')).reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('does not fsync with sync: none', async () => {
    const log = await open('none');
    await log.ensureTopics([declareTopic('unsynced', 1)]);
    await log.append('unsynced', [{ key: null, value: Buffer.from('v') }]);
    expect(log.fsyncRounds).toBe(0);
  });

  it('deletes only records older than the retention and keeps counting offsets', async () => {
    let log = await open();
    const hour = 3_600_000;
    await log.ensureTopics([
      declareTopic('retained', 2, { retentionMs: hour }),
      declareTopic('compacted', 1, { cleanupPolicy: 'compact', retentionMs: hour }),
      declareTopic('forever', 1),
    ]);
    const now = Date.now();
    const old = now - 2 * hour;
    await log.append('retained', [
      ...[0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`old-${i}`), partition: 0, timestamp: old })),
      { key: null, value: Buffer.from('new-0'), partition: 0, timestamp: now },
      { key: null, value: Buffer.from('old-p1'), partition: 1, timestamp: old },
    ]);
    await log.append('compacted', [{ key: Buffer.from('k'), value: Buffer.from('old'), timestamp: old }]);
    await log.append('forever', [{ key: Buffer.from('k'), value: Buffer.from('old'), timestamp: old }]);

    expect(await log.sweepRetention(now)).toBe(4);
    expect(await log.sweepRetention(now)).toBe(0);
    const read = await consumeUntil(log, 'after-retention', ['retained', 'compacted', 'forever'], (seen) => seen.length === 3);
    expect(read.map((r) => `${r.topic}/${r.partition}@${r.offset}=${text(r.value)}`).sort()).toEqual([
      'compacted/0@0=old',
      'forever/0@0=old',
      'retained/0@3=new-0',
    ]);

    // Partition 1 is empty now; a restart must not hand out offset 0 again.
    await log.close();
    log = await open();
    expect(await log.endOffsets('retained')).toEqual([4, 1]);
    const [appended] = await log.append('retained', [{ key: null, value: Buffer.from('next'), partition: 1 }]);
    expect(appended?.offset).toBe(1);
  });

  it('reports health and rejects work after close', async () => {
    const log = await open();
    await log.ensureTopics([declareTopic('closing', 1)]);
    const consumer = await log.consume({ group: 'g', topics: ['closing'] }, { eachBatch: async () => undefined });
    expect(await log.healthy()).toBe(true);
    await Promise.all([log.close(), log.close()]);
    await consumer.done;
    expect(await log.healthy()).toBe(false);
    await expect(log.append('closing', [{ key: null, value: null }])).rejects.toThrow(/closed/);
    await expect(log.consume({ group: 'g', topics: ['closing'] }, { eachBatch: async () => undefined })).rejects.toThrow(/closed/);
  });

  it('refuses a second process on the same data directory', async () => {
    await open();
    await expect(createEmbeddedLog({ dataDir: dir.path })).rejects.toThrow(/cannot open the embedded log/);
  });

  describe.each(['fsync', 'none'] as const)('after SIGKILL (sync: %s)', (sync) => {
    it('keeps every acknowledged record', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', appendChild, dir.path, sync], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

      const acked: { partition: number; offset: number; value: string }[] = [];
      try {
        for await (const line of createInterface({ input: child.stdout })) {
          if (line === 'ready') continue;
          const [partition, offset, value] = line.split(' ');
          acked.push({ partition: Number(partition), offset: Number(offset), value: value ?? '' });
          if (acked.length >= 600 && !child.killed) child.kill('SIGKILL');
        }
      } finally {
        if (!child.killed) child.kill('SIGKILL'); // never leave the child running
      }
      expect(await exited, stderr).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThanOrEqual(600);

      const log = await open();
      const stored = new Map<string, string | null>();
      const ends = await log.endOffsets('durability');
      const total = ends.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(acked.length);
      // Recovery put each end one past a stored record, so reading up to it reads everything.
      const lastOffsets = ends.map((end, partition) => ({ partition, offset: end - 1 })).filter((l) => l.offset >= 0);
      const read = await consumeUntil(log, 'verifier', ['durability'], (seen) =>
        lastOffsets.every((l) => seen.some((r) => r.partition === l.partition && r.offset === l.offset)),
      );
      for (const record of read) stored.set(`${record.partition}:${record.offset}`, text(record.value));
      const missing = acked.filter((a) => stored.get(`${a.partition}:${a.offset}`) !== a.value);
      expect(missing).toEqual([]);
    }, 60_000);
  });
});
