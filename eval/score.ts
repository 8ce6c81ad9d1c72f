/**
 * Failure attribution scoring against the Who&When labels. The prediction for a run is its
 * primary detection (most severe, then most confident): its agent, and the history index of
 * its earliest affected span. A run with no detection, or whose primary detection names no
 * agent or no step, is a miss on that level.
 */
import type { Detection, Severity } from '../src/model/outputs.js';
import { severityRank } from '../src/model/outputs.js';
import type { Subset, TurnInfo } from './who-and-when.js';

/** Case-insensitive, without "(thought)"/"(-> X)" suffixes, underscores and spaces alike. */
export function normaliseAgent(name: string): string {
  return name
    .replace(/\s*\([^)]*\)\s*$/, '')
    .replace(/[\s_]+/g, ' ')
    .trim()
    .toLowerCase();
}

export function sameAgent(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && normaliseAgent(a) === normaliseAgent(b) && normaliseAgent(a) !== '';
}

export function parseStep(step: string | number): number | null {
  const n = typeof step === 'number' ? step : Number(String(step).trim());
  return Number.isInteger(n) && n >= 0 ? n : null;
}

export interface Prediction {
  readonly detectorId: string | null;
  readonly detectionType: string | null;
  readonly agent: string | null;
  readonly step: number | null;
}

export const NO_PREDICTION: Prediction = { detectorId: null, detectionType: null, agent: null, step: null };

export type PredictionSource = Pick<Detection, 'primary' | 'detectorId' | 'detectionType' | 'agent' | 'affectedSpanIds'>;

/**
 * The primary detection's agent and the earliest history step among its affected spans.
 * `childSteps` maps spans synthesised inside a turn to that turn's step.
 */
export function predict(
  detections: readonly PredictionSource[],
  stepSpanIds: readonly string[],
  childSteps: ReadonlyMap<string, number> = new Map(),
): Prediction {
  const primary = detections.find((d) => d.primary);
  if (primary === undefined) return NO_PREDICTION;
  const stepOf = new Map([...childSteps, ...stepSpanIds.map((id, i) => [id, i] as const)]);
  const steps = primary.affectedSpanIds.map((id) => stepOf.get(id)).filter((s): s is number => s !== undefined);
  return {
    detectorId: primary.detectorId,
    detectionType: primary.detectionType,
    agent: primary.agent,
    step: steps.length === 0 ? null : Math.min(...steps),
  };
}

export interface RunScore {
  readonly id: string;
  readonly subset: Subset;
  readonly labelAgent: string;
  readonly labelStep: number | null;
  readonly prediction: Prediction;
  readonly agentHit: boolean;
  readonly stepHit: boolean;
}

export function scoreRun(id: string, subset: Subset, labelAgent: string, labelStep: string | number, prediction: Prediction): RunScore {
  const step = parseStep(labelStep);
  return {
    id,
    subset,
    labelAgent,
    labelStep: step,
    prediction,
    agentHit: sameAgent(prediction.agent, labelAgent),
    stepHit: step !== null && prediction.step === step,
  };
}

export interface Accuracy {
  readonly runs: number;
  readonly predicted: number;
  readonly agentHits: number;
  readonly stepHits: number;
  readonly agentAccuracy: number;
  readonly stepAccuracy: number;
}

function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

export function accuracy(scores: readonly RunScore[]): Accuracy {
  const agentHits = scores.filter((s) => s.agentHit).length;
  const stepHits = scores.filter((s) => s.stepHit).length;
  return {
    runs: scores.length,
    predicted: scores.filter((s) => s.prediction.detectorId !== null).length,
    agentHits,
    stepHits,
    agentAccuracy: ratio(agentHits, scores.length),
    stepAccuracy: ratio(stepHits, scores.length),
  };
}

/** Overall and per subset. */
export function accuracyBySubset(scores: readonly RunScore[]): Record<'overall' | Subset, Accuracy> {
  return {
    overall: accuracy(scores),
    'Hand-Crafted': accuracy(scores.filter((s) => s.subset === 'Hand-Crafted')),
    'Algorithm-Generated': accuracy(scores.filter((s) => s.subset === 'Algorithm-Generated')),
  };
}

/**
 * Baseline: the agent with the most turns (hand-offs count for their sender; user and
 * terminal turns do not), predicted at its first turn. Ties go to the agent seen first.
 */
export function mostTurnsBaseline(turns: readonly TurnInfo[]): Prediction {
  const counts = new Map<string, { n: number; first: number }>();
  turns.forEach((t, i) => {
    if ((t.kind !== 'agent' && t.kind !== 'handoff') || t.agent === null) return;
    const c = counts.get(t.agent);
    if (c === undefined) counts.set(t.agent, { n: 1, first: i });
    else c.n++;
  });
  let best: [string, { n: number; first: number }] | undefined;
  for (const entry of counts) if (best === undefined || entry[1].n > best[1].n) best = entry;
  if (best === undefined) return NO_PREDICTION;
  return { detectorId: 'baseline', detectionType: 'most_turns', agent: best[0], step: best[1].first };
}

/** Baseline: the first step not taken by the user, and its agent. */
export function firstStepBaseline(turns: readonly TurnInfo[]): Prediction {
  const i = turns.findIndex((t) => t.kind !== 'user');
  if (i < 0) return NO_PREDICTION;
  return { detectorId: 'baseline', detectionType: 'first_step', agent: turns[i]!.agent, step: i };
}

export interface CleanRunResult {
  readonly id: string;
  readonly kind: string;
  readonly detections: readonly Pick<Detection, 'detectorId' | 'detectionType' | 'severity' | 'agent' | 'title'>[];
}

export interface FalsePositiveRate {
  readonly runs: number;
  readonly withAny: number;
  readonly withMediumOrAbove: number;
  readonly rate: number;
  readonly rateMediumOrAbove: number;
}

export function falsePositiveRate(results: readonly CleanRunResult[]): FalsePositiveRate {
  const atLeast = (s: Severity) => severityRank[s] >= severityRank.medium;
  const withAny = results.filter((r) => r.detections.length > 0).length;
  const withMediumOrAbove = results.filter((r) => r.detections.some((d) => atLeast(d.severity))).length;
  return {
    runs: results.length,
    withAny,
    withMediumOrAbove,
    rate: ratio(withAny, results.length),
    rateMediumOrAbove: ratio(withMediumOrAbove, results.length),
  };
}

/** Detections per detector id: how many detections, and in how many runs. */
export function firingCounts(perRun: readonly (readonly Pick<Detection, 'detectorId'>[])[]): Record<string, { detections: number; runs: number }> {
  const out: Record<string, { detections: number; runs: number }> = {};
  for (const detections of perRun) {
    const seen = new Set<string>();
    for (const d of detections) {
      const c = (out[d.detectorId] ??= { detections: 0, runs: 0 });
      c.detections++;
      if (!seen.has(d.detectorId)) c.runs++;
      seen.add(d.detectorId);
    }
  }
  return out;
}
