import { describe, expect, it } from 'vitest';
import { failureScoreOf } from '../../../eval/analyze.js';
import { auroc, discrimination, maxSeverityScore, type LabelledResult, type RunDetection } from '../../../eval/discrimination.js';

const d = (detectorId: string, severity: RunDetection['severity'], detectionType = detectorId): RunDetection => ({ detectorId, detectionType, severity });

describe('auroc (Mann–Whitney, ties count one half)', () => {
  it('matches a hand-computed value with ties', () => {
    // Pairs (positive, negative), 9 in all: 3 beats 2, -1, -1 (3); 2 ties 2 and beats -1, -1 (2.5);
    // -1 loses to 2 and ties -1, -1 (1). (3 + 2.5 + 1) / 9 = 13/18.
    expect(auroc([3, 2, -1], [2, -1, -1])).toBeCloseTo(13 / 18, 12);
  });

  it('is 1 for perfect separation, 0 for reversed, 0.5 when all scores tie', () => {
    expect(auroc([2, 3], [0, 1])).toBe(1);
    expect(auroc([0, 1], [2, 3])).toBe(0);
    expect(auroc([1, 1, 1], [1, 1])).toBe(0.5);
  });

  it('is null without positives or negatives', () => {
    expect(auroc([], [1])).toBeNull();
    expect(auroc([1], [])).toBeNull();
  });
});

describe('discrimination on labelled runs', () => {
  const results: LabelledResult[] = [
    { id: 'f1', failed: true, detections: [d('span_errors', 'high', 'tool_failure'), d('ungrounded_claim', 'low')], failureScore: null },
    { id: 'f2', failed: true, detections: [d('ungrounded_claim', 'medium')], failureScore: null },
    { id: 'f3', failed: true, detections: [], failureScore: null },
    { id: 'f4', failed: true, detections: [d('loop', 'medium'), d('loop', 'medium')], failureScore: null },
    { id: 's1', failed: false, detections: [d('ungrounded_claim', 'low')], failureScore: null },
    { id: 's2', failed: false, detections: [], failureScore: null },
  ];
  const res = discrimination(results, ['span_errors', 'loop', 'ungrounded_claim', 'persona_drift']);

  it('counts runs per label at any severity, medium and high', () => {
    expect([res.runs, res.failedRuns, res.succeededRuns]).toEqual([6, 4, 2]);
    expect(res.failed).toMatchObject({ any: 3, medium: 3, high: 1, anyRate: 0.75, mediumRate: 0.75, highRate: 0.25 });
    expect(res.succeeded).toMatchObject({ any: 1, medium: 0, high: 0, anyRate: 0.5, mediumRate: 0 });
  });

  it('gives each detector its firing shares and P(failed | fired), per run not per detection', () => {
    expect(res.byDetector.ungrounded_claim).toEqual({
      failed: 2,
      failedMedium: 1,
      succeeded: 1,
      succeededMedium: 0,
      failedRate: 0.5,
      failedMediumRate: 0.25,
      succeededRate: 0.5,
      succeededMediumRate: 0,
      precision: 2 / 3,
      precisionMedium: 1,
    });
    expect(res.byDetector.loop).toMatchObject({ failed: 1, succeeded: 0, precision: 1 });
    expect(res.byDetector.persona_drift).toMatchObject({ failed: 0, succeeded: 0, precision: null, precisionMedium: null });
    expect(Object.keys(res.byType)).toEqual(['loop/loop', 'span_errors/tool_failure', 'ungrounded_claim/ungrounded_claim']);
  });

  it('ranks runs by their most severe detection, a run without any lowest', () => {
    expect(maxSeverityScore([])).toBe(-1);
    expect(maxSeverityScore([d('a', 'low'), d('b', 'high')])).toBe(3);
    // failed: high 3, medium 2, none -1, medium 2; succeeded: low 1, none -1.
    // 3, 2, 2 beat both (6); -1 beats none, ties none (0.5). 6.5 / 8.
    expect(res.aurocMaxSeverity).toBeCloseTo(6.5 / 8, 12);
    expect(res.aurocFailureScore).toBeNull();
    expect(res.runsWithFailureScore).toBe(0);
  });

  it('scores failureScore when every run carries one', () => {
    const scored = results.map((r, i) => ({ ...r, failureScore: r.failed ? 0.9 - i * 0.1 : 0.1 }));
    expect(discrimination(scored).aurocFailureScore).toBe(1);
    expect(discrimination([{ ...scored[0]!, failureScore: null }, ...scored.slice(1)]).aurocFailureScore).toBeNull();
  });

  it('reads a numeric failureScore from the trace record, else the metrics', () => {
    expect(failureScoreOf({ failureScore: 0.7 }, { failureScore: 0.2 })).toBe(0.7);
    expect(failureScoreOf({ hasError: true }, { failureScore: 0.2 })).toBe(0.2);
    expect(failureScoreOf({ failureScore: '0.7' }, {})).toBeNull();
    expect(failureScoreOf({ failureScore: Number.NaN })).toBeNull();
  });
});
