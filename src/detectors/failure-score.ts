/**
 * The run-level verdict: from a trace's standing detections, the probability that the run
 * failed. A logistic model over what the detectors found (data/failure-score.json): a bias,
 * one weight per severity and one per detector, each detection counting with its confidence,
 * so that many weak findings do not add up to a certain failure:
 *
 *   score = σ(bias + Σ_detector (w_severity + w_detector) · confidence of its strongest detection)
 *
 * Only the strongest detection of each detector counts (most severe, then most confident):
 * the same failure seen on ten spans is one failure. The weights are fitted on the tuning half of real labelled runs
 * (eval/fit-failure-score.ts, docs/evaluation.md): a score means "this share of runs with
 * these findings failed" there, and is measured on the other half.
 */
import { severityRank, type Severity } from '../model/outputs.js';
import model from './data/failure-score.json' with { type: 'json' };

export interface FailureModel {
  /** Where the weights came from: the data, the split and the date of the fit. */
  readonly fittedOn: string;
  readonly bias: number;
  readonly severity: Readonly<Record<Severity, number>>;
  /** Added to the severity's weight for a detector's findings; absent means 0. */
  readonly detector: Readonly<Record<string, number>>;
}

/** What the score needs of a detection. */
export interface ScoredDetection {
  readonly detectorId: string;
  readonly severity: Severity;
  readonly confidence: number;
}

export const FAILURE_MODEL: FailureModel = model;

/**
 * Each detector's strongest detection: the most severe, then the most confident. Chosen
 * without the weights, so the log-odds are linear in them (what the fit relies on).
 */
export function strongestByDetector(detections: readonly ScoredDetection[]): ScoredDetection[] {
  const strongest = new Map<string, ScoredDetection>();
  for (const d of detections) {
    const held = strongest.get(d.detectorId);
    const stronger = held === undefined || severityRank[d.severity] > severityRank[held.severity] || (d.severity === held.severity && d.confidence > held.confidence);
    if (stronger) strongest.set(d.detectorId, d);
  }
  return [...strongest.values()];
}

/** The log-odds that the run failed. */
export function failureLogit(detections: readonly ScoredDetection[], m: FailureModel = FAILURE_MODEL): number {
  let z = m.bias;
  for (const d of strongestByDetector(detections)) z += (m.severity[d.severity] + (m.detector[d.detectorId] ?? 0)) * d.confidence;
  return z;
}

/** The probability the run failed, in [0, 1], rounded to three places. */
export function failureScore(detections: readonly ScoredDetection[], m: FailureModel = FAILURE_MODEL): number {
  const p = 1 / (1 + Math.exp(-failureLogit(detections, m)));
  return Math.round(p * 1000) / 1000;
}
