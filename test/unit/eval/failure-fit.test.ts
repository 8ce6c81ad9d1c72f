import { describe, expect, it } from 'vitest';
import { failureScore } from '../../../src/detectors/failure-score.js';
import { fitFailureModel, type LabelledRun } from '../../../eval/failure-fit.js';

/** Runs where a high tool failure means failure 80% of the time and a low loop means nothing. */
function runs(): LabelledRun[] {
  const out: LabelledRun[] = [];
  for (let i = 0; i < 50; i++) out.push({ detections: [{ detectorId: 'tool_failure', severity: 'high', confidence: 1 }], failed: i % 5 !== 0 });
  for (let i = 0; i < 50; i++) out.push({ detections: [{ detectorId: 'loop', severity: 'low', confidence: 1 }], failed: i % 2 === 0 });
  for (let i = 0; i < 50; i++) out.push({ detections: [], failed: i % 10 === 0 });
  return out;
}

describe('fitting the failure score', () => {
  it('learns scores close to the failure rate of each kind of run, and is deterministic', () => {
    const model = fitFailureModel(runs(), 'test', { l2: 0.01 });
    expect(failureScore([{ detectorId: 'tool_failure', severity: 'high', confidence: 1 }], model)).toBeCloseTo(0.8, 1);
    expect(failureScore([{ detectorId: 'loop', severity: 'low', confidence: 1 }], model)).toBeCloseTo(0.5, 1);
    expect(failureScore([], model)).toBeCloseTo(0.1, 1);
    expect(fitFailureModel(runs(), 'test', { l2: 0.01 })).toEqual(model);
    expect(model.fittedOn).toBe('test');
  });

  it('shrinks weights toward zero as the penalty grows', () => {
    const loose = fitFailureModel(runs(), 'test', { l2: 0.01 });
    const tight = fitFailureModel(runs(), 'test', { l2: 100 });
    expect(Math.abs(tight.severity.high)).toBeLessThan(Math.abs(loose.severity.high));
  });
});
