import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../../../src/stages/trace/deadline-heap.js';
import { seededRandom } from '../../../support/seeded-random.js';

describe('deadline heap', () => {
  it('pops entries earliest deadline first, then by key, whatever the order they were pushed in', () => {
    const random = seededRandom(7);
    const pushed: { deadlineMs: number; key: string }[] = [];
    const heap = new DeadlineHeap();
    for (let i = 0; i < 500; i++) {
      const entry = { deadlineMs: Math.floor(random() * 50), key: `k${Math.floor(random() * 1000)}` };
      pushed.push(entry);
      heap.push(entry.deadlineMs, entry.key);
    }
    const popped = [];
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) popped.push(entry);
    const expected = [...pushed].sort((a, b) => a.deadlineMs - b.deadlineMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(popped).toEqual(expected);
    expect(heap.size).toBe(0);
  });

  it('pops only what is due, and keeps the rest', () => {
    const heap = new DeadlineHeap();
    for (const d of [30, 10, 20, 40, 10]) heap.push(d, `t${d}`);
    expect(heap.popDue(20).map((e) => e.deadlineMs)).toEqual([10, 10, 20]);
    expect(heap.peek()).toEqual({ deadlineMs: 30, key: 't30' });
    expect(heap.popDue(5)).toEqual([]);
    expect(heap.size).toBe(2);
  });
});
