/**
 * The assembled trace as a tree: parent/child links
 * between the spans of one window.
 *
 * - A span with an empty parent span id is a root.
 * - A span whose parent was never seen is an orphan: it is kept, under a synthetic root.
 * - Parent links that form a cycle (a span that is its own parent, or a → b → … → a) are
 *   broken at the member with the smallest span id, which moves under the synthetic root.
 *   The choice depends only on the spans, never on their order, so a replay assembles the
 *   same tree.
 *
 * Everything here is iterative: a 20,000-span chain is as deep as the tree gets, and no
 * step recurses over it.
 */
import type { CanonicalSpan } from '../../model/span.js';

export interface AssembledTrace {
  /** Spans with no parent, in start order. */
  readonly roots: readonly string[];
  /** Spans kept under the synthetic root (orphans, then cut cycle members), in start order. */
  readonly syntheticChildren: readonly string[];
  /** Children of each span, in start order; spans without children are absent. */
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** Spans whose parent span id names a span the trace does not hold, sorted. */
  readonly orphanSpanIds: readonly string[];
  /** Spans whose parent link was cut to break a parent cycle (one per cycle), sorted. */
  readonly cycleSpanIds: readonly string[];
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Start time, then span id: a total order, so the tree is the same for any input order. */
function byStart(a: CanonicalSpan, b: CanonicalSpan): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return byId(a.spanId, b.spanId);
}

export function assembleTrace(spans: readonly CanonicalSpan[]): AssembledTrace {
  const parentOf = new Map<string, string>();
  for (const s of spans) if (!parentOf.has(s.spanId)) parentOf.set(s.spanId, s.parentSpanId);

  const orphans = new Set<string>();
  for (const [id, parent] of parentOf) if (parent !== '' && !parentOf.has(parent)) orphans.add(id);

  // Walk up from every span; a walk that meets its own path has found a cycle. Each span is
  // walked once (0: unseen, 1: on the current path, 2: done), so this is linear.
  const state = new Map<string, 1 | 2>();
  const cut = new Set<string>();
  for (const start of [...parentOf.keys()].sort(byId)) {
    const path: string[] = [];
    let current: string | undefined = start;
    while (current !== undefined && !state.has(current)) {
      state.set(current, 1);
      path.push(current);
      const parent: string = parentOf.get(current)!;
      current = parent === '' || orphans.has(current) ? undefined : parent;
    }
    if (current !== undefined && state.get(current) === 1) {
      let smallest = current;
      for (let i = path.lastIndexOf(current); i < path.length; i++) if (path[i]! < smallest) smallest = path[i]!;
      cut.add(smallest);
    }
    for (const id of path) state.set(id, 2);
  }

  const seen = new Set<string>();
  const ordered = [...spans].filter((s) => (seen.has(s.spanId) ? false : (seen.add(s.spanId), true))).sort(byStart);
  const roots: string[] = [];
  const syntheticOrphans: string[] = [];
  const syntheticCut: string[] = [];
  const children = new Map<string, string[]>();
  for (const s of ordered) {
    if (s.parentSpanId === '') roots.push(s.spanId);
    else if (orphans.has(s.spanId)) syntheticOrphans.push(s.spanId);
    else if (cut.has(s.spanId)) syntheticCut.push(s.spanId);
    else {
      const list = children.get(s.parentSpanId);
      if (list === undefined) children.set(s.parentSpanId, [s.spanId]);
      else list.push(s.spanId);
    }
  }
  return {
    roots,
    syntheticChildren: [...syntheticOrphans, ...syntheticCut],
    children,
    orphanSpanIds: [...orphans].sort(byId),
    cycleSpanIds: [...cut].sort(byId),
  };
}
