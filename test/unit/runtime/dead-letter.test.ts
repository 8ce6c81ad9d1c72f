import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogRecord, StateStore } from '../../../src/log/port.js';
import { SerdeError } from '../../../src/log/serde/errors.js';
import { KeyPartTooLongError, str, tupleKey } from '../../../src/log/store-keys.js';
import { TOPICS } from '../../../src/log/topics.js';
import { HEADER } from '../../../src/model/record-keys.js';
import { BufferedStore, StateStoreError } from '../../../src/runtime/buffered-store.js';
import { deadLetterRecord, MAX_REASON_CHARS, PoisonRecordPolicy, reasonOf, type BatchWork } from '../../../src/runtime/dead-letter.js';
import type { StageOutput } from '../../../src/runtime/processor.js';

const source: LogRecord = {
  topic: TOPICS.raw,
  partition: 4,
  offset: 17,
  key: Buffer.from('acme/t1'),
  value: Buffer.from([0xde, 0xad]),
  headers: { [HEADER.spanId]: 's1', [HEADER.reason]: 'forged' },
  timestamp: 123,
};

const emptyStore: StateStore = {
  name: 'empty',
  get: async () => null,
  getMany: async (keys) => keys.map(() => null),
  range: async function* () {},
};

function work(): BatchWork & { store: BufferedStore; outputs: StageOutput[] } {
  return { store: new BufferedStore(emptyStore), outputs: [] };
}

describe('dead-letter records', () => {
  it('keep the source key, value bytes and headers, and add where it came from, the stage and a bounded reason', () => {
    const record = deadLetterRecord(source, 'trace', 'x'.repeat(10_000));
    expect(record.key).toBe(source.key);
    expect(record.value).toBe(source.value);
    expect(record.timestamp).toBe(123);
    expect(record.headers).toMatchObject({
      [HEADER.spanId]: 's1',
      [HEADER.sourceTopic]: TOPICS.raw,
      [HEADER.sourcePartition]: '4',
      [HEADER.sourceOffset]: '17',
      [HEADER.stage]: 'trace',
    });
    expect(record.headers![HEADER.reason]!.length).toBe(MAX_REASON_CHARS);
  });

  it('classify key, encode and decode failures; anything else takes the caller’s class', () => {
    expect(() => str('S'.repeat(70_000))).toThrow(KeyPartTooLongError);
    expect(reasonOf(catching(() => tupleKey('b', 1, 'S'.repeat(70_000))), 'content')).toBe('key');
    expect(reasonOf(new SerdeError('x: cannot encode: y'), 'content')).toBe('encode');
    expect(reasonOf(new SerdeError('x: cannot decode: y'), 'content')).toBe('decode');
    expect(reasonOf(new TypeError('boom'), 'view_write')).toBe('view_write');
  });
});

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('PoisonRecordPolicy.isolate', () => {
  it('dead-letters a record that fails halfway, with none of its writes or outputs, and keeps what came before', async () => {
    const policy = new PoisonRecordPolicy('views', pino({ level: 'silent' }));
    const w = work();
    w.store.put(Buffer.from('a'), Buffer.from('kept'));
    w.outputs.push({ topic: TOPICS.audit, record: { key: null, value: Buffer.from('kept') } });
    let undone = false;
    const processed = await policy.isolate(
      w,
      source,
      async () => {
        w.store.put(Buffer.from('b'), Buffer.from('half'));
        w.outputs.push({ topic: TOPICS.audit, record: { key: null, value: Buffer.from('half') } });
        tupleKey('r', 'S'.repeat(70_000));
      },
      { classify: (err) => reasonOf(err, 'view_write'), undo: () => (undone = true) },
    );
    expect(processed).toBe(false);
    expect(undone).toBe(true);
    expect(await w.store.get(Buffer.from('b'))).toBeNull();
    expect(await w.store.get(Buffer.from('a'))).toEqual(Buffer.from('kept'));
    expect(w.outputs.map((o) => o.topic)).toEqual([TOPICS.audit, TOPICS.deadLetter]);
    expect(w.outputs[1]!.record.headers![HEADER.reason]).toMatch(/^key: .*70000 bytes/);
    expect(policy.counts.of('key')).toBe(1);
  });

  it('lets a record that succeeds through, and rethrows a failure of the state store itself', async () => {
    const policy = new PoisonRecordPolicy('tenant', pino({ level: 'silent' }));
    const w = work();
    expect(await policy.isolate(w, source, async () => undefined, { classify: () => 'content' })).toBe(true);
    const broken = new StateStoreError('tenants', new Error('disk gone'));
    await expect(policy.isolate(w, source, () => Promise.reject(broken), { classify: () => 'content' })).rejects.toBe(broken);
    expect(w.outputs).toEqual([]);
    expect(policy.counts.entries()).toEqual([]);
  });
});
