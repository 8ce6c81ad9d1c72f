import { describe, expect, it } from 'vitest';
import { criticalPath } from '../../../src/measures/critical-path.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';

const MS = 1_000_000n;
const span = (spanId: string, parentSpanId: string, startMs: number, endMs: number): SemanticSpan =>
  semanticSpan({ spanId, parentSpanId, startNs: BigInt(startMs) * MS, endNs: BigInt(endMs) * MS });
const ms = (ns: bigint) => Number(ns) / 1e6;

describe('criticalPath', () => {
  it('is empty for no spans', () => {
    expect(criticalPath([])).toEqual({ durationNs: 0n, spanIds: [] });
  });

  it('follows the parallel child that finished last, and every sequential one', () => {
    // root 0-100: plan 0-20, then parallel search 20-60 and fetch 20-80 (each with a child), then answer 80-100.
    const path = criticalPath([
      span('root', '', 0, 100),
      span('plan', 'root', 0, 20),
      span('search', 'root', 20, 60),
      span('search.http', 'search', 25, 55),
      span('fetch', 'root', 20, 80),
      span('fetch.http', 'fetch', 30, 75),
      span('answer', 'root', 80, 100),
    ]);
    expect(path.spanIds).toEqual(['root', 'plan', 'fetch', 'fetch.http', 'answer']);
    expect(ms(path.durationNs)).toBe(100);
  });

  it('takes an overlapping earlier sibling from the point the later one started', () => {
    const path = criticalPath([span('root', '', 0, 100), span('a', 'root', 0, 50), span('b', 'root', 40, 100)]);
    expect(path.spanIds).toEqual(['root', 'a', 'b']);
    expect(ms(path.durationNs)).toBe(100);
  });

  it('extends a parent by a child that outlives it', () => {
    const path = criticalPath([span('root', '', 0, 40), span('late', 'root', 10, 60)]);
    expect(path.spanIds).toEqual(['root', 'late']);
    expect(ms(path.durationNs)).toBe(60);
  });

  it('leaves out the gaps between top-level spans, orphans included', () => {
    const path = criticalPath([span('one', '', 0, 10), span('orphan', 'never-seen', 30, 50), span('child', 'orphan', 35, 45)]);
    expect(path.spanIds).toEqual(['one', 'orphan', 'child']);
    expect(ms(path.durationNs)).toBe(30);
  });

  it('survives parent cycles and deep chains', () => {
    const cyclic = criticalPath([span('a', 'b', 0, 10), span('b', 'a', 2, 8)]);
    expect(cyclic.spanIds).toEqual(['a', 'b']);
    expect(ms(cyclic.durationNs)).toBe(10);

    const chain: SemanticSpan[] = [];
    for (let i = 0; i < 20_000; i++) chain.push(span(`s${i}`, i === 0 ? '' : `s${i - 1}`, i, 40_000 - i));
    const deep = criticalPath(chain);
    expect(deep.spanIds).toHaveLength(20_000);
    expect(ms(deep.durationNs)).toBe(40_000);
  });

  it('handles a wide flat trace of sequential children in reasonable time', () => {
    const spans: SemanticSpan[] = [span('root', '', 0, 20_000)];
    for (let i = 0; i < 20_000; i++) spans.push(span(`c${i}`, 'root', i, i + 1));
    const path = criticalPath(spans);
    expect(path.spanIds).toHaveLength(20_001);
    expect(ms(path.durationNs)).toBe(20_000);
  });
});
