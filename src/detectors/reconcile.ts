/**
 * Reconciliation of one trace's findings.
 *
 * Several detectors often describe one failure: a tool call that timed out is a
 * tool_failure, a service_error and a timeout. Subsumption keeps the most specific of
 * them standing and marks the others as subsumed by it, when the two share an affected
 * span and the rules below say one explains the other. A subsuming finding takes the
 * highest severity of those it absorbs, so merging never makes a failure look milder.
 *
 * The primary failure is the first standing finding in rank order: most severe, then most
 * confident, then earliest affected span, then detector id and fingerprint (a total order,
 * so the choice is stable under replay).
 */
import { severityRank, type Severity } from '../model/outputs.js';
import type { Finding } from './detector.js';

export interface RankedFinding {
  readonly detectorId: string;
  readonly detectorVersion: number;
  readonly finding: Finding;
}

export interface ReconciledFinding extends RankedFinding {
  /** Index, in the reconciled list, of the finding that subsumes this one; null if it stands. */
  readonly subsumedBy: number | null;
}

const SPAN_FAILURES = ['tool_failure', 'llm_failure', 'step_failure'] as const;

/**
 * Detection type → the types it explains when their affected spans overlap. Read as "a
 * timeout is the reason the tool failed". The relation has no cycles.
 */
export const SUBSUMES: Readonly<Record<string, readonly string[]>> = {
  timeout: ['service_error', 'latency_outlier', ...SPAN_FAILURES],
  rate_limit: [...SPAN_FAILURES],
  service_error: [...SPAN_FAILURES],
  hallucinated_tool: ['tool_failure'],
  context_overflow: ['llm_failure', 'empty_output', 'truncated_output'],
  retry_storm: ['tool_failure', 'loop'],
  error_cascade: [...SPAN_FAILURES],
};

const spanSets = new WeakMap<Finding, ReadonlySet<string>>();

function subsumes(a: Finding, b: Finding): boolean {
  if (!(SUBSUMES[a.detectionType]?.includes(b.detectionType) ?? false)) return false;
  let spans = spanSets.get(a);
  if (spans === undefined) {
    spans = new Set(a.affectedSpanIds);
    spanSets.set(a, spans);
  }
  return b.affectedSpanIds.some((id) => spans.has(id));
}

function compare(a: RankedFinding, b: RankedFinding, firstSpan: (f: Finding) => number): number {
  return (
    severityRank[b.finding.severity] - severityRank[a.finding.severity] ||
    b.finding.confidence - a.finding.confidence ||
    firstSpan(a.finding) - firstSpan(b.finding) ||
    (a.detectorId < b.detectorId ? -1 : a.detectorId > b.detectorId ? 1 : 0) ||
    (a.finding.fingerprint < b.finding.fingerprint ? -1 : a.finding.fingerprint > b.finding.fingerprint ? 1 : 0)
  );
}

/** Orders findings by rank alone, without subsumption. */
export function rankFindings(findings: readonly RankedFinding[], spanOrder: ReadonlyMap<string, number>): RankedFinding[] {
  const firstSpan = firstSpanOf(spanOrder);
  return [...findings].sort((a, b) => compare(a, b, firstSpan));
}

function firstSpanOf(spanOrder: ReadonlyMap<string, number>): (f: Finding) => number {
  return (f) => Math.min(...f.affectedSpanIds.map((id) => spanOrder.get(id) ?? Number.MAX_SAFE_INTEGER));
}

/**
 * Subsumption, then rank: standing findings first (the first is the primary failure), then
 * the subsumed ones, each pointing at the standing finding that explains it.
 */
export function reconcileFindings(findings: readonly RankedFinding[], spanOrder: ReadonlyMap<string, number>): ReconciledFinding[] {
  const firstSpan = firstSpanOf(spanOrder);
  const ranked = rankFindings(findings, spanOrder);
  // Each subsumed finding points at the best-ranked finding that explains it; when that one
  // is subsumed in turn, the chain is followed up to a standing finding (no cycles).
  const direct = new Map<RankedFinding, RankedFinding>();
  for (const candidate of ranked) {
    const by = ranked.find((other) => other !== candidate && subsumes(other.finding, candidate.finding));
    if (by !== undefined) direct.set(candidate, by);
  }
  const standing = ranked.filter((r) => !direct.has(r));
  const subsumer = new Map<RankedFinding, RankedFinding>();
  for (const candidate of direct.keys()) {
    let top = direct.get(candidate)!;
    for (let next = direct.get(top); next !== undefined; next = direct.get(top)) top = next;
    subsumer.set(candidate, top);
  }
  // Merged findings take the highest severity of what they absorbed.
  const merged = new Map<RankedFinding, RankedFinding>();
  for (const top of standing) {
    const absorbed = ranked.filter((r) => subsumer.get(r) === top);
    if (absorbed.length === 0) {
      merged.set(top, top);
      continue;
    }
    let severity: Severity = top.finding.severity;
    for (const r of absorbed) if (severityRank[r.finding.severity] > severityRank[severity]) severity = r.finding.severity;
    const evidence = [
      ...top.finding.evidence,
      ...absorbed.map((r) => ({
        description: `also reported as ${r.finding.detectionType}: ${r.finding.title}`,
        spanIds: r.finding.affectedSpanIds,
        data: { detectionType: r.finding.detectionType, detectorId: r.detectorId, fingerprint: r.finding.fingerprint },
      })),
    ];
    merged.set(top, { ...top, finding: { ...top.finding, severity, evidence } });
  }
  const standingOrdered = [...merged.values()].sort((a, b) => compare(a, b, firstSpan));
  const indexOf = new Map<RankedFinding, number>();
  for (const [original, m] of merged) indexOf.set(original, standingOrdered.indexOf(m));
  return [
    ...standingOrdered.map((r) => ({ ...r, subsumedBy: null })),
    ...ranked.filter((r) => direct.has(r)).map((r) => ({ ...r, subsumedBy: indexOf.get(subsumer.get(r)!)! })),
  ];
}
