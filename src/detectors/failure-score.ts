/**
 * The run-level verdict: from a trace's standing detections, the probability that the run
 * failed. A logistic model over what the detectors found (data/failure-score.json): a bias,
 * one weight per severity and one per detector, each detection counting with its confidence,
 * so that many weak findings do not add up to a certain failure:
 *
 *   score = σ(bias + Σ_detector max over its detections of (w_severity + w_detector) · confidence)
 *
 * Only the strongest detection of each detector counts: the same failure seen on ten spans is
 * one failure. The weights are fitted on the tuning half of real labelled runs
 * (eval/fit-failure-score.ts, docs/evaluation.md): a score means "this share of runs with
 * these findings failed" there, and is measured on the other half.
 */
import type { Severity } from '../model/outputs.js';
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

/** Each detector's strongest contribution to the log-odds. */
export function failureLogit(detections: readonly ScoredDetection[], m: FailureModel = FAILURE_MODEL): number {
  const strongest = new Map<string, number>();
  for (const d of detections) {
    const weight = (m.severity[d.severity] + (m.detector[d.detectorId] ?? 0)) * d.confidence;
    const held = strongest.get(d.detectorId);
    if (held === undefined || weight > held) strongest.set(d.detectorId, weight);
  }
  let z = m.bias;
  for (const weight of strongest.values()) z += weight;
  return z;
}

/** The probability the run failed, in [0, 1], rounded to three places. */
export function failureScore(detections: readonly ScoredDetection[], m: FailureModel = FAILURE_MODEL): number {
  const p = 1 / (1 + Math.exp(-failureLogit(detections, m)));
  return Math.round(p * 1000) / 1000;
}
