import { describe, expect, it } from 'vitest';
import { WindowIndex } from '../../../../src/stages/trace/window-index.js';
import type { WindowMeta } from '../../../../src/stages/trace/window-meta.js';
import { traceRef } from '../../../../src/stages/trace/window-keys.js';

const meta = (traceId: string, deadlineMs: number, state: WindowMeta['state'] = 'open'): WindowMeta => ({
  tenantId: 'acme',
  traceId,
  revision: 1,
  state,
  spanCount: 1,
  lastArrivalMs: deadlineMs - 10,
  closedAtMs: 0,
  deadlineMs,
});
const ref = (traceId: string) => traceRef('acme', traceId);

describe('window index', () => {
  it('hands out copies: changing one does not change the index until it is put back', () => {
    const index = new WindowIndex();
    index.load(ref('a'), meta('a', 100));
    const copy = index.get(ref('a'))!;
    copy.spanCount = 5;
    expect(index.get(ref('a'))!.spanCount).toBe(1);
    index.put(ref('a'), copy);
    expect(index.get(ref('a'))!.spanCount).toBe(5);
  });

  it('says which windows are due by their current deadline, each once, earliest first', () => {
    const index = new WindowIndex();
    index.load(ref('a'), meta('a', 100));
    index.load(ref('b'), meta('b', 50));
    index.put(ref('a'), meta('a', 300)); // moved on: its entry for 100 is stale
    index.put(ref('c'), meta('c', 80));
    index.put(ref('c'), meta('c', 90));
    index.put(ref('c'), meta('c', 80)); // back to 80: two entries, one window
    const due = index.due(200);
    expect(due.map((w) => w.meta.traceId)).toEqual(['b', 'c']);
    expect(due[0]!.ref.equals(ref('b'))).toBe(true);
    expect(index.nextDeadlineMs).toBe(300);
  });

  it('keeps a batch apart until commit, and a rolled-back record leaves nothing', () => {
    const index = new WindowIndex();
    index.load(ref('a'), meta('a', 100));
    index.put(ref('b'), meta('b', 60));
    const mark = index.savepoint();
    index.put(ref('a'), { ...meta('a', 100), spanCount: 9 });
    index.delete(ref('b'));
    index.put(ref('c'), meta('c', 70));
    index.rollback(mark);
    expect(index.get(ref('a'))!.spanCount).toBe(1);
    expect(index.has(ref('b'))).toBe(true);
    expect(index.has(ref('c'))).toBe(false);
    expect([...index.changes()].map(([r, m]) => [r.equals(ref('b')), m?.traceId])).toEqual([[true, 'b']]);
    expect(index.size).toBe(1);
    index.commit();
    expect(index.size).toBe(2);
    expect([...index.changes()]).toEqual([]);
  });

  it('puts the windows a discarded batch took as due back, so they come due again', () => {
    const index = new WindowIndex();
    index.load(ref('a'), meta('a', 100));
    expect(index.due(100).map((w) => w.meta.traceId)).toEqual(['a']);
    index.put(ref('a'), meta('a', 5_000, 'closed'));
    index.discard();
    expect(index.get(ref('a'))!.state).toBe('open');
    expect(index.due(100).map((w) => w.meta.traceId)).toEqual(['a']);
  });
});
