/**
 * Reconciliation of one trace's findings: the primary failure is the most severe, then the
 * most confident, then the earliest affected span (for a stable choice).
 */
import { severityRank } from '../model/outputs.js';
import type { Finding } from './detector.js';

export interface RankedFinding {
  readonly detectorId: string;
  readonly detectorVersion: number;
  readonly finding: Finding;
}

export function rankFindings(findings: readonly RankedFinding[], spanOrder: ReadonlyMap<string, number>): RankedFinding[] {
  const firstSpan = (f: Finding) => Math.min(...f.affectedSpanIds.map((id) => spanOrder.get(id) ?? Number.MAX_SAFE_INTEGER));
  return [...findings].sort(
    (a, b) =>
      severityRank[b.finding.severity] - severityRank[a.finding.severity] ||
      b.finding.confidence - a.finding.confidence ||
      firstSpan(a.finding) - firstSpan(b.finding) ||
      (a.detectorId < b.detectorId ? -1 : a.detectorId > b.detectorId ? 1 : 0) ||
      (a.finding.fingerprint < b.finding.fingerprint ? -1 : 1),
  );
}
