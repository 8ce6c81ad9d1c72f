import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/log/port.js';
import { TOPICS } from '../../../src/log/topics.js';
import { HEADER } from '../../../src/model/record-keys.js';
import { PoisonRecordError } from '../../../src/runtime/dead-letter.js';
import { MemoryLog } from '../../../src/runtime/memory-log.js';
import { positionKey, ProcessingRuntime, type PositionMode } from '../../../src/runtime/processing-runtime.js';
import type { Processor, ProcessorContext } from '../../../src/runtime/processor.js';

const logger = pino({ level: 'silent' });
const IN = 'in.v1';
const OUT = 'out.v1';

/**
 * Counts records per key in its store and emits `key=count` for each; a value "bad" is a
 * record it refuses (after writing, so the rollback shows).
 */
class Counter implements Processor {
  readonly calls: string[] = [];

  async process(records: readonly LogRecord[], context: ProcessorContext): Promise<void> {
    for (const record of records) {
      await context.isolate(
        record,
        async () => {
          const key = record.key!;
          const count = Number((await context.store.get(key))?.toString() ?? '0') + 1;
          context.store.put(key, Buffer.from(String(count)));
          context.emit(OUT, { key, value: Buffer.from(`${key.toString()}=${count}`) });
          if (record.value?.toString() === 'bad') throw new PoisonRecordError('content', 'bad value');
        },
        { classify: () => 'content' },
      );
    }
  }

  committed(_context: ProcessorContext, next: number | null): void {
    this.calls.push(`committed ${next}`);
  }

  commitFailed(): void {
    this.calls.push('commit failed');
  }
}

function runtimeOf(log: MemoryLog, processor: Processor, positions: PositionMode = 'store'): ProcessingRuntime {
  return new ProcessingRuntime(
    { name: 'counter', stage: 'tenant', log, group: 'g', topics: [IN], store: { name: 'counts' }, positions, logger },
    processor,
  );
}

const record = (key: string, value = 'ok') => ({ key: Buffer.from(key), value: Buffer.from(value) });
const values = (log: MemoryLog, topic: string) => log.records(topic).map((r) => r.value!.toString());

describe('the processing runtime', () => {
  it('commits a batch’s outputs, store writes and position together, and resumes after them', async () => {
    const log = new MemoryLog();
    const first = runtimeOf(log, new Counter());
    await first.start();
    await log.append(IN, [record('a'), record('b'), record('a')]);
    await log.drain();
    expect(values(log, OUT)).toEqual(['a=1', 'b=1', 'a=2']);
    expect((await first.store.get(positionKey(IN, 0)))?.readBigUInt64BE(0)).toBe(3n);
    await first.stop();

    // A new member over the same state reads on from the store's position, not from the start.
    const second = runtimeOf(log, new Counter());
    await second.start();
    await log.append(IN, [record('a')]);
    await log.drain();
    expect(values(log, OUT)).toEqual(['a=1', 'b=1', 'a=2', 'a=3']);
    expect(second.positions.get(IN, 0)).toBe(4);
    expect(await second.lag(IN)).toBe(0);
  });

  it('resumes from the state’s position when the group was reset to the start, and says so', async () => {
    const log = new MemoryLog();
    const first = runtimeOf(log, new Counter());
    await first.start();
    await log.append(IN, [record('a'), record('b')]);
    await log.drain();
    await first.stop();
    expect(first.resets).toEqual([]);

    log.resetGroupOffset('g', IN, 0, 0);
    const second = runtimeOf(log, new Counter());
    await second.start();
    await log.append(IN, [record('a')]);
    await log.drain();
    // Nothing emitted twice: the reset is reported, not obeyed.
    expect(values(log, OUT)).toEqual(['a=1', 'b=1', 'a=2']);
    expect(second.resets).toEqual([{ topic: IN, partition: 0, position: 2, groupOffset: 0 }]);
  });

  it('dead-letters a record whose content fails, drops what it wrote, and goes on with the next', async () => {
    const log = new MemoryLog();
    const runtime = runtimeOf(log, new Counter());
    await runtime.start();
    await log.append(IN, [record('a'), record('a', 'bad'), record('a')]);
    await log.drain();
    // The refused record's count and output are gone: the third record counts 2, not 3.
    expect(values(log, OUT)).toEqual(['a=1', 'a=2']);
    const [dead] = log.records(TOPICS.deadLetter);
    expect(dead?.value?.toString()).toBe('bad');
    expect(dead?.headers[HEADER.reason]).toBe('content: bad value');
    expect(dead?.headers[HEADER.sourceOffset]).toBe('1');
    expect(runtime.poison.counts.of('content')).toBe(1);
    expect(runtime.health.status).toEqual({ state: 'running' });
  });

  it('leaves nothing of a batch whose unit fails to commit, stops, and processes it once on the next start', async () => {
    const log = new MemoryLog();
    const failing = new Counter();
    const first = runtimeOf(log, failing);
    await first.start();
    await log.append(IN, [record('a'), record('a')]);
    log.failCommits = 1;
    await log.drain();
    await expect(first.done).rejects.toThrow('commit failed');
    expect(failing.calls).toEqual(['commit failed']);
    expect(values(log, OUT)).toEqual([]);
    expect(await first.store.get(Buffer.from('a'))).toBeNull();
    await expect.poll(() => first.health.status.state).toBe('failed');

    const second = runtimeOf(log, new Counter());
    await second.start();
    await log.drain();
    expect(values(log, OUT)).toEqual(['a=1', 'a=2']);
  });

  it('replays from the start at every start when the processor keeps its state in memory, refusing each record once', async () => {
    const log = new MemoryLog();
    const seen: string[] = [];
    const inMemory: Processor<null> = {
      async process(records, context) {
        for (const r of records) {
          if (r.value?.toString() === 'bad') context.deadLetter(r, 'decode', 'not a record');
          else seen.push(r.key!.toString());
        }
      },
    };
    const start = async () => {
      const runtime = new ProcessingRuntime<null>({ name: 'reader', stage: 'calibration', log, group: 'r', topics: [IN], positions: 'replay', logger }, inMemory);
      await runtime.start();
      await log.drain();
      await runtime.stop();
    };
    await log.append(IN, [record('a'), record('x', 'bad'), record('b')]);
    await start();
    await start();
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
    expect(log.records(TOPICS.deadLetter)).toHaveLength(1);
    expect((await log.committedOffsets('r', IN)).get(0)).toBe(3);
  });

  it('commits what idle work wrote without moving the position', async () => {
    const log = new MemoryLog();
    const timed: Processor = {
      async process() {},
      async idle(context) {
        context.emit(OUT, { key: null, value: Buffer.from('tick') });
      },
    };
    const runtime = runtimeOf(log, timed);
    await runtime.start();
    await log.drain();
    expect(values(log, OUT)).toEqual(['tick']);
    expect(await log.committedOffsets('g', IN)).toEqual(new Map());
    expect(runtime.positions.get(IN, 0)).toBe(0);
  });
});
