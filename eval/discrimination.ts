/**
 * Run-level discrimination on labelled real runs (tau-bench): how often each detector fires
 * on failed and on successful runs, how often a detection means the run failed, and how well
 * a run's most severe detection ranks failed runs above successful ones (AUROC).
 */
import type { Detection, Severity } from '../src/model/outputs.js';
import { severityRank } from '../src/model/outputs.js';

export type RunDetection = Pick<Detection, 'detectorId' | 'detectionType' | 'severity'>;

export interface LabelledResult {
  readonly id: string;
  readonly failed: boolean;
  readonly detections: readonly RunDetection[];
  /** The trace stage's run-level failure score, when it computes one. */
  readonly failureScore: number | null;
}

/** Score of a run without detections: below every severity. */
export const NO_DETECTION_SCORE = -1;

/** A run's most severe detection as a rank (info 0 … critical 4), or -1 with none. */
export function maxSeverityScore(detections: readonly Pick<Detection, 'severity'>[]): number {
  let best = NO_DETECTION_SCORE;
  for (const d of detections) best = Math.max(best, severityRank[d.severity]);
  return best;
}

/**
 * Area under the ROC curve of `score` separating positives from negatives, by the
 * Mann–Whitney U statistic with mid-ranks for ties: the probability that a random positive
 * scores above a random negative, ties counting one half. Null when either class is empty.
 */
export function auroc(positives: readonly number[], negatives: readonly number[]): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const all = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort((a, b) => a.s - b.s);
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    // Ranks i+1 … j share their mean.
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.pos) rankSumPos += midRank;
    i = j;
  }
  const nPos = positives.length;
  const u = rankSumPos - (nPos * (nPos + 1)) / 2;
  return u / (nPos * negatives.length);
}

function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

const atLeast = (s: Severity, floor: Severity) => severityRank[s] >= severityRank[floor];

export interface Firing {
  /** Failed runs it fires on, at any severity and at medium or above. */
  readonly failed: number;
  readonly failedMedium: number;
  readonly succeeded: number;
  readonly succeededMedium: number;
  /** Shares of failed / successful runs. */
  readonly failedRate: number;
  readonly failedMediumRate: number;
  readonly succeededRate: number;
  readonly succeededMediumRate: number;
  /** P(failed | fired), null when it never fires; at any severity and at medium or above. */
  readonly precision: number | null;
  readonly precisionMedium: number | null;
}

function firing(results: readonly LabelledResult[], matches: (d: RunDetection) => boolean): Firing {
  const failedRuns = results.filter((r) => r.failed).length;
  const succeededRuns = results.length - failedRuns;
  let failed = 0;
  let failedMedium = 0;
  let succeeded = 0;
  let succeededMedium = 0;
  for (const r of results) {
    const hits = r.detections.filter(matches);
    if (hits.length === 0) continue;
    const medium = hits.some((d) => atLeast(d.severity, 'medium'));
    if (r.failed) {
      failed++;
      if (medium) failedMedium++;
    } else {
      succeeded++;
      if (medium) succeededMedium++;
    }
  }
  return {
    failed,
    failedMedium,
    succeeded,
    succeededMedium,
    failedRate: ratio(failed, failedRuns),
    failedMediumRate: ratio(failedMedium, failedRuns),
    succeededRate: ratio(succeeded, succeededRuns),
    succeededMediumRate: ratio(succeededMedium, succeededRuns),
    precision: failed + succeeded === 0 ? null : failed / (failed + succeeded),
    precisionMedium: failedMedium + succeededMedium === 0 ? null : failedMedium / (failedMedium + succeededMedium),
  };
}

export interface RunLevel {
  /** Runs with any detection, with one of severity ≥ medium, ≥ high. */
  readonly any: number;
  readonly medium: number;
  readonly high: number;
  readonly anyRate: number;
  readonly mediumRate: number;
  readonly highRate: number;
}

function runLevel(results: readonly LabelledResult[]): RunLevel {
  const any = results.filter((r) => r.detections.length > 0).length;
  const medium = results.filter((r) => r.detections.some((d) => atLeast(d.severity, 'medium'))).length;
  const high = results.filter((r) => r.detections.some((d) => atLeast(d.severity, 'high'))).length;
  return { any, medium, high, anyRate: ratio(any, results.length), mediumRate: ratio(medium, results.length), highRate: ratio(high, results.length) };
}

export interface Discrimination {
  readonly runs: number;
  readonly failedRuns: number;
  readonly succeededRuns: number;
  readonly failed: RunLevel;
  readonly succeeded: RunLevel;
  /** AUROC of each run's most severe detection (none < info < low < … < critical), failed as positive. */
  readonly aurocMaxSeverity: number | null;
  /** AUROC of the trace stage's failureScore; null when no run carries one. */
  readonly aurocFailureScore: number | null;
  /** Runs with a failureScore (all of them, or the figure above is not computed). */
  readonly runsWithFailureScore: number;
  /** Per detector id. */
  readonly byDetector: Record<string, Firing>;
  /** Per `detectorId/detectionType`. */
  readonly byType: Record<string, Firing>;
}

/** `detectorIds` lists detectors to report even when they never fire. */
export function discrimination(results: readonly LabelledResult[], detectorIds: readonly string[] = []): Discrimination {
  const failedResults = results.filter((r) => r.failed);
  const succeededResults = results.filter((r) => !r.failed);
  const detectors = [...new Set([...detectorIds, ...results.flatMap((r) => r.detections.map((d) => d.detectorId))])].sort();
  const types = [...new Set(results.flatMap((r) => r.detections.map((d) => `${d.detectorId}/${d.detectionType}`)))].sort();
  const scored = results.filter((r) => r.failureScore !== null);
  const scoreAuroc =
    scored.length === results.length && results.length > 0
      ? auroc(
          failedResults.map((r) => r.failureScore!),
          succeededResults.map((r) => r.failureScore!),
        )
      : null;
  return {
    runs: results.length,
    failedRuns: failedResults.length,
    succeededRuns: succeededResults.length,
    failed: runLevel(failedResults),
    succeeded: runLevel(succeededResults),
    aurocMaxSeverity: auroc(
      failedResults.map((r) => maxSeverityScore(r.detections)),
      succeededResults.map((r) => maxSeverityScore(r.detections)),
    ),
    aurocFailureScore: scoreAuroc,
    runsWithFailureScore: scored.length,
    byDetector: Object.fromEntries(detectors.map((id) => [id, firing(results, (d) => d.detectorId === id)])),
    byType: Object.fromEntries(types.map((key) => [key, firing(results, (d) => `${d.detectorId}/${d.detectionType}` === key)])),
  };
}
