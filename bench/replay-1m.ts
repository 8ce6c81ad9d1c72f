/**
 * Replay of a large backlog through the trace stage: 1,000,000 spans (100,000 traces × 10
 * spans) already in an embedded log (fsync), read by the stage with live detection on until
 * every window closed, on stream time; beside a bare consumer of the same records. Target:
 * the whole replay in 60 s or less (goal 30 s).
 *
 *   npm run bench -- replay-1m      (not in the default set: minutes at full size)
 *
 * Environment: TRACEFOLD_BENCH_SPANS (default 1,000,000; rounded down to whole traces),
 * TRACEFOLD_BENCH_RUNS (default 3; the figures are medians), TRACEFOLD_BENCH_DIR (parent of
 * the temp dirs, default os.tmpdir()).
 */
import os from 'node:os';
import { createCodecs, LocalSchemaIds } from '../src/log/serde/index.js';
import { envInt } from './http.js';
import { formatCount, formatRatio, median, perSecond, table } from './stats.js';
import { replayRun, type Env, type Throughput } from './trace-stage-harness.js';

const SPANS_PER_TRACE = 10;
const TARGET_S = 60;
const GOAL_S = 30;

export async function runReplay1mBench(): Promise<void> {
  const spans = envInt('TRACEFOLD_BENCH_SPANS', 1_000_000);
  const runs = envInt('TRACEFOLD_BENCH_RUNS', 3);
  const shape = { traces: Math.max(1, Math.floor(spans / SPANS_PER_TRACE)), spansPerTrace: SPANS_PER_TRACE };
  const env: Env = { parent: process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir(), codecs: await createCodecs(new LocalSchemaIds()) };
  console.log(`replay: ${formatCount(shape.traces)} traces × ${SPANS_PER_TRACE} spans, sync fsync, live detection on, median of ${runs} runs, dir=${env.parent}`);
  const results: Throughput[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await replayRun(env, shape);
    results.push(result);
    console.log(`  run ${run + 1}: stage ${(result.stageMs / 1000).toFixed(1)} s, bare consumer ${(result.baselineMs / 1000).toFixed(1)} s`);
  }
  const total = shape.traces * SPANS_PER_TRACE;
  const stageS = median(results.map((r) => r.stageMs)) / 1000;
  const stageRate = median(results.map((r) => perSecond(r.spans, r.stageMs)));
  const baselineRate = median(results.map((r) => perSecond(r.spans, r.baselineMs)));
  console.log(
    table([
      ['', 'seconds', 'spans/s', 'vs bare consumer'],
      ['bare consumer (same records)', (median(results.map((r) => r.baselineMs)) / 1000).toFixed(1), formatCount(baselineRate), '1.00x'],
      ['trace stage, replay, live detection on', stageS.toFixed(1), formatCount(stageRate), formatRatio(stageRate / baselineRate)],
    ]),
  );
  // The target is for a million spans: a smaller run is scaled to it.
  const projectedS = (stageS * 1_000_000) / total;
  const verdict = projectedS <= GOAL_S ? 'goal met' : projectedS <= TARGET_S ? 'target met, goal not' : 'OVER the target';
  console.log(
    `${formatCount(total)} spans in ${stageS.toFixed(1)} s` +
      (total === 1_000_000 ? '' : ` (${projectedS.toFixed(0)} s for 1,000,000 at this rate)`) +
      `; target <= ${TARGET_S} s, goal ${GOAL_S} s: ${verdict}; ${formatCount(median(results.map((r) => r.bytesPerSpan)))} bytes/span written by the stage`,
  );
}
