/**
 * `npm run -s eval:fit`: fits the failure score's weights (src/detectors/failure-score.ts) on
 * the tune half of tau-bench airline (eval/tau-bench.ts, split by task_id) and writes them to
 * src/detectors/data/failure-score.json. Only the tune half is read: `npm run eval` then
 * reports the score on the other half, which the fit never saw. Run it again after a detector
 * changes what it finds.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureScore } from '../src/detectors/failure-score.js';
import { createDetectors } from '../src/detectors/registry.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { analyzeRun } from './analyze.js';
import { auroc } from './discrimination.js';
import { fitFailureModel, type LabelledRun } from './failure-fit.js';
import * as tau from './tau-bench.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const detectors = createDetectors();
const version = pipelineVersion();
const runs: LabelledRun[] = tau
  .loadDataset(tau.datasetDir(repoRoot))
  .filter((r) => r.split === 'tune')
  .map((loaded) => ({
    detections: analyzeRun(tau.convertRun(loaded.run, loaded.id).request, detectors, version).detections.filter((d) => d.subsumedBy === null),
    failed: !loaded.succeeded,
  }));
const failed = runs.filter((r) => r.failed).length;
const model = fitFailureModel(runs, `tau-bench airline, tune half (${tau.SPLIT_RULE}): ${runs.length} runs, ${failed} failed; pipeline ${version}`);
const file = path.join(repoRoot, 'src', 'detectors', 'data', 'failure-score.json');
writeFileSync(file, `${JSON.stringify(model, null, 2)}\n`);
const scores = runs.map((r) => ({ failed: r.failed, score: failureScore(r.detections, model) }));
const inSample = auroc(
  scores.filter((s) => s.failed).map((s) => s.score),
  scores.filter((s) => !s.failed).map((s) => s.score),
);
process.stdout.write(`wrote ${path.relative(repoRoot, file)}\n${JSON.stringify(model, null, 2)}\n`);
process.stdout.write(`AUROC on the tune half it was fitted on (in-sample, not a result): ${inSample?.toFixed(3)}; npm run eval reports the other half\n`);
