/**
 * Per-tenant calibration of detector confidence from feedback.
 * Pure: the tenant stage folds feedback into records, the trace stage applies the shifts.
 *
 * Shift s ∈ [0, MAX_CONFIDENCE_SHIFT], starting at 0; with η = CALIBRATION_DAMPING:
 *   false_positive:          s ← s + η · (MAX − s)    (a fraction of the way up to MAX)
 *   true_positive, missed:   s ← (1 − η) · s          (the same fraction back toward 0)
 * A 'missed' verdict says the tenant wants more from the detector, so it eases the shift as
 * a true positive does; it does not count toward precision. A shift below SHIFT_FLOOR snaps
 * to 0, so enough true positives restore the uncalibrated behaviour exactly instead of
 * leaving a vanishing shift that still enables suppression.
 *
 * Each step moves s by a bounded fraction, so one verdict never swings it far; the result
 * depends on the order of verdicts (recent ones weigh more) but the same sequence always
 * gives the same shift.
 *
 * precision = tp / (tp + fp), null before any true or false positive.
 *
 * Applying: a finding keeps confidence c' = clamp(c − s, 0, 1). When s > 0 it gains an
 * evidence entry saying so, and it is suppressed when c' < SUPPRESS_BELOW. With s = 0 the
 * finding passes untouched, so a tenant without feedback sees every detection.
 */
import type { RankedFinding } from '../detectors/reconcile.js';
import type { CalibrationRecord } from '../model/tenant-records.js';
import { clamp01 } from '../detectors/detector.js';

export type FeedbackVerdict = 'true_positive' | 'false_positive' | 'missed';

export const FEEDBACK_VERDICTS: readonly FeedbackVerdict[] = ['true_positive', 'false_positive', 'missed'];

export const MAX_CONFIDENCE_SHIFT = 0.3;
export const SUPPRESS_BELOW = 0.5;
/** η: the fraction of the remaining distance one verdict moves the shift. */
export const CALIBRATION_DAMPING = 0.25;
/** Shifts below this are noise and count as none. */
export const SHIFT_FLOOR = 0.001;

/** The shift after one verdict. */
export function nextShift(shift: number, verdict: FeedbackVerdict): number {
  const s = Math.min(MAX_CONFIDENCE_SHIFT, Math.max(0, Number.isFinite(shift) ? shift : 0));
  // Rounding near MAX could step over it; the clamp keeps the bound exact.
  const next =
    verdict === 'false_positive'
      ? Math.min(MAX_CONFIDENCE_SHIFT, s + CALIBRATION_DAMPING * (MAX_CONFIDENCE_SHIFT - s))
      : (1 - CALIBRATION_DAMPING) * s;
  return next < SHIFT_FLOOR ? 0 : next;
}

export function applyFeedback(
  previous: CalibrationRecord | undefined,
  tenantId: string,
  detectorId: string,
  verdict: FeedbackVerdict,
  atMs: number,
): CalibrationRecord {
  if (previous !== undefined && (previous.tenantId !== tenantId || previous.detectorId !== detectorId)) {
    // Another tenant's or detector's record here would be a wiring bug.
    throw new RangeError(`applyFeedback: record ${previous.tenantId}/${previous.detectorId} does not match ${tenantId}/${detectorId}`);
  }
  const truePositives = (previous?.truePositives ?? 0) + (verdict === 'true_positive' ? 1 : 0);
  const falsePositives = (previous?.falsePositives ?? 0) + (verdict === 'false_positive' ? 1 : 0);
  const missed = (previous?.missed ?? 0) + (verdict === 'missed' ? 1 : 0);
  const judged = truePositives + falsePositives;
  return {
    tenantId,
    detectorId,
    truePositives,
    falsePositives,
    missed,
    precision: judged === 0 ? null : truePositives / judged,
    confidenceShift: nextShift(previous?.confidenceShift ?? 0, verdict),
    updatedAtMs: atMs,
  };
}

export interface CalibrationResult {
  readonly kept: RankedFinding[];
  /** Carry the calibrated confidence and evidence too, so the reason can be shown. */
  readonly suppressed: RankedFinding[];
}

/** Shift printed to three decimals: finer digits mean nothing to a reader. */
function fmtShift(shift: number): string {
  return String(Number(shift.toFixed(3)));
}

/**
 * Lowers each finding's confidence by its detector's shift for this tenant and sets aside
 * those that fall below the floor. Order is preserved; since confidence takes part in
 * ranking, rank after calibrating.
 */
export function calibrate(found: readonly RankedFinding[], shiftOf: (detectorId: string) => number): CalibrationResult {
  const kept: RankedFinding[] = [];
  const suppressed: RankedFinding[] = [];
  for (const ranked of found) {
    const raw = shiftOf(ranked.detectorId);
    // Records are bounded already; a bad value must not raise confidence or suppress everything.
    const shift = Number.isFinite(raw) ? Math.min(MAX_CONFIDENCE_SHIFT, Math.max(0, raw)) : 0;
    if (shift === 0) {
      kept.push(ranked);
      continue;
    }
    const originalConfidence = ranked.finding.confidence;
    const confidence = clamp01(originalConfidence - shift);
    const calibrated: RankedFinding = {
      ...ranked,
      finding: {
        ...ranked.finding,
        confidence,
        evidence: [
          ...ranked.finding.evidence,
          {
            description: `confidence lowered by ${fmtShift(shift)} from this tenant's feedback`,
            spanIds: [],
            data: { shift, originalConfidence },
          },
        ],
      },
    };
    (confidence < SUPPRESS_BELOW ? suppressed : kept).push(calibrated);
  }
  return { kept, suppressed };
}
