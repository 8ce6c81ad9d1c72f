/**
 * `npm run eval`: failure attribution on Who&When, false positives on generated clean runs,
 * and discrimination between failed and successful real runs on tau-bench airline, through
 * the trace stage's own analysis path. `--json` prints the results as JSON; `--split tune`
 * prints the tau-bench tune half instead of the report half. The datasets are read in place
 * (TRACEFOLD_WHO_AND_WHEN_DIR and TRACEFOLD_TAU_BENCH_DIR, else ../shared next to the repo).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetectors, detectorVersions } from '../src/detectors/registry.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import type { Detector } from '../src/detectors/detector.js';
import { severityRank, type Severity } from '../src/model/outputs.js';
import { analyzeRequest, analyzeRun } from './analyze.js';
import { DEFAULT_CLEAN_RUNS, DEFAULT_SEED, generateCleanRuns } from './clean-runs.js';
import { discrimination, type LabelledResult } from './discrimination.js';
import {
  EVIDENCE_DATA_CHARS,
  primaryByDetector,
  REFERENCES,
  renderText,
  TARGETS,
  TAU_TARGETS,
  type EvalResults,
  type TauBenchResults,
  type TauRunResult,
} from './report.js';
import {
  accuracyBySubset,
  falsePositiveRate,
  firingCounts,
  firstStepBaseline,
  mostTurnsBaseline,
  predict,
  scoreRun,
  type CleanRunResult,
  type RunScore,
} from './score.js';
import * as tau from './tau-bench.js';
import { convertRun, datasetDir, loadDataset } from './who-and-when.js';

/** The tau-bench runs of one half through the analysis path, with their failed/successful labels. */
export function evaluateTauBench(dir: string, split: tau.Split, detectors: readonly Detector[], version: string): TauBenchResults {
  const all = tau.loadDataset(dir);
  const halves = Object.fromEntries(
    tau.SPLITS.map((s) => {
      const runs = all.filter((r) => r.split === s);
      const ok = runs.filter((r) => r.succeeded).length;
      return [s, { runs: runs.length, succeeded: ok, failed: runs.length - ok }];
    }),
  ) as TauBenchResults['halves'];
  const runs: TauRunResult[] = [];
  const labelled: LabelledResult[] = [];
  for (const loaded of all.filter((r) => r.split === split)) {
    const converted = tau.convertRun(loaded.run, loaded.id);
    const { detections, failureScore } = analyzeRun(converted.request, detectors, version);
    labelled.push({ id: loaded.id, failed: !loaded.succeeded, detections, failureScore });
    let maxSeverity: Severity | null = null;
    for (const d of detections) if (maxSeverity === null || severityRank[d.severity] > severityRank[maxSeverity]) maxSeverity = d.severity;
    runs.push({
      id: loaded.id,
      taskId: loaded.taskId,
      trial: loaded.trial,
      succeeded: loaded.succeeded,
      maxSeverity,
      failureScore,
      detections: detections.map((d) => ({
        detectorId: d.detectorId,
        detectionType: d.detectionType,
        severity: d.severity,
        confidence: d.confidence,
        primary: d.primary,
        agent: d.agent,
        title: d.title,
        evidence: d.evidence.map((e) => ({ description: e.description, data: e.dataJson.slice(0, EVIDENCE_DATA_CHARS) })),
      })),
    });
  }
  return {
    datasetDir: dir,
    split,
    splitRule: tau.SPLIT_RULE,
    halves,
    discrimination: discrimination(labelled, Object.keys(detectorVersions())),
    targets: TAU_TARGETS,
    runs,
  };
}

export interface EvalOptions {
  readonly cleanRuns?: number;
  readonly seed?: number;
  readonly tauBenchDir: string;
  readonly split?: tau.Split;
}

export function evaluate(dir: string, options: EvalOptions): EvalResults {
  const { cleanRuns = DEFAULT_CLEAN_RUNS, seed = DEFAULT_SEED, split = 'report' } = options;
  const detectors = createDetectors();
  const version = pipelineVersion();
  const dataset = loadDataset(dir);

  const scores: RunScore[] = [];
  const mostTurns: RunScore[] = [];
  const firstStep: RunScore[] = [];
  const wwDetections = [];
  for (const { id, subset, run } of dataset) {
    const converted = convertRun(run, subset, id);
    const detections = analyzeRequest(converted.request, detectors, version);
    wwDetections.push(detections);
    scores.push(scoreRun(id, subset, run.mistake_agent, run.mistake_step, predict(detections, converted.stepSpanIds, converted.childSteps)));
    mostTurns.push(scoreRun(id, subset, run.mistake_agent, run.mistake_step, mostTurnsBaseline(converted.turns)));
    firstStep.push(scoreRun(id, subset, run.mistake_agent, run.mistake_step, firstStepBaseline(converted.turns)));
  }

  const clean: CleanRunResult[] = generateCleanRuns(cleanRuns, seed).map((c) => ({
    id: c.id,
    kind: c.kind,
    detections: analyzeRequest(c.request, detectors, version),
  }));
  const kinds = [...new Set(clean.map((c) => c.kind))];

  // Every registered detector appears in the firing table, silent ones with zero.
  const zero = () => Object.fromEntries(Object.keys(detectorVersions()).map((k) => [k, { detections: 0, runs: 0 }]));
  return {
    pipelineVersion: version,
    runAt: new Date().toISOString(),
    datasetDir: dir,
    whoAndWhenRuns: dataset.length,
    clean: { runs: clean.length, seed },
    firing: {
      whoAndWhen: { ...zero(), ...firingCounts(wwDetections) },
      clean: { ...zero(), ...firingCounts(clean.map((c) => c.detections)) },
    },
    attribution: accuracyBySubset(scores),
    baselines: { mostTurns: accuracyBySubset(mostTurns), firstStep: accuracyBySubset(firstStep) },
    primaryByDetector: primaryByDetector(scores),
    falsePositives: {
      ...falsePositiveRate(clean),
      byKind: Object.fromEntries(kinds.map((k) => [k, falsePositiveRate(clean.filter((c) => c.kind === k))])),
    },
    cleanDetections: clean.flatMap((c) =>
      c.detections.map((d) => ({ id: c.id, detectorId: d.detectorId, detectionType: d.detectionType, severity: d.severity, title: d.title })),
    ),
    runs: scores,
    targets: TARGETS,
    references: REFERENCES,
    tauBench: evaluateTauBench(options.tauBenchDir, split, detectors, version),
  };
}


function main(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dir = datasetDir(repoRoot);
  let results: EvalResults;
  try {
    results = evaluate(dir, { tauBenchDir: tau.datasetDir(repoRoot), split: tau.parseSplit(argv) });
  } catch (error) {
    process.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  process.stdout.write(json ? `${JSON.stringify(results, null, 2)}\n` : `${renderText(results)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
