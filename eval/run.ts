/**
 * `npm run eval`: failure attribution on Who&When and false positives on generated clean
 * runs, through the trace stage's own analysis path. `--json` prints the results as JSON.
 * The dataset is read in place (TRACEFOLD_WHO_AND_WHEN_DIR, else ../shared next to the repo).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetectors, detectorVersions } from '../src/detectors/registry.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { analyzeRequest } from './analyze.js';
import { DEFAULT_CLEAN_RUNS, DEFAULT_SEED, generateCleanRuns } from './clean-runs.js';
import { primaryByDetector, REFERENCES, renderText, TARGETS, type EvalResults } from './report.js';
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
import { convertRun, datasetDir, loadDataset } from './who-and-when.js';

export function evaluate(dir: string, cleanRuns = DEFAULT_CLEAN_RUNS, seed = DEFAULT_SEED): EvalResults {
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
  };
}

function main(argv: readonly string[]): number {
  const json = argv.includes('--json');
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dir = datasetDir(repoRoot);
  let results: EvalResults;
  try {
    results = evaluate(dir);
  } catch (error) {
    process.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  process.stdout.write(json ? `${JSON.stringify(results, null, 2)}\n` : `${renderText(results)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
