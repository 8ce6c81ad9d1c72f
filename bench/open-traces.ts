/**
 * Many open traces held by the trace stage: one span each, no root, an inactivity gap of a
 * day, so no window closes. The spans are appended first (log sync none: memory does not
 * depend on fsync), then the stage reads them all; figures once every span is assembled:
 *
 * - heap used after a forced full GC, and its peak while the stage read; target < 300 MB;
 * - RSS;
 * - the embedded-log directory (one RocksDB for the raw topic and the stage's state) before
 *   the stage ran (the raw records alone) and after (its windows, spans, live state and
 *   offsets added).
 *
 *   npm run bench -- open-traces      (not in the default set: minutes at full size)
 *
 * Environment: TRACEFOLD_BENCH_OPEN_TRACES (default 1,000,000), TRACEFOLD_BENCH_DIR (parent
 * of the temp dir, default os.tmpdir()).
 */
import os from 'node:os';
import { spanRecord } from '../src/ingest/append-raw.js';
import { createCodecs, LocalSchemaIds } from '../src/log/serde/index.js';
import { envInt } from './http.js';
import { dirBytes, formatCount, perSecond } from './stats.js';
import { appendAll, forceGc, MB, memoryLine, newStage, openLog, sampleMemory, settledMemory, waitFor, type Env } from './trace-stage-harness.js';
import { benchSpan } from './trace-stage-spans.js';

const ENCODE_CHUNK = 5000;
const DAY_MS = 86_400_000;

export async function runOpenTracesBench(): Promise<void> {
  const traces = envInt('TRACEFOLD_BENCH_OPEN_TRACES', 1_000_000);
  const env: Env = { parent: process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir(), codecs: await createCodecs(new LocalSchemaIds()) };
  const opened = await openLog(env, 'none');
  try {
    const t0 = Date.now() - 60_000;
    const appendStarted = performance.now();
    for (let first = 0; first < traces; first += ENCODE_CHUNK) {
      const n = Math.min(ENCODE_CHUNK, traces - first);
      const records = await Promise.all(Array.from({ length: n }, (_, i) => spanRecord(env.codecs, benchSpan(first + i, 1, t0 + Math.floor((first + i) / 1000), true))));
      await appendAll(opened.log, records);
    }
    const appendMs = performance.now() - appendStarted;
    const rawBytes = await dirBytes(opened.dataDir);

    forceGc();
    const baselineHeap = process.memoryUsage().heapUsed;
    const stage = newStage(opened.log, env.codecs, { inactivityGapMs: DAY_MS, rootSettleMs: DAY_MS });
    const sampler = sampleMemory();
    const started = performance.now();
    await stage.start();
    await waitFor('open traces to be assembled', () => stage.stats.spansAssembled >= traces, 300_000 + traces, 10);
    const elapsedMs = performance.now() - started;
    const figures = settledMemory(sampler.stop());
    const closed = stage.stats.windowsClosed;
    await stage.stop();
    const stateBytes = await dirBytes(opened.dataDir);

    console.log(
      `${formatCount(traces)} open traces (${closed} closed) assembled in ${(elapsedMs / 1000).toFixed(1)} s ` +
        `(${formatCount(perSecond(traces, elapsedMs))} traces/s); appending them took ${(appendMs / 1000).toFixed(1)} s (log sync none)`,
    );
    console.log(`  ${memoryLine(`${formatCount(traces)} open traces`, figures, baselineHeap)}`);
    console.log(
      `  embedded-log directory: ${(rawBytes / MB).toFixed(0)} MB with the raw records alone, ${(stateBytes / MB).toFixed(0)} MB once the stage ` +
        `held them (+${formatCount((stateBytes - rawBytes) / traces)} bytes per open trace)`,
    );
  } finally {
    await opened.close();
  }
}
