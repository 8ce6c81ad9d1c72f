import { describe, expect, it } from 'vitest';
import type { CanonicalSpan } from '../../../../src/model/span.js';
import { DecodedSpans } from '../../../../src/stages/trace/decoded-spans.js';
import { spanKey, traceRef } from '../../../../src/stages/trace/window-keys.js';

const ref = traceRef('acme', 't1');
const span = (spanId: string) => ({ spanId }) as unknown as CanonicalSpan;
const add = (held: DecodedSpans, r: Buffer, spanId: string) => held.add(r, spanId, span(spanId), 100, spanKey(0, r, spanId));

describe('decoded spans of open windows', () => {
  it('gives the spans in store key order once all of them are held', () => {
    const held = new DecodedSpans(10);
    held.open(ref);
    for (const id of ['c', 'a', 'bb', 'b']) add(held, ref, id);
    // Store order: length-prefixed ids, so shorter ids first.
    expect(held.spansOf(ref, 4)!.map((s) => s.spanId)).toEqual(['a', 'b', 'c', 'bb']);
    expect(held.spansOf(ref, 5)).toBeNull();
  });

  it('holds only windows opened empty, and lets a window go past the budget', () => {
    const held = new DecodedSpans(3);
    add(held, ref, 'a');
    expect(held.holds(ref)).toBe(false);
    held.open(ref);
    add(held, ref, 'a');
    add(held, ref, 'a'); // a replacement takes no more room
    const other = traceRef('acme', 't2');
    held.open(other);
    add(held, other, 'x');
    add(held, other, 'y');
    add(held, ref, 'b'); // the fourth span: over the budget
    expect(held.holds(ref)).toBe(false);
    expect(held.spansOf(other, 2)).toHaveLength(2);
    held.drop(other);
    held.open(ref);
    add(held, ref, 'a');
    expect(held.get(ref, 'a')?.bytes).toBe(100);
  });
});
