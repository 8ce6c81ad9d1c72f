/**
 * The evaluation's results and their text rendering. Targets and published reference figures
 * sit beside each measured figure so a reader sees at once where the detectors stand.
 */
import type { Severity } from '../src/model/outputs.js';
import type { Discrimination, Firing, RunLevel } from './discrimination.js';
import type { Accuracy, FalsePositiveRate, RunScore } from './score.js';
import type { Split } from './tau-bench.js';
import type { Subset } from './who-and-when.js';

export const TARGETS = { agentAccuracy: 0.45, stepAccuracy: 0.2, falsePositiveRate: 0.05 } as const;

/**
 * Targets on real tau-bench runs: few successful runs flagged, most failed runs flagged at
 * medium or above, and a run's most severe detection ranking failed runs above successful ones.
 */
export const TAU_TARGETS = {
  succeededAnyMax: 0.2,
  succeededMediumMax: 0.05,
  failedMediumMin: 0.5,
  aurocMin: 0.8,
} as const;

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
  readonly tauBench: TauBenchResults;
}

export interface TauRunResult {
  readonly id: string;
  readonly taskId: number;
  readonly trial: number;
  readonly succeeded: boolean;
  /** The most severe detection's severity, null without detections. */
  readonly maxSeverity: Severity | null;
  readonly failureScore: number | null;
  readonly detections: readonly {
    readonly detectorId: string;
    readonly detectionType: string;
    readonly severity: Severity;
    readonly confidence: number;
    readonly primary: boolean;
    readonly agent: string | null;
    readonly title: string;
    /** Each evidence entry's description and its data (JSON text, cut at EVIDENCE_DATA_CHARS). */
    readonly evidence: readonly { readonly description: string; readonly data: string }[];
  }[];
}

export const EVIDENCE_DATA_CHARS = 400;

export interface TauBenchResults {
  readonly datasetDir: string;
  /** The half every figure below is on. */
  readonly split: Split;
  readonly splitRule: string;
  /** Run counts of both halves (no detector figures). */
  readonly halves: Record<Split, { readonly runs: number; readonly succeeded: number; readonly failed: number }>;
  readonly discrimination: Discrimination;
  readonly targets: typeof TAU_TARGETS;
  /** The runs of this half, with their detections. */
  readonly runs: readonly TauRunResult[];
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

function meets(ok: boolean): string {
  return ok ? 'meets target' : 'misses target';
}

const frac = (n: number, d: number) => `${n}/${d} ${pct(d === 0 ? 0 : n / d)}`;
const prec = (p: number | null) => (p === null ? '–' : p.toFixed(2));

function firingRow(label: string, f: Firing, width: number): string {
  return (
    `  ${pad(label, width)}` +
    `${lpad(`${f.failed} ${pct(f.failedRate)}`, 13)}${lpad(`${f.failedMedium} ${pct(f.failedMediumRate)}`, 13)}` +
    `${lpad(`${f.succeeded} ${pct(f.succeededRate)}`, 13)}${lpad(`${f.succeededMedium} ${pct(f.succeededMediumRate)}`, 13)}` +
    `${lpad(prec(f.precision), 10)}${lpad(prec(f.precisionMedium), 8)}`
  );
}

function runLevelRow(label: string, failed: RunLevel, succeeded: RunLevel, key: 'any' | 'medium' | 'high', d: Discrimination, target: string): string {
  return `  ${pad(label, 22)}${lpad(frac(failed[key], d.failedRuns), 16)}${lpad(frac(succeeded[key], d.succeededRuns), 16)}   ${target}`.trimEnd();
}

/** The tau-bench section: every figure names the half it is on. */
export function renderTauBench(tau: TauBenchResults): string[] {
  const d = tau.discrimination;
  const t = tau.targets;
  const half = `[${tau.split} half]`;
  const lines: string[] = [];
  const h = tau.halves;
  lines.push(`tau-bench airline: ${h.tune.runs + h.report.runs} real runs from ${tau.datasetDir}`);
  lines.push(
    `  split ${tau.splitRule}: tune ${h.tune.runs} runs (${h.tune.succeeded} succeeded, ${h.tune.failed} failed), ` +
      `report ${h.report.runs} runs (${h.report.succeeded} succeeded, ${h.report.failed} failed)`,
  );
  lines.push(
    `  figures below are on the ${tau.split.toUpperCase()} half: ${d.runs} runs, ${d.succeededRuns} succeeded, ${d.failedRuns} failed` +
      (tau.split === 'report' ? ' (headline; `--split tune` prints the tune half)' : ' (for tuning; the headline figures are on the report half)'),
  );
  lines.push('');
  lines.push(`Run level ${half}`);
  lines.push(`  ${pad('runs with', 22)}${lpad(`failed (${d.failedRuns})`, 16)}${lpad(`succeeded (${d.succeededRuns})`, 16)}   target`);
  lines.push(
    runLevelRow('any detection', d.failed, d.succeeded, 'any', d, `succeeded ≤ ${pct(t.succeededAnyMax)}: ${meets(d.succeeded.anyRate <= t.succeededAnyMax)}`),
  );
  lines.push(
    runLevelRow(
      'severity ≥ medium',
      d.failed,
      d.succeeded,
      'medium',
      d,
      `succeeded ≤ ${pct(t.succeededMediumMax)}: ${meets(d.succeeded.mediumRate <= t.succeededMediumMax)}; ` +
        `failed ≥ ${pct(t.failedMediumMin)}: ${meets(d.failed.mediumRate >= t.failedMediumMin)}`,
    ),
  );
  lines.push(runLevelRow('severity ≥ high', d.failed, d.succeeded, 'high', d, ''));
  const auc = d.aurocMaxSeverity;
  lines.push(
    `  AUROC of the run's max severity ${half}: ${auc === null ? 'n/a' : auc.toFixed(3)}` +
      (auc === null ? '' : ` (target ≥ ${t.aurocMin.toFixed(2)}: ${meets(auc >= t.aurocMin)})`),
  );
  lines.push(
    d.aurocFailureScore === null
      ? `  AUROC of failureScore ${half}: not computed (${d.runsWithFailureScore}/${d.runs} runs carry a failureScore on the trace record or metrics)`
      : `  AUROC of failureScore ${half}: ${d.aurocFailureScore.toFixed(3)} (target ≥ ${t.aurocMin.toFixed(2)}: ${meets(d.aurocFailureScore >= t.aurocMin)})`,
  );
  lines.push('');
  lines.push(`Detector firing on real runs ${half}: runs it fires on (any severity, ≥ medium), P(failed | fired)`);
  const width = 44;
  lines.push(
    `  ${pad('detector / type', width)}${lpad(`failed (${d.failedRuns})`, 13)}${lpad('≥ medium', 13)}` +
      `${lpad(`succ. (${d.succeededRuns})`, 13)}${lpad('≥ medium', 13)}${lpad('P(any)', 10)}${lpad('P(≥med)', 8)}`,
  );
  const byActivity = Object.entries(d.byDetector).sort((a, b) => b[1].failed + b[1].succeeded - (a[1].failed + a[1].succeeded) || (a[0] < b[0] ? -1 : 1));
  const silent: string[] = [];
  for (const [id, f] of byActivity) {
    if (f.failed + f.succeeded === 0) {
      silent.push(id);
      continue;
    }
    lines.push(firingRow(id, f, width));
    const types = Object.entries(d.byType).filter(([key]) => key.startsWith(`${id}/`));
    if (types.length > 1 || (types.length === 1 && types[0]![0] !== `${id}/${id}`)) {
      for (const [key, tf] of types) lines.push(firingRow(`  ${key}`, tf, width));
    }
  }
  if (silent.length > 0) lines.push(`  silent ${half}: ${silent.join(', ')}`);
  lines.push(`  share of failed runs ${half} (P(failed) of a detector firing at random): ${pct(d.failedRuns / Math.max(1, d.runs))}`);
  lines.push('');
  // One line per successful run and detection type, repeats counted.
  const onSucceeded: string[] = [];
  let detectionsOnSucceeded = 0;
  for (const r of tau.runs.filter((x) => x.succeeded)) {
    const groups = new Map<string, { n: number; first: TauRunResult['detections'][number] }>();
    for (const det of r.detections) {
      detectionsOnSucceeded++;
      const key = `${det.detectorId}/${det.detectionType} (${det.severity})`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { n: 1, first: det });
      else g.n++;
    }
    for (const [key, g] of groups) onSucceeded.push(`    ${r.id}: ${key}${g.n > 1 ? ` ×${g.n}` : ''} ${g.first.title}`);
  }
  const withAny = tau.runs.filter((x) => x.succeeded && x.detections.length > 0).length;
  lines.push(`Detections on successful runs ${half}: ${detectionsOnSucceeded} in ${withAny} runs`);
  const shown = onSucceeded.slice(0, 15);
  lines.push(...shown);
  if (onSucceeded.length > shown.length) lines.push(`    … ${onSucceeded.length - shown.length} more (see --json)`);
  return lines;
}

export function renderText(res: EvalResults): string {
  const lines: string[] = [];
  lines.push('tracefold evaluation: failure attribution on Who&When, false positives on generated clean runs, discrimination on real tau-bench runs');
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
  lines.push('');
  lines.push(...renderTauBench(res.tauBench));
  return lines.join('\n');
}
