/**
 * The trace stage alone, over an embedded log in a temp dir (no HTTP, no ingest):
 *
 * - spans/s in live order (the stage runs while spans of many interleaved traces are
 *   appended, stamped with the wall clock) and in replay order (a backlog already in the
 *   log, windows closing on stream time), beside a bare consumer reading the same records;
 * - bytes written to RocksDB per span: growth of the embedded-log directory (WAL + SST
 *   files, so also the output records and offsets) while the stage ran;
 * - memory: heap used and RSS with one huge trace closed at the end. Target: heap < 300 MB.
 *   Many open traces are measured by their own benchmark (open-traces.ts), a 1M-span
 *   replay by replay-1m.ts.
 *
 *   npm run bench -- trace-stage
 *
 * Environment: TRACE_STAGE_BENCH_TRACES (traces per throughput run, default 3000 × 8 spans),
 * TRACE_STAGE_BENCH_BIG_TRACE (default 20,000 spans), TRACEFOLD_BENCH_DIR (parent of the
 * temp dirs, default os.tmpdir()).
 */
import os from 'node:os';
import { markerRecord, spanRecord } from '../src/ingest/append-raw.js';
import type { OutgoingRecord } from '../src/log/port.js';
import { createCodecs, LocalSchemaIds } from '../src/log/serde/index.js';
import { TOPICS } from '../src/log/topics.js';
import { envInt } from './http.js';
import { dirBytes, formatCount, formatRatio, median, perSecond, table } from './stats.js';
import {
  appendAll,
  forceGc,
  GAP_MS,
  MB,
  memoryLine,
  newStage,
  openLog,
  replayRun,
  sampleMemory,
  settledMemory,
  STARTS_PER_TICK,
  waitFor,
  type Env,
  type Throughput,
} from './trace-stage-harness.js';
import { arrivalOrder, benchSpan, BENCH_TENANT, benchTraceId } from './trace-stage-spans.js';

const RUNS = 3;
const SPANS_PER_TRACE = 8;

/**
 * Live order: the stage runs while each tick's spans are appended as one request, stamped
 * with the wall clock; windows close on stream time and, for the last ones, on the wall
 * clock once the stream is quiet. The time counts until the last window closed, less the
 * inactivity gap that the last windows must wait out whatever the stage's speed.
 */
async function liveRun(env: Env, traces: number, rawBytesPerSpan: number): Promise<Throughput & { tailMs: number }> {
  const opened = await openLog(env, 'fsync');
  try {
    const order = arrivalOrder(traces, SPANS_PER_TRACE, STARTS_PER_TICK);
    // Encoded ahead of time, as ingest would have: the value's own receivedAtMs is then
    // earlier than the record timestamp, which is what the stage reads.
    const t0 = Date.now();
    const values = await Promise.all(order.map(({ t, s, tick }) => spanRecord(env.codecs, benchSpan(t, s, t0 + tick))));
    const ticks: OutgoingRecord[][] = [];
    for (const [i, arrival] of order.entries()) (ticks[arrival.tick] ??= []).push(values[i]!);
    const before = await dirBytes(opened.dataDir);

    const stage = newStage(opened.log, env.codecs);
    await stage.start();
    const started = performance.now();
    for (const tick of ticks) {
      const now = Date.now();
      await opened.log.append(
        TOPICS.raw,
        tick.map((r) => ({ ...r, timestamp: now })),
      );
    }
    await waitFor('live spans to be assembled', () => stage.stats.spansAssembled >= order.length, 300_000, 1);
    const assembledMs = performance.now() - started;
    await waitFor('live windows to close', () => stage.stats.windowsClosed >= traces, 60_000, 1);
    const stageMs = performance.now() - started - GAP_MS;
    const tailMs = performance.now() - started - assembledMs;
    await stage.stop();
    const after = await dirBytes(opened.dataDir);
    return {
      spans: order.length,
      stageMs,
      tailMs,
      // The directory also grew by the raw records appended meanwhile: take them out.
      bytesPerSpan: (after - before) / order.length - rawBytesPerSpan,
      baselineMs: Number.NaN,
      rawBytesPerSpan,
      windowsClosed: stage.stats.windowsClosed,
    };
  } finally {
    await opened.close();
  }
}

async function throughput(env: Env): Promise<void> {
  const traces = envInt('TRACE_STAGE_BENCH_TRACES', 3000);
  const shape = { traces, spansPerTrace: SPANS_PER_TRACE };
  console.log(
    `throughput: ${formatCount(traces)} traces × ${SPANS_PER_TRACE} spans, ~${STARTS_PER_TICK * SPANS_PER_TRACE} in flight, ` +
      `inactivity gap ${GAP_MS} ms, sync fsync, median of ${RUNS} runs, dir=${env.parent}`,
  );
  const replays: Throughput[] = [];
  const quiet: Throughput[] = [];
  const lives: (Throughput & { tailMs: number })[] = [];
  for (let run = 0; run < RUNS; run++) {
    const replay = await replayRun(env, shape);
    replays.push(replay);
    // The same replay with live detection off: what firing on open windows costs.
    quiet.push(await replayRun(env, shape, { liveDetection: false }));
    lives.push(await liveRun(env, traces, replay.rawBytesPerSpan));
    if (process.env.TRACE_STAGE_BENCH_VERBOSE === '1') console.log(JSON.stringify({ replay, live: lives.at(-1) }));
  }
  const spans = replays[0]!.spans;
  const replayRate = median(replays.map((r) => perSecond(r.spans, r.stageMs)));
  const quietRate = median(quiet.map((r) => perSecond(r.spans, r.stageMs)));
  const liveRate = median(lives.map((r) => perSecond(r.spans, r.stageMs)));
  const baselineRate = median(replays.map((r) => perSecond(r.spans, r.baselineMs)));
  console.log(
    table([
      ['', 'spans/s', 'vs bare consumer', 'RocksDB bytes/span'],
      ['bare consumer (same records)', formatCount(baselineRate), '1.00x', '-'],
      ['trace stage, replay order', formatCount(replayRate), formatRatio(replayRate / baselineRate), formatCount(median(replays.map((r) => r.bytesPerSpan)))],
      ['  the same, live detection off', formatCount(quietRate), formatRatio(quietRate / baselineRate), formatCount(median(quiet.map((r) => r.bytesPerSpan)))],
      ['trace stage, live order', formatCount(liveRate), formatRatio(liveRate / baselineRate), formatCount(median(lives.map((r) => r.bytesPerSpan)))],
    ]),
  );
  console.log(`live/replay: ${formatRatio(liveRate / replayRate)}; live detection on/off (replay): ${formatRatio(replayRate / quietRate)}`);
  console.log(
    `raw record appended: ${formatCount(median(replays.map((r) => r.rawBytesPerSpan)))} bytes/span on disk; ` +
      `live: the last window closed ${formatCount(median(lives.map((r) => r.tailMs)))} ms after the last span was assembled; ` +
      `the rate's time runs to that close less the ${GAP_MS} ms gap`,
  );
  // Replay's extra trace (the one past every deadline) may close too, on the wall clock.
  const split = lives.filter((r) => r.windowsClosed !== traces).length + replays.filter((r) => r.windowsClosed > traces + 1).length;
  if (split > 0) console.log(`note: in ${split} run(s) the windows closed did not equal the traces (a trace split or merged)`);
  console.log(
    'bytes/span = growth of the embedded-log directory (WAL + SST files, all column data: window metas, spans, live detection state, output topics, offsets) ' +
      `while the stage ran, divided by the spans; for live order the raw records' own bytes are subtracted. ${spans} spans per run.`,
  );
}

/** One trace of many spans, closed at the end by a session-end marker. */
async function bigTrace(env: Env): Promise<void> {
  const spans = envInt('TRACE_STAGE_BENCH_BIG_TRACE', 20_000);
  const opened = await openLog(env, 'none');
  try {
    const t0 = Date.now() - 60_000;
    const records: OutgoingRecord[] = [];
    for (let s = 0; s < spans; s++) records.push(await spanRecord(env.codecs, benchSpan(0, s, t0 + Math.floor(s / 100))));
    records.push(await markerRecord(env.codecs, { tenantId: BENCH_TENANT, traceId: benchTraceId(0), kind: 'session_end', requestId: 'bench', receivedAtMs: t0 + spans }));
    await appendAll(opened.log, records);
    forceGc();
    const baselineHeap = process.memoryUsage().heapUsed;
    const stage = newStage(opened.log, env.codecs, {
      inactivityGapMs: 86_400_000,
      rootSettleMs: 86_400_000,
      windowMaxSpans: spans * 2,
      windowMaxBytes: 16 * 1024 * MB,
    });
    const sampler = sampleMemory();
    const started = performance.now();
    await stage.start();
    await waitFor('the big trace to close', () => stage.stats.windowsClosed >= 1, 300_000, 5);
    const elapsedMs = performance.now() - started;
    const peaks = sampler.stop();
    const figures = settledMemory(peaks);
    await stage.stop();
    console.log(`one ${formatCount(spans)}-span trace: assembled and closed in ${(elapsedMs / 1000).toFixed(1)} s (${stage.stats.spansAssembled} spans assembled)`);
    console.log(`  ${memoryLine(`${formatCount(spans)}-span trace`, figures, baselineHeap)}`);
  } finally {
    await opened.close();
  }
}

export async function runTraceStageBench(): Promise<void> {
  const env: Env = { parent: process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir(), codecs: await createCodecs(new LocalSchemaIds()) };
  await throughput(env);
  await bigTrace(env);
}
