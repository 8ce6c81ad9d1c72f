/**
 * Live detection: detectors that opt in (LiveSupport) fire while
 * a window is still open. A per-span detector runs on each relevant span alone. For the
 * others, the state holds per window and detector the spans the detector called relevant,
 * in a bounded list; each new relevant span re-runs the detector's own `detect` over that
 * list. Findings whose fingerprint was not reported yet are new.
 *
 * The state is plain JSON so it lives in the window store beside the spans. Because a live
 * finding comes from the same detector code and fingerprint as the final one, it gets the
 * same detection id; the closed window's record then replaces it, or withdraws it when the
 * whole trace no longer supports it (TraceRecord.detectionIds).
 */
import { createHash } from 'node:crypto';
import type { Detector } from '../../detectors/detector.js';
import type { RankedFinding } from '../../detectors/reconcile.js';
import type { SemanticSpan } from '../../semantic/semantic-span.js';
import { liveRelevant, runDetector, type DetectorRunObserver } from './run-detector.js';

/** Relevant spans kept per detector and window; past it the detector waits for the close. */
export const LIVE_SPANS_PER_DETECTOR = 64;
/**
 * Text fields longer than this are kept as head, digest and tail: enough for what live
 * detectors read (emptiness, how an output ends, equality of arguments), while the state
 * rewritten with each relevant span stays small.
 */
const MAX_TEXT = 512;
const KEEP = 128;

/** A semantic span as JSON: times as decimal strings, long texts shortened. */
type StoredSpan = Record<string, unknown> & { spanId: string; startNs: string; endNs: string };

export interface LiveState {
  /** detector id → its relevant spans, in start order. */
  readonly spans: Record<string, StoredSpan[]>;
  /** detector id → fingerprints already reported live. */
  readonly reported: Record<string, string[]>;
}

/** Equal texts stay equal and different ones different: the digest stands for the middle. */
function shorten(text: string): string {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return `${text.slice(0, KEEP)}…[${text.length} chars, sha256 ${digest}]…${text.slice(-KEEP)}`;
}

function store(span: SemanticSpan): StoredSpan {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(span)) {
    if (typeof value === 'bigint') out[key] = value.toString();
    else if (typeof value === 'string' && value.length > MAX_TEXT) out[key] = shorten(value);
    else out[key] = value;
  }
  return out as StoredSpan;
}

function revive(span: StoredSpan): SemanticSpan {
  return { ...span, startNs: BigInt(span.startNs), endNs: BigInt(span.endNs) } as unknown as SemanticSpan;
}

/** Same order as the closed window's semantic trace: start time, then span id. */
function byStart(a: StoredSpan, b: StoredSpan): number {
  const sa = BigInt(a.startNs);
  const sb = BigInt(b.startNs);
  return sa < sb ? -1 : sa > sb ? 1 : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

export function parseLiveState(raw: Buffer | null): LiveState {
  return raw === null ? { spans: {}, reported: {} } : (JSON.parse(raw.toString()) as LiveState);
}

export function serializeLiveState(state: LiveState): Buffer {
  return Buffer.from(JSON.stringify(state));
}

/**
 * What one span asks of the live detectors: the findings of per-span detectors (they judge
 * the span alone and keep no spans), and the stateful detectors that keep it. Most spans
 * ask nothing, and then the window's live state is not even read.
 */
export interface LivePlan {
  readonly perSpan: readonly RankedFinding[];
  readonly stateful: readonly Detector[];
}

export function planLive(
  span: SemanticSpan,
  detectors: readonly Detector[],
  trace: { readonly tenantId: string; readonly traceId: string; readonly serviceName: string },
  observer?: DetectorRunObserver,
): LivePlan {
  const perSpan: RankedFinding[] = [];
  const stateful: Detector[] = [];
  for (const detector of detectors) {
    if (!liveRelevant(detector, span, observer)) continue;
    if (detector.live?.perSpan !== true) {
      stateful.push(detector);
      continue;
    }
    for (const finding of runDetector(detector, { ...trace, spans: [span] }, observer) ?? []) {
      perSpan.push({ detectorId: detector.id, detectorVersion: detector.version, finding });
    }
  }
  return { perSpan, stateful };
}

export function isEmptyPlan(plan: LivePlan): boolean {
  return plan.perSpan.length === 0 && plan.stateful.length === 0;
}

/**
 * What `applyLive(state, _, plan)` can change, copied so it can be put back: the lists of
 * the plan's detectors (applyLive replaces or adds list entries and never changes one in
 * place, so shallow copies do). Lets a window's state be written once per batch while a
 * record rolled back halfway still leaves nothing of itself.
 */
export function liveSavepoint(state: LiveState, plan: LivePlan): () => void {
  const ids = new Set([...plan.perSpan.map((f) => f.detectorId), ...plan.stateful.map((d) => d.id)]);
  const saved = [...ids].map((id) => ({ id, spans: state.spans[id]?.slice(), reported: state.reported[id]?.slice() }));
  return () => {
    for (const { id, spans, reported } of saved) {
      if (spans === undefined) delete state.spans[id];
      else state.spans[id] = spans;
      if (reported === undefined) delete state.reported[id];
      else state.reported[id] = reported;
    }
  };
}

/** Records that `found` was reported; false when it already was. */
function firstReport(state: LiveState, found: RankedFinding): boolean {
  const reported = (state.reported[found.detectorId] ??= []);
  if (reported.includes(found.finding.fingerprint)) return false;
  reported.push(found.finding.fingerprint);
  return true;
}

/**
 * Carries out a plan on the window's live state (changed in place) and returns the findings
 * not reported before. A stateful detector keeps the span (a re-sent span replaces its
 * earlier copy) and runs over the spans it kept.
 */
export function applyLive(
  state: LiveState,
  span: SemanticSpan,
  plan: LivePlan,
  trace: { readonly tenantId: string; readonly traceId: string; readonly serviceName: string },
  observer?: DetectorRunObserver,
): RankedFinding[] {
  const found = plan.perSpan.filter((f) => firstReport(state, f));
  for (const detector of plan.stateful) {
    const list = (state.spans[detector.id] ??= []);
    const at = list.findIndex((s) => s.spanId === span.spanId);
    if (at >= 0) list[at] = store(span);
    else if (list.length < LIVE_SPANS_PER_DETECTOR) list.push(store(span));
    else continue;
    list.sort(byStart);
    for (const finding of runDetector(detector, { ...trace, spans: list.map(revive) }, observer) ?? []) {
      const ranked = { detectorId: detector.id, detectorVersion: detector.version, finding };
      if (firstReport(state, ranked)) found.push(ranked);
    }
  }
  return found;
}
