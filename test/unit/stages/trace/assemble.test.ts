import { describe, expect, it } from 'vitest';
import { spanTree } from '../../../../src/api/present.js';
import type { CanonicalSpan } from '../../../../src/model/span.js';
import { assembleTrace } from '../../../../src/stages/trace/assemble.js';
import { canonicalSpan } from '../../semantic/fixtures.js';

const MS = 1_000_000n;

/** A span starting `startMs` milliseconds in. */
function span(spanId: string, parentSpanId: string, startMs = 0): CanonicalSpan {
  return canonicalSpan({ spanId, parentSpanId, name: spanId, start: 1_700_000_000_000n * MS + BigInt(startMs) * MS });
}

const childrenOf = (tree: ReturnType<typeof assembleTrace>) => Object.fromEntries([...tree.children].map(([k, v]) => [k, [...v]]));

describe('assembleTrace', () => {
  it('links children to parents, in start order', () => {
    const tree = assembleTrace([span('c2', 'root', 20), span('g1', 'c1', 15), span('root', ''), span('c1', 'root', 10)]);
    expect(tree.roots).toEqual(['root']);
    expect(childrenOf(tree)).toEqual({ root: ['c1', 'c2'], c1: ['g1'] });
    expect(tree.syntheticChildren).toEqual([]);
    expect(tree.orphanSpanIds).toEqual([]);
    expect(tree.cycleSpanIds).toEqual([]);
  });

  it('keeps orphans (parent never seen) under the synthetic root, with their own subtrees', () => {
    const tree = assembleTrace([span('root', ''), span('lost', 'never-sent', 5), span('under-lost', 'lost', 6)]);
    expect(tree.roots).toEqual(['root']);
    expect(tree.orphanSpanIds).toEqual(['lost']);
    expect(tree.syntheticChildren).toEqual(['lost']);
    expect(childrenOf(tree)).toEqual({ lost: ['under-lost'] });
  });

  it('breaks a self-parent link and flags the span', () => {
    const tree = assembleTrace([span('root', ''), span('self', 'self', 1), span('kid', 'self', 2)]);
    expect(tree.cycleSpanIds).toEqual(['self']);
    expect(tree.syntheticChildren).toEqual(['self']);
    expect(childrenOf(tree)).toEqual({ self: ['kid'] });
  });

  it('breaks a longer cycle at its smallest span id, whatever the input order', () => {
    const spans = [span('b', 'a', 1), span('c', 'b', 2), span('a', 'c', 3), span('tail', 'b', 4), span('r', '')];
    const trees = [spans, [...spans].reverse(), [spans[2]!, spans[0]!, spans[4]!, spans[3]!, spans[1]!]].map(assembleTrace);
    for (const tree of trees) {
      expect(tree.cycleSpanIds).toEqual(['a']);
      expect(tree.syntheticChildren).toEqual(['a']);
      expect(tree.roots).toEqual(['r']);
      expect(childrenOf(tree)).toEqual({ a: ['b'], b: ['c', 'tail'] });
    }
  });

  it('breaks each of several cycles once', () => {
    const tree = assembleTrace([span('x', 'y'), span('y', 'x'), span('p', 'q'), span('q', 'p'), span('z', 'z')]);
    expect(tree.cycleSpanIds).toEqual(['p', 'x', 'z']);
    expect(tree.roots).toEqual([]);
  });

  it('assembles a 20,000-span chain without recursion', () => {
    const n = 20_000;
    const spans = Array.from({ length: n }, (_, i) => span(`s${String(i).padStart(5, '0')}`, i === 0 ? '' : `s${String(i - 1).padStart(5, '0')}`, i));
    const tree = assembleTrace(spans.reverse());
    expect(tree.roots).toEqual(['s00000']);
    expect(tree.children.size).toBe(n - 1);
    expect(tree.children.get('s19998')).toEqual(['s19999']);
    // The same chain closed into a cycle (s00000's parent is the last span) is cut once.
    const cyclic = assembleTrace(spans.map((s) => (s.spanId === 's00000' ? { ...s, parentSpanId: 's19999' } : s)));
    expect(cyclic.cycleSpanIds).toEqual(['s00000']);
    expect(cyclic.roots).toEqual([]);
  });
});

describe('spanTree (API trace detail)', () => {
  it('shows orphans and cut cycle members under a synthetic root, flagged', () => {
    const top = spanTree([span('root', ''), span('kid', 'root', 1), span('lost', 'gone', 2), span('self', 'self', 3)]);
    expect(top).toHaveLength(2);
    expect(top[0]).toMatchObject({ span_id: 'root', orphan: false, cycle: false, children: [{ span_id: 'kid', children: [] }] });
    expect(top[1]).toMatchObject({
      span_id: null,
      synthetic: true,
      children: [
        { span_id: 'lost', orphan: true, cycle: false },
        { span_id: 'self', orphan: false, cycle: true },
      ],
    });
  });

  it('has no synthetic root when every parent is present', () => {
    expect(spanTree([span('root', ''), span('kid', 'root', 1)]).map((n) => n.span_id)).toEqual(['root']);
  });
});
