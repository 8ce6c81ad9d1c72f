import { describe, expect, it } from 'vitest';
import {
  accuracy,
  falsePositiveRate,
  firingCounts,
  firstStepBaseline,
  mostTurnsBaseline,
  normaliseAgent,
  parseStep,
  predict,
  sameAgent,
  type PredictionSource,
  scoreRun,
} from '../../../eval/score.js';
import type { TurnInfo } from '../../../eval/who-and-when.js';

function detection(overrides: Partial<PredictionSource>): PredictionSource {
  return { primary: false, detectorId: 'span_errors', detectionType: 'tool_failure', agent: null, affectedSpanIds: [], ...overrides };
}

const steps = ['s0', 's1', 's2', 's3', 's4'];

describe('agent name normalisation', () => {
  it.each([
    ['Orchestrator (thought)', 'orchestrator'],
    ['Orchestrator (-> WebSurfer)', 'orchestrator'],
    ['Verification_Expert', 'verification expert'],
    ['verification expert', 'verification expert'],
    ['  WebSurfer ', 'websurfer'],
  ])('%j → %j', (name, expected) => {
    expect(normaliseAgent(name)).toBe(expected);
  });

  it('compares agents after normalisation, never matching a missing name', () => {
    expect(sameAgent('Verification_Expert', 'verification expert')).toBe(true);
    expect(sameAgent('Orchestrator (thought)', 'Orchestrator')).toBe(true);
    expect(sameAgent('WebSurfer', 'FileSurfer')).toBe(false);
    expect(sameAgent(null, 'WebSurfer')).toBe(false);
    expect(sameAgent('', '')).toBe(false);
  });

  it('parses label steps given as strings or numbers', () => {
    expect(parseStep('12')).toBe(12);
    expect(parseStep(3)).toBe(3);
    expect(parseStep('x')).toBeNull();
    expect(parseStep('-1')).toBeNull();
  });
});

describe('predict', () => {
  it('uses the primary detection and the earliest history step of its affected spans', () => {
    const detections = [
      detection({ primary: true, agent: 'WebSurfer', affectedSpanIds: ['s3', 'root', 's1'] }),
      detection({ agent: 'Orchestrator', affectedSpanIds: ['s0'] }),
    ];
    expect(predict(detections, steps)).toEqual({ detectorId: 'span_errors', detectionType: 'tool_failure', agent: 'WebSurfer', step: 1 });
  });

  it('maps spans synthesised inside a turn to that turn', () => {
    const childSteps = new Map([['action2', 2]]);
    expect(predict([detection({ primary: true, agent: 'WebSurfer', affectedSpanIds: ['action2', 's3'] })], steps, childSteps).step).toBe(2);
  });

  it('has no step when no affected span is a history turn', () => {
    expect(predict([detection({ primary: true, agent: 'A', affectedSpanIds: ['root'] })], steps).step).toBeNull();
  });

  it('counts a run without detections as a miss on both levels', () => {
    const score = scoreRun('r', 'Hand-Crafted', 'WebSurfer', '3', predict([], steps));
    expect(score).toMatchObject({ agentHit: false, stepHit: false, labelStep: 3 });
    expect(accuracy([score])).toMatchObject({ runs: 1, predicted: 0, agentAccuracy: 0, stepAccuracy: 0 });
  });

  it('scores agent and step hits separately', () => {
    const hit = scoreRun('a', 'Algorithm-Generated', 'Verification_Expert', '4', { detectorId: 'x', detectionType: 'x', agent: 'verification expert', step: 4 });
    const agentOnly = scoreRun('b', 'Algorithm-Generated', 'Orchestrator', '2', { detectorId: 'x', detectionType: 'x', agent: 'Orchestrator (thought)', step: 3 });
    expect([hit.agentHit, hit.stepHit, agentOnly.agentHit, agentOnly.stepHit]).toEqual([true, true, true, false]);
    expect(accuracy([hit, agentOnly])).toMatchObject({ agentHits: 2, stepHits: 1, agentAccuracy: 1, stepAccuracy: 0.5 });
  });
});

describe('baselines', () => {
  const turns: TurnInfo[] = [
    { kind: 'user', agent: null, target: null },
    { kind: 'agent', agent: 'Orchestrator', target: null },
    { kind: 'handoff', agent: 'Orchestrator', target: 'WebSurfer' },
    { kind: 'agent', agent: 'WebSurfer', target: null },
    { kind: 'terminal', agent: 'WebSurfer', target: null },
    { kind: 'agent', agent: 'WebSurfer', target: null },
  ];

  it('picks the agent with the most turns (hand-offs count, terminal runs do not), at its first turn', () => {
    expect(mostTurnsBaseline(turns)).toMatchObject({ agent: 'Orchestrator', step: 1 });
  });

  it('picks the first step not taken by the user', () => {
    expect(firstStepBaseline(turns)).toMatchObject({ agent: 'Orchestrator', step: 1 });
  });
});

describe('false positives and firing counts', () => {
  it('counts runs with any detection and with one of severity medium or above', () => {
    const fp = falsePositiveRate([
      { id: 'a', kind: 'k', detections: [] },
      { id: 'b', kind: 'k', detections: [{ detectorId: 'x', detectionType: 'x', severity: 'low', agent: null, title: '' }] },
      { id: 'c', kind: 'k', detections: [{ detectorId: 'x', detectionType: 'x', severity: 'medium', agent: null, title: '' }] },
      { id: 'd', kind: 'k', detections: [] },
    ]);
    expect(fp).toEqual({ runs: 4, withAny: 2, withMediumOrAbove: 1, rate: 0.5, rateMediumOrAbove: 0.25 });
  });

  it('counts detections and runs per detector', () => {
    expect(firingCounts([[{ detectorId: 'a' }, { detectorId: 'a' }], [{ detectorId: 'a' }, { detectorId: 'b' }], []])).toEqual({
      a: { detections: 3, runs: 2 },
      b: { detections: 1, runs: 1 },
    });
  });
});
