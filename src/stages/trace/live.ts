/**
 * Live detection (DESIGN.md, "Detectors"): detectors that opt in (LiveSupport) fire while
 * a window is still open. Per window and detector the state holds the spans the detector
 * called relevant, in a bounded list; each new relevant span re-runs the detector's own
 * `detect` over that list, and findings whose fingerprint was not reported yet are new.
 *
 * The state is plain JSON so it lives in the window store beside the spans. Because a live
 * finding comes from the same detector code and fingerprint as the final one, it gets the
 * same detection id; the closed window's record then replaces it, or withdraws it when the
 * whole trace no longer supports it (TraceRecord.detectionIds).
 */
import type { Detector } from '../../detectors/detector.js';
import type { RankedFinding } from '../../detectors/reconcile.js';
import type { SemanticSpan } from '../../semantic/semantic-span.js';

/** Relevant spans kept per detector and window; past it the detector waits for the close. */
export const LIVE_SPANS_PER_DETECTOR = 64;
/** Text fields longer than this keep their head and tail, which is what detectors read. */
const MAX_TEXT = 8192;

/** A semantic span as JSON: times as decimal strings, long texts shortened. */
type StoredSpan = Record<string, unknown> & { spanId: string; startNs: string; endNs: string };

export interface LiveState {
  /** detector id → its relevant spans, in start order. */
  readonly spans: Record<string, StoredSpan[]>;
  /** detector id → fingerprints already reported live. */
  readonly reported: Record<string, string[]>;
}

function store(span: SemanticSpan): StoredSpan {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(span)) {
    if (typeof value === 'bigint') out[key] = value.toString();
    else if (typeof value === 'string' && value.length > MAX_TEXT) out[key] = `${value.slice(0, MAX_TEXT / 2)}…${value.slice(-MAX_TEXT / 2)}`;
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

/** Whether any detector would keep this span: most spans need no state read at all. */
export function isLiveRelevant(detectors: readonly Detector[], span: SemanticSpan): boolean {
  return detectors.some((d) => d.live?.relevant(span) === true);
}

/**
 * Adds one span to the window's live state and returns the findings it completes. The
 * state is changed in place. A re-sent span replaces its earlier copy.
 */
export function liveStep(
  state: LiveState,
  span: SemanticSpan,
  detectors: readonly Detector[],
  trace: { readonly tenantId: string; readonly traceId: string; readonly serviceName: string },
): RankedFinding[] {
  const found: RankedFinding[] = [];
  for (const detector of detectors) {
    if (detector.live?.relevant(span) !== true) continue;
    const list = (state.spans[detector.id] ??= []);
    const at = list.findIndex((s) => s.spanId === span.spanId);
    if (at >= 0) list[at] = store(span);
    else if (list.length < LIVE_SPANS_PER_DETECTOR) list.push(store(span));
    else continue;
    list.sort(byStart);
    const reported = (state.reported[detector.id] ??= []);
    for (const finding of detector.detect({ ...trace, spans: list.map(revive) })) {
      if (reported.includes(finding.fingerprint)) continue;
      reported.push(finding.fingerprint);
      found.push({ detectorId: detector.id, detectorVersion: detector.version, finding });
    }
  }
  return found;
}
