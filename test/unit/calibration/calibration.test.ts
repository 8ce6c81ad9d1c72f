import { describe, expect, it } from 'vitest';
import {
  MAX_CONFIDENCE_SHIFT,
  SUPPRESS_BELOW,
  applyFeedback,
  calibrate,
  nextShift,
  type FeedbackVerdict,
} from '../../../src/calibration/calibration.js';
import type { Finding } from '../../../src/detectors/detector.js';
import type { RankedFinding } from '../../../src/detectors/reconcile.js';
import type { CalibrationRecord } from '../../../src/model/tenant-records.js';

function feed(verdicts: readonly FeedbackVerdict[], start?: CalibrationRecord): CalibrationRecord {
  let record = start;
  for (const [i, v] of verdicts.entries()) record = applyFeedback(record, 't1', 'loop', v, 1000 + i);
  return record!;
}
const times = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

function ranked(detectorId: string, confidence: number, fingerprint = 'f'): RankedFinding {
  const finding: Finding = {
    detectionType: detectorId,
    title: 't',
    description: 'd',
    confidence,
    severity: 'medium',
    evidence: [{ description: 'seen', spanIds: ['s1'], data: { n: 1 } }],
    affectedSpanIds: ['s1'],
    agent: null,
    suggestedFix: 'fix',
    fingerprint,
  };
  return { detectorId, detectorVersion: 1, finding };
}

describe('applyFeedback', () => {
  it('starts a record and counts verdicts', () => {
    const r = applyFeedback(undefined, 't1', 'loop', 'false_positive', 5);
    expect(r).toEqual({
      tenantId: 't1',
      detectorId: 'loop',
      truePositives: 0,
      falsePositives: 1,
      missed: 0,
      precision: 0,
      confidenceShift: 0.075,
      updatedAtMs: 5,
    });
  });

  it('raises the shift monotonically toward, never past, the max on false positives', () => {
    let record: CalibrationRecord | undefined;
    let previous = 0;
    for (let i = 0; i < 300; i++) {
      record = applyFeedback(record, 't1', 'loop', 'false_positive', i);
      expect(record.confidenceShift).toBeGreaterThanOrEqual(previous);
      expect(record.confidenceShift).toBeLessThanOrEqual(MAX_CONFIDENCE_SHIFT);
      if (i < 20) expect(record.confidenceShift).toBeGreaterThan(previous);
      previous = record.confidenceShift;
    }
    expect(previous).toBeGreaterThan(MAX_CONFIDENCE_SHIFT - 1e-9);
    // Damped: the first steps are a quarter of the remaining distance each.
    expect(feed(times(2, 'false_positive')).confidenceShift).toBeCloseTo(0.3 * (1 - 0.75 ** 2), 12);
  });

  it('brings the shift back with true positives, and missed detections, to exactly 0', () => {
    const high = feed(times(10, 'false_positive'));
    const oneTp = feed(['true_positive'], high);
    expect(oneTp.confidenceShift).toBeCloseTo(0.75 * high.confidenceShift, 12);
    expect(feed(['missed'], high).confidenceShift).toBe(oneTp.confidenceShift);

    let record = high;
    for (let i = 0; i < 40; i++) {
      const next = feed(['true_positive'], record);
      expect(next.confidenceShift).toBeLessThanOrEqual(record.confidenceShift);
      record = next;
    }
    expect(record.confidenceShift).toBe(0);
    // No shift to lower below 0.
    expect(applyFeedback(undefined, 't1', 'loop', 'true_positive', 0).confidenceShift).toBe(0);
  });

  it('is order-sensitive but deterministic', () => {
    const a = feed(['false_positive', 'true_positive']);
    const b = feed(['true_positive', 'false_positive']);
    expect(a.confidenceShift).not.toBe(b.confidenceShift);
    expect(feed(['false_positive', 'true_positive']).confidenceShift).toBe(a.confidenceShift);
    expect([a.truePositives, a.falsePositives, a.precision]).toEqual([b.truePositives, b.falsePositives, b.precision]);
  });

  it('computes precision from true and false positives only', () => {
    expect(feed(['missed']).precision).toBeNull();
    expect(feed(['missed']).missed).toBe(1);
    const r = feed(['true_positive', 'true_positive', 'true_positive', 'false_positive', 'missed']);
    expect(r).toMatchObject({ truePositives: 3, falsePositives: 1, missed: 1, precision: 0.75, updatedAtMs: 1004 });
  });

  it('refuses another tenant or detector record', () => {
    const r = feed(['false_positive']);
    expect(() => applyFeedback(r, 't2', 'loop', 'false_positive', 0)).toThrow(RangeError);
    expect(() => applyFeedback(r, 't1', 'retry_storm', 'false_positive', 0)).toThrow(RangeError);
  });

  it('clamps a corrupt shift back into range', () => {
    expect(nextShift(5, 'false_positive')).toBeLessThanOrEqual(MAX_CONFIDENCE_SHIFT);
    expect(nextShift(-1, 'true_positive')).toBe(0);
    expect(nextShift(Number.NaN, 'false_positive')).toBe(0.075);
  });
});

describe('calibrate', () => {
  it('passes every finding untouched for an uncalibrated tenant', () => {
    const found = [ranked('loop', 0.7), ranked('loop', 0.2, 'g')];
    const { kept, suppressed } = calibrate(found, () => 0);
    expect(kept).toEqual(found);
    expect(kept[0]).toBe(found[0]);
    expect(suppressed).toEqual([]);
  });

  it('lowers confidence and says why, then suppresses a 0.7 finding after enough false positives', () => {
    const finding = ranked('loop', 0.7);
    const three = feed(times(3, 'false_positive')).confidenceShift;
    const four = feed(times(4, 'false_positive')).confidenceShift;

    const after3 = calibrate([finding], () => three);
    expect(after3.suppressed).toEqual([]);
    expect(after3.kept[0]!.finding.confidence).toBeCloseTo(0.7 - three, 12);
    expect(after3.kept[0]!.finding.confidence).toBeGreaterThanOrEqual(SUPPRESS_BELOW);
    expect(after3.kept[0]!.finding.evidence).toEqual([
      ...finding.finding.evidence,
      { description: "confidence lowered by 0.173 from this tenant's feedback", spanIds: [], data: { shift: three, originalConfidence: 0.7 } },
    ]);

    const after4 = calibrate([finding], () => four);
    expect(after4.kept).toEqual([]);
    expect(after4.suppressed).toHaveLength(1);
    expect(after4.suppressed[0]!.finding.confidence).toBeLessThan(SUPPRESS_BELOW);
    // The input is not mutated.
    expect(finding.finding.confidence).toBe(0.7);
    expect(finding.finding.evidence).toHaveLength(1);
  });

  it('leaves other detectors alone and keeps order', () => {
    const found = [ranked('retry_storm', 0.6), ranked('loop', 0.7), ranked('timeout', 0.9)];
    const shifts: Record<string, number> = { loop: MAX_CONFIDENCE_SHIFT };
    const { kept, suppressed } = calibrate(found, (id) => shifts[id] ?? 0);
    expect(kept).toEqual([found[0], found[2]]);
    expect(suppressed.map((r) => r.detectorId)).toEqual(['loop']);
  });

  it('keeps confidence in [0, 1] and ignores a bad shift', () => {
    const low = calibrate([ranked('loop', 0.1)], () => 0.3).suppressed[0]!;
    expect(low.finding.confidence).toBe(0);
    const found = [ranked('loop', 0.4)];
    expect(calibrate(found, () => -0.5).kept).toEqual(found);
    expect(calibrate(found, () => Number.NaN).kept).toEqual(found);
    // A shift beyond the max is held to it.
    const held = calibrate([ranked('loop', 0.95)], () => 2).kept[0]!;
    expect(held.finding.confidence).toBeCloseTo(0.95 - MAX_CONFIDENCE_SHIFT, 12);
  });
});
