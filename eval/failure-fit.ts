/**
 * Fits the failure score's weights (src/detectors/failure-score.ts) to labelled runs: an
 * L2-regularised logistic regression over each run's strongest detection per detector.
 * The model is linear in its weights: a severity weight and a detector weight each multiply
 * the confidence of the detector's strongest detection, so the features of a run are, per
 * severity and per detector, the sum of those confidences. Plain gradient descent with a
 * fixed step count: deterministic, and small enough for a few hundred runs.
 */
import { strongestByDetector, type FailureModel, type ScoredDetection } from '../src/detectors/failure-score.js';
import type { Severity } from '../src/model/outputs.js';

export interface LabelledRun {
  readonly detections: readonly ScoredDetection[];
  readonly failed: boolean;
}

export interface FitOptions {
  /** L2 penalty on every weight but the bias (per run, so it does not fade with more data). */
  readonly l2?: number;
  readonly steps?: number;
  readonly learningRate?: number;
}

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Feature names: the bias, `severity:<s>` and `detector:<id>`. */
function featuresOf(run: LabelledRun): Map<string, number> {
  const x = new Map<string, number>([['bias', 1]]);
  for (const d of strongestByDetector(run.detections)) {
    x.set(`severity:${d.severity}`, (x.get(`severity:${d.severity}`) ?? 0) + d.confidence);
    x.set(`detector:${d.detectorId}`, (x.get(`detector:${d.detectorId}`) ?? 0) + d.confidence);
  }
  return x;
}

export function fitFailureModel(runs: readonly LabelledRun[], fittedOn: string, options: FitOptions = {}): FailureModel {
  const l2 = options.l2 ?? 1;
  const steps = options.steps ?? 4000;
  const rate = options.learningRate ?? 0.5;
  const samples = runs.map((run) => ({ x: featuresOf(run), y: run.failed ? 1 : 0 }));
  const names = new Set<string>(['bias', ...SEVERITIES.map((s) => `severity:${s}`)]);
  for (const { x } of samples) for (const name of x.keys()) names.add(name);
  const w = new Map<string, number>([...names].map((name) => [name, 0]));
  const n = Math.max(1, samples.length);
  for (let step = 0; step < steps; step++) {
    const gradient = new Map<string, number>([...names].map((name) => [name, name === 'bias' ? 0 : (l2 * w.get(name)!) / n]));
    for (const { x, y } of samples) {
      let z = 0;
      for (const [name, value] of x) z += w.get(name)! * value;
      const error = 1 / (1 + Math.exp(-z)) - y;
      for (const [name, value] of x) gradient.set(name, gradient.get(name)! + (error * value) / n);
    }
    for (const [name, g] of gradient) w.set(name, w.get(name)! - rate * g);
  }
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const severity = Object.fromEntries(SEVERITIES.map((s) => [s, round(w.get(`severity:${s}`) ?? 0)])) as Record<Severity, number>;
  const detector: Record<string, number> = {};
  for (const [name, value] of [...w].sort(([a], [b]) => a.localeCompare(b))) {
    if (name.startsWith('detector:') && round(value) !== 0) detector[name.slice('detector:'.length)] = round(value);
  }
  return { fittedOn, bias: round(w.get('bias')!), severity, detector };
}
