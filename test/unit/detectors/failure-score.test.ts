import { describe, expect, it } from 'vitest';
import { failureLogit, failureScore, type FailureModel } from '../../../src/detectors/failure-score.js';
import { failureScoreOf, matches, type TraceFacets } from '../../../src/views/trace-facets.js';

const model: FailureModel = {
  fittedOn: 'test',
  bias: -2,
  severity: { critical: 4, high: 3, medium: 1.5, low: 0.5, info: 0 },
  detector: { loop: 1 },
};

describe('failure score', () => {
  it('is the logistic of the bias when nothing was found', () => {
    expect(failureLogit([], model)).toBe(-2);
    expect(failureScore([], model)).toBe(Math.round((1 / (1 + Math.exp(2))) * 1000) / 1000);
  });

  it("counts each detector's strongest detection once, weighted by its confidence", () => {
    const one = [{ detectorId: 'tool_failure', severity: 'high' as const, confidence: 0.5 }];
    expect(failureLogit(one, model)).toBeCloseTo(-2 + 3 * 0.5);
    // The same failure on more spans adds nothing; a less severe one of the same detector neither.
    const more = [...one, ...one, { detectorId: 'tool_failure', severity: 'low' as const, confidence: 0.9 }];
    expect(failureLogit(more, model)).toBeCloseTo(failureLogit(one, model));
    // Another detector adds its own; a detector weight adds to its severity's.
    const loop = { detectorId: 'loop', severity: 'medium' as const, confidence: 1 };
    expect(failureLogit([...one, loop], model)).toBeCloseTo(-2 + 1.5 + (1.5 + 1));
  });

  it('rises with what was found and stays within [0, 1]', () => {
    const low = failureScore([{ detectorId: 'x', severity: 'low', confidence: 0.5 }], model);
    const high = failureScore([{ detectorId: 'x', severity: 'critical', confidence: 1 }], model);
    expect(low).toBeLessThan(high);
    expect(failureScore(Array.from({ length: 50 }, (_, i) => ({ detectorId: `d${i}`, severity: 'critical' as const, confidence: 1 })), model)).toBeLessThanOrEqual(1);
  });

  it('is read from the facets the trace list keeps, older entries counting as confidence 1, and filters the list', () => {
    const facets: TraceFacets = {
      traceId: 't',
      revision: 1,
      closedAtMs: 1,
      serviceName: 's',
      rootName: 'r',
      hasError: false,
      spanCount: 1,
      startTimeMs: 0,
      durationMs: 1,
      agents: [],
      models: [],
      costUsd: null,
      detections: { a: { type: 'loop', severity: 'high', detector: 'loop', confidence: 0.9 }, b: { type: 'tool_failure', severity: 'low' } },
    };
    const expected = failureScore([
      { detectorId: 'loop', severity: 'high', confidence: 0.9 },
      { detectorId: 'tool_failure', severity: 'low', confidence: 1 },
    ]);
    expect(failureScoreOf(facets)).toBe(expected);
    expect(matches(facets, { minFailureScore: expected })).toBe(true);
    expect(matches(facets, { minFailureScore: Math.min(1, expected + 0.001) })).toBe(false);
    expect(matches({ ...facets, detections: {} }, { minFailureScore: 0.5 })).toBe(false);
  });
});
