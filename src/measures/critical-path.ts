/**
 * The critical path of a trace, as tracing tools (Jaeger, Tempo) define it: the chain of
 * spans that determined when the run finished. Precisely:
 *
 * - Each span's extended end is the latest of its own end and its descendants' extended
 *   ends (a child that outlives its parent still delays the run). A child's start is
 *   clamped to its parent's start; a child with nothing left after clamping, or of zero
 *   length, is never on the path.
 * - Walking a span back from a point t: among its children that started before t, take
 *   the one that finished last (by extended end; ties: earlier start, then span id). The
 *   time from that child's end (clipped to t) up to t is the span's own time on the path;
 *   the child is walked back from that point; then t moves to the child's start and the
 *   walk continues. With no child left, the time from the span's start up to t is its own.
 *   Parallel children thus contribute only the one that finished last; sequential children
 *   all contribute.
 * - The trace is walked from a virtual root spanning the whole trace whose children are
 *   the top-level spans (no parent, or a parent not in the trace; in a parent cycle the
 *   earliest-starting member is taken as top-level). The virtual root's own time, when no
 *   top-level span runs, is not on the path.
 *
 * The path's duration is the sum of those pieces: the trace's duration minus the gaps
 * between top-level spans, so for a single root it equals the trace's duration; what it
 * adds is which spans the time went to. Span ids are listed in start order, a parent
 * before a child starting at the same time.
 * Iterative, O(n log n): a 20,000-span chain does not exhaust the stack.
 */
import type { SemanticSpan } from '../semantic/semantic-span.js';

export interface CriticalPath {
  readonly durationNs: bigint;
  readonly spanIds: readonly string[];
}

interface Node {
  readonly span: SemanticSpan | null;
  start: bigint;
  extEnd: bigint;
  children: number[];
  /** Children sorted by start, latest first, and for each suffix the child that ends last. */
  byStartDesc: number[];
  lastEnding: number[];
}

function compareForPath(nodes: readonly Node[], a: number, b: number): number {
  const x = nodes[a]!;
  const y = nodes[b]!;
  if (x.extEnd !== y.extEnd) return x.extEnd > y.extEnd ? -1 : 1;
  if (x.start !== y.start) return x.start < y.start ? -1 : 1;
  const ix = x.span?.spanId ?? '';
  const iy = y.span?.spanId ?? '';
  return ix < iy ? -1 : ix > iy ? 1 : 0;
}

export function criticalPath(spans: readonly SemanticSpan[]): CriticalPath {
  if (spans.length === 0) return { durationNs: 0n, spanIds: [] };
  const nodes: Node[] = [{ span: null, start: 0n, extEnd: 0n, children: [], byStartDesc: [], lastEnding: [] }];
  const byId = new Map<string, number>();
  for (const span of spans) {
    if (byId.has(span.spanId)) continue;
    byId.set(span.spanId, nodes.length);
    nodes.push({ span, start: span.startNs, extEnd: span.endNs > span.startNs ? span.endNs : span.startNs, children: [], byStartDesc: [], lastEnding: [] });
  }

  // Tree: parents found in the trace, everything else top-level; cycles broken in start order.
  const parentOf = (i: number): number | undefined => {
    const parent = nodes[i]!.span!.parentSpanId;
    const p = parent === '' ? undefined : byId.get(parent);
    return p === i ? undefined : p;
  };
  const childrenOf = new Map<number, number[]>();
  for (let i = 1; i < nodes.length; i++) {
    const p = parentOf(i);
    if (p !== undefined) {
      const list = childrenOf.get(p);
      if (list === undefined) childrenOf.set(p, [i]);
      else list.push(i);
    }
  }
  const order: number[] = [];
  const reached = new Uint8Array(nodes.length);
  const attach = (top: number): void => {
    nodes[0]!.children.push(top);
    reached[top] = 1;
    const stack = [top];
    while (stack.length > 0) {
      const i = stack.pop()!;
      order.push(i);
      for (const c of childrenOf.get(i) ?? []) {
        if (reached[c] === 1) continue;
        reached[c] = 1;
        nodes[i]!.children.push(c);
        stack.push(c);
      }
    }
  };
  for (let i = 1; i < nodes.length; i++) if (parentOf(i) === undefined) attach(i);
  const unreached = [];
  for (let i = 1; i < nodes.length; i++) if (reached[i] === 0) unreached.push(i);
  unreached.sort((a, b) => {
    const x = nodes[a]!.span!;
    const y = nodes[b]!.span!;
    return x.startNs !== y.startNs ? (x.startNs < y.startNs ? -1 : 1) : x.spanId < y.spanId ? -1 : x.spanId > y.spanId ? 1 : 0;
  });
  for (const i of unreached) if (reached[i] === 0) attach(i);

  // Clamp starts top-down (order is parents before children), then extend ends bottom-up.
  for (const i of order) {
    const node = nodes[i]!;
    for (const c of node.children) {
      const child = nodes[c]!;
      if (child.start < node.start) child.start = node.start;
    }
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const node = nodes[order[k]!]!;
    for (const c of node.children) if (nodes[c]!.extEnd > node.extEnd) node.extEnd = nodes[c]!.extEnd;
  }
  const root = nodes[0]!;
  root.start = root.children.reduce((min, c) => (nodes[c]!.start < min ? nodes[c]!.start : min), nodes[root.children[0]!]!.start);
  root.extEnd = root.children.reduce((max, c) => (nodes[c]!.extEnd > max ? nodes[c]!.extEnd : max), root.start);

  const prepare = (node: Node): void => {
    const kids = node.children.filter((c) => nodes[c]!.extEnd > nodes[c]!.start);
    kids.sort((a, b) => (nodes[a]!.start !== nodes[b]!.start ? (nodes[a]!.start > nodes[b]!.start ? -1 : 1) : compareForPath(nodes, a, b)));
    const lastEnding = new Array<number>(kids.length);
    for (let k = kids.length - 1; k >= 0; k--) {
      const here = kids[k]!;
      const after = k + 1 < kids.length ? lastEnding[k + 1]! : undefined;
      lastEnding[k] = after === undefined || compareForPath(nodes, here, after) < 0 ? here : after;
    }
    node.byStartDesc = kids;
    node.lastEnding = lastEnding;
  };

  let durationNs = 0n;
  const onPath: SemanticSpan[] = [];
  interface Frame {
    readonly node: Node;
    cursor: bigint;
    next: number;
  }
  prepare(root);
  const frames: Frame[] = [{ node: root, cursor: root.extEnd, next: 0 }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    const { node } = frame;
    const kids = node.byStartDesc;
    while (frame.next < kids.length && nodes[kids[frame.next]!]!.start >= frame.cursor) frame.next++;
    if (frame.next >= kids.length) {
      if (node.span !== null && frame.cursor > node.start) durationNs += frame.cursor - node.start;
      frames.pop();
      continue;
    }
    const child = nodes[node.lastEnding[frame.next]!]!;
    const from = child.extEnd < frame.cursor ? child.extEnd : frame.cursor;
    if (node.span !== null) durationNs += frame.cursor - from;
    frame.cursor = child.start;
    onPath.push(child.span!);
    prepare(child);
    frames.push({ node: child, cursor: from, next: 0 });
  }
  // Stable sort: equal starts keep the walk's order, which reaches a parent before its children.
  onPath.sort((a, b) => (a.startNs === b.startNs ? 0 : a.startNs < b.startNs ? -1 : 1));
  return { durationNs, spanIds: onPath.map((s) => s.spanId) };
}
