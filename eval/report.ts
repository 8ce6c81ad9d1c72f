/**
 * The evaluation's results and their text rendering. Targets and published reference figures
 * sit beside each measured figure so a reader sees at once where the detectors stand.
 */
import type { Accuracy, FalsePositiveRate, RunScore } from './score.js';
import type { Subset } from './who-and-when.js';

export const TARGETS = { agentAccuracy: 0.45, stepAccuracy: 0.2, falsePositiveRate: 0.05 } as const;

/** Published figures on Who&When (all 184 runs), for context; not recomputed here. */
export const REFERENCES = [
  { name: 'best LLM judge (Who&When paper)', agentAccuracy: 0.535, stepAccuracy: 0.142 },
  { name: 'published heuristic detector system', agentAccuracy: 0.31, stepAccuracy: 0.168 },
] as const;

export type BySubset<T> = Record<'overall' | Subset, T>;

export interface EvalResults {
  readonly pipelineVersion: string;
  readonly runAt: string;
  readonly datasetDir: string;
  readonly whoAndWhenRuns: number;
  readonly clean: { readonly runs: number; readonly seed: number };
  readonly firing: {
    readonly whoAndWhen: Record<string, { detections: number; runs: number }>;
    readonly clean: Record<string, { detections: number; runs: number }>;
  };
  readonly attribution: BySubset<Accuracy>;
  readonly baselines: { readonly mostTurns: BySubset<Accuracy>; readonly firstStep: BySubset<Accuracy> };
  /** Which detector's detection was primary on Who&When runs, and how often it named the right agent / step. */
  readonly primaryByDetector: Record<string, { runs: number; agentHits: number; stepHits: number }>;
  readonly falsePositives: FalsePositiveRate & { readonly byKind: Record<string, FalsePositiveRate> };
  /** Clean runs' detections, for inspecting false positives. */
  readonly cleanDetections: readonly { id: string; detectorId: string; detectionType: string; severity: string; title: string }[];
  readonly runs: readonly RunScore[];
  readonly targets: typeof TARGETS;
  readonly references: typeof REFERENCES;
}

export function primaryByDetector(scores: readonly RunScore[]): Record<string, { runs: number; agentHits: number; stepHits: number }> {
  const out: Record<string, { runs: number; agentHits: number; stepHits: number }> = {};
  for (const s of scores) {
    const key = s.prediction.detectorId === null ? '(none)' : `${s.prediction.detectorId}/${s.prediction.detectionType}`;
    const c = (out[key] ??= { runs: 0, agentHits: 0, stepHits: 0 });
    c.runs++;
    if (s.agentHit) c.agentHits++;
    if (s.stepHit) c.stepHits++;
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

function accuracyRows(label: string, acc: BySubset<Accuracy>): string[] {
  return (['Hand-Crafted', 'Algorithm-Generated', 'overall'] as const).map(
    (k) =>
      `  ${pad(label, 38)}${pad(k, 21)}${lpad(`${acc[k].agentHits}/${acc[k].runs}`, 8)} ${lpad(pct(acc[k].agentAccuracy), 6)}` +
      `${lpad(`${acc[k].stepHits}/${acc[k].runs}`, 10)} ${lpad(pct(acc[k].stepAccuracy), 6)}`,
  );
}

function mark(ok: boolean): string {
  return ok ? 'meets target' : 'below target';
}

export function renderText(res: EvalResults): string {
  const lines: string[] = [];
  lines.push('tracefold evaluation: failure attribution on Who&When, false positives on generated clean runs');
  lines.push(`pipeline version: ${res.pipelineVersion}`);
  lines.push(`run at: ${res.runAt}`);
  lines.push(`Who&When: ${res.whoAndWhenRuns} runs from ${res.datasetDir}`);
  lines.push(`clean runs: ${res.clean.runs} generated (seed ${res.clean.seed})`);
  lines.push('');
  lines.push('Detector firing (detections / runs with one)');
  lines.push(`  ${pad('detector', 26)}${lpad('Who&When', 16)}${lpad('clean runs', 16)}`);
  const ids = [...new Set([...Object.keys(res.firing.whoAndWhen), ...Object.keys(res.firing.clean)])].sort();
  for (const id of ids) {
    const w = res.firing.whoAndWhen[id] ?? { detections: 0, runs: 0 };
    const c = res.firing.clean[id] ?? { detections: 0, runs: 0 };
    lines.push(`  ${pad(id, 26)}${lpad(`${w.detections} / ${w.runs}`, 16)}${lpad(`${c.detections} / ${c.runs}`, 16)}`);
  }
  lines.push('');
  lines.push('Failure attribution (prediction = the primary detection)');
  lines.push(`  ${pad('system', 38)}${pad('subset', 21)}${lpad('agent', 15)}${lpad('step', 17)}`);
  lines.push(...accuracyRows('tracefold detectors', res.attribution));
  lines.push(...accuracyRows('baseline: agent with most turns', res.baselines.mostTurns));
  lines.push(...accuracyRows('baseline: first non-user step', res.baselines.firstStep));
  for (const ref of res.references) {
    lines.push(`  ${pad(ref.name, 38)}${pad('published', 21)}${lpad(pct(ref.agentAccuracy), 15)}${lpad(pct(ref.stepAccuracy), 17)}`);
  }
  const overall = res.attribution.overall;
  lines.push(
    `  agent-level ${pct(overall.agentAccuracy)} (target ≥ ${pct(res.targets.agentAccuracy)}: ${mark(overall.agentAccuracy >= res.targets.agentAccuracy)}); ` +
      `step-level ${pct(overall.stepAccuracy)} (target ≥ ${pct(res.targets.stepAccuracy)}: ${mark(overall.stepAccuracy >= res.targets.stepAccuracy)}); ` +
      `runs with any detection: ${overall.predicted}/${overall.runs}`,
  );
  lines.push('');
  lines.push('Primary detection on Who&When runs (runs, right agent, right step)');
  for (const [key, c] of Object.entries(res.primaryByDetector).sort((a, b) => b[1].runs - a[1].runs)) {
    lines.push(`  ${pad(key, 48)}${lpad(String(c.runs), 5)}${lpad(String(c.agentHits), 6)}${lpad(String(c.stepHits), 6)}`);
  }
  lines.push('');
  const fp = res.falsePositives;
  lines.push('False positives on clean runs');
  lines.push(
    `  any detection: ${fp.withAny}/${fp.runs} = ${pct(fp.rate)} (target ≤ ${pct(res.targets.falsePositiveRate)}: ${mark(fp.rate <= res.targets.falsePositiveRate)})`,
  );
  lines.push(`  severity ≥ medium: ${fp.withMediumOrAbove}/${fp.runs} = ${pct(fp.rateMediumOrAbove)}`);
  for (const [kind, k] of Object.entries(fp.byKind)) lines.push(`  ${pad(kind, 22)}${lpad(`${k.withAny}/${k.runs}`, 8)} ${lpad(pct(k.rate), 6)}`);
  const shown = res.cleanDetections.slice(0, 10);
  for (const d of shown) lines.push(`    ${d.id}: ${d.detectorId}/${d.detectionType} (${d.severity}) ${d.title}`);
  if (res.cleanDetections.length > shown.length) lines.push(`    … ${res.cleanDetections.length - shown.length} more (see --json)`);
  return lines.join('\n');
}
