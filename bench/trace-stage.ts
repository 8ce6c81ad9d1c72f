/**
 * The trace stage alone, over an embedded log in a temp dir (no HTTP, no ingest):
 *
 * - spans/s in live order (the stage runs while spans of many interleaved traces are
 *   appended, stamped with the wall clock) and in replay order (a backlog already in the
 *   log, windows closing on stream time), beside a bare consumer reading the same records;
 * - bytes written to RocksDB per span: growth of the embedded-log directory (WAL + SST
 *   files, so also the output records and offsets) while the stage ran;
 * - memory: heap used and RSS with many open traces (one span each, never closing) and
 *   with one huge trace closed at the end. Target: heap < 300 MB.
 *
 *   npm run bench -- trace-stage
 *
 * Environment: TRACE_STAGE_BENCH_TRACES (traces per throughput run, default 3000 × 8 spans),
 * TRACE_STAGE_BENCH_OPEN_TRACES (default 1,000,000), TRACE_STAGE_BENCH_OPEN_BUDGET_S (time
 * allowed for appending them, default 100), TRACE_STAGE_BENCH_BIG_TRACE (default 20,000
 * spans), TRACEFOLD_BENCH_DIR (parent of the temp dirs, default os.tmpdir()).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createDetectors } from '../src/detectors/registry.js';
import { markerRecord, spanRecord } from '../src/ingest/append-raw.js';
import { createEmbeddedLog, type EmbeddedLog } from '../src/log/embedded/index.js';
import type { OutgoingRecord } from '../src/log/port.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../src/log/topics.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { TraceStage, type TraceStageOptions } from '../src/stages/trace/trace-stage.js';
import { dirBytes, formatCount, formatRatio, median, perSecond, table } from './stats.js';
import { arrivalOrder, benchSpan, BENCH_TENANT, benchTraceId } from './trace-stage-spans.js';

const RUNS = 3;
const SPANS_PER_TRACE = 8;
/** Traces starting per arrival tick: ~400 traces in flight at once. */
const STARTS_PER_TICK = 50;
/** Event-time step between ticks in replay order. */
const REPLAY_TICK_MS = 10;
const GAP_MS = 1000;
const APPEND_BATCH = 500;
const HEAP_TARGET_MB = 300;
const MB = 2 ** 20;

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
};

interface Env {
  readonly parent: string;
  readonly codecs: Codecs;
}

interface Opened {
  readonly dataDir: string;
  readonly log: EmbeddedLog;
  close(): Promise<void>;
}

async function openLog(env: Env, sync: 'fsync' | 'none'): Promise<Opened> {
  const dataDir = await mkdtemp(join(env.parent, 'tracefold-bench-trace-'));
  const log = await createEmbeddedLog({ dataDir, sync });
  await log.ensureTopics(await loadTopicDeclarations());
  return {
    dataDir,
    log,
    close: async () => {
      await log.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function newStage(log: EmbeddedLog, codecs: Codecs, overrides: Partial<TraceStageOptions> = {}): TraceStage {
  const defaults = loadConfig({});
  return new TraceStage({
    log,
    codecs,
    detectors: createDetectors(),
    pipelineVersion: pipelineVersion(),
    inactivityGapMs: GAP_MS,
    rootSettleMs: defaults.rootSettleMs,
    windowMaxSpans: defaults.windowMaxSpans,
    windowMaxBytes: defaults.windowMaxBytes,
    latenessHorizonMs: defaults.latenessHorizonMs,
    tombstoneRetentionMs: 7 * 86_400_000,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    ...overrides,
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number, pollMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function appendAll(log: EmbeddedLog, records: readonly OutgoingRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += APPEND_BATCH) await log.append(TOPICS.raw, records.slice(i, i + APPEND_BATCH));
}

/** A forced full GC, through --expose-gc when given, else by exposing it at run time. */
function forceGc(): boolean {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    exposed();
    return true;
  }
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}

/** Heap and RSS peaks, sampled while something runs. */
function sampleMemory(): { stop(): { heapPeak: number; rssPeak: number } } {
  let heapPeak = 0;
  let rssPeak = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heapPeak = Math.max(heapPeak, m.heapUsed);
    rssPeak = Math.max(rssPeak, m.rss);
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { heapPeak, rssPeak };
    },
  };
}

interface Throughput {
  readonly spans: number;
  readonly stageMs: number;
  readonly bytesPerSpan: number;
  readonly baselineMs: number;
  readonly rawBytesPerSpan: number;
  readonly windowsClosed: number;
}

/** A backlog read as fast as possible: event times 10 ms apart, closing on stream time. */
async function replayRun(env: Env, traces: number, overrides: Partial<TraceStageOptions> = {}): Promise<Throughput> {
  const opened = await openLog(env, 'fsync');
  try {
    const t0 = Date.now() - 3_600_000;
    const order = arrivalOrder(traces, SPANS_PER_TRACE, STARTS_PER_TICK);
    const records = await Promise.all(order.map(({ t, s, tick }) => spanRecord(env.codecs, benchSpan(t, s, t0 + tick * REPLAY_TICK_MS))));
    // One more trace, later than every deadline: stream time passes them all, so the last
    // windows close on stream time too rather than waiting for the wall clock.
    const lastTick = order[order.length - 1]!.tick;
    records.push(await spanRecord(env.codecs, benchSpan(traces, 0, t0 + lastTick * REPLAY_TICK_MS + GAP_MS + 1)));
    const empty = await dirBytes(opened.dataDir);
    await appendAll(opened.log, records);
    const before = await dirBytes(opened.dataDir);

    // Baseline: the same records through a bare consumer that only counts them.
    let read = 0;
    const baselineStarted = performance.now();
    const consumer = await opened.log.consume({ group: 'bench-bare-consumer', topics: [TOPICS.raw] }, { eachBatch: async (batch) => void (read += batch.records.length) });
    await waitFor('the bare consumer', () => read >= records.length, 120_000, 1);
    const baselineMs = performance.now() - baselineStarted;
    await consumer.stop();

    const stage = newStage(opened.log, env.codecs, overrides);
    const started = performance.now();
    await stage.start();
    await waitFor('replay windows to close', () => stage.stats.windowsClosed >= traces, 300_000, 1);
    const stageMs = performance.now() - started;
    await stage.stop();
    const after = await dirBytes(opened.dataDir);
    return {
      spans: order.length,
      stageMs,
      bytesPerSpan: (after - before) / order.length,
      baselineMs,
      rawBytesPerSpan: (before - empty) / records.length,
      windowsClosed: stage.stats.windowsClosed,
    };
  } finally {
    await opened.close();
  }
}

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
  console.log(
    `throughput: ${formatCount(traces)} traces × ${SPANS_PER_TRACE} spans, ~${STARTS_PER_TICK * SPANS_PER_TRACE} in flight, ` +
      `inactivity gap ${GAP_MS} ms, sync fsync, median of ${RUNS} runs, dir=${env.parent}`,
  );
  const replays: Throughput[] = [];
  const quiet: Throughput[] = [];
  const lives: (Throughput & { tailMs: number })[] = [];
  for (let run = 0; run < RUNS; run++) {
    const replay = await replayRun(env, traces);
    replays.push(replay);
    // The same replay with live detection off: what firing on open windows costs.
    quiet.push(await replayRun(env, traces, { liveDetection: false }));
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

interface MemoryFigures {
  readonly heapUsed: number;
  readonly rss: number;
  readonly heapPeak: number;
  readonly rssPeak: number;
  readonly gc: boolean;
}

async function settledMemory(peaks: { heapPeak: number; rssPeak: number }): Promise<MemoryFigures> {
  const gc = forceGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, ...peaks, gc };
}

function memoryLine(label: string, m: MemoryFigures, baselineHeap: number): string {
  const verdict = m.heapUsed < HEAP_TARGET_MB * MB && m.heapPeak < HEAP_TARGET_MB * MB ? 'within' : 'OVER';
  return (
    `${label}: heap used ${(m.heapUsed / MB).toFixed(0)} MB${m.gc ? ' (after a full GC)' : ' (no GC available)'}, ` +
    `peak ${(m.heapPeak / MB).toFixed(0)} MB, RSS ${(m.rss / MB).toFixed(0)} MB (peak ${(m.rssPeak / MB).toFixed(0)} MB); ` +
    `heap before ${(baselineHeap / MB).toFixed(0)} MB; target heap < ${HEAP_TARGET_MB} MB: ${verdict}`
  );
}

/** Many open traces, one span each, an inactivity gap of a day so none closes. */
async function openTraces(env: Env): Promise<void> {
  const wanted = envInt('TRACE_STAGE_BENCH_OPEN_TRACES', 1_000_000);
  const budgetMs = envInt('TRACE_STAGE_BENCH_OPEN_BUDGET_S', 100) * 1000;
  // Memory does not depend on fsync; 'none' keeps the appends from dominating the time.
  const opened = await openLog(env, 'none');
  try {
    forceGc();
    const baselineHeap = process.memoryUsage().heapUsed;
    const stage = newStage(opened.log, env.codecs, { inactivityGapMs: 86_400_000, rootSettleMs: 86_400_000 });
    await stage.start();
    const sampler = sampleMemory();
    const started = performance.now();
    const t0 = Date.now() - 60_000;
    const chunk = 5000;
    let appended = 0;
    while (appended < wanted && performance.now() - started < budgetMs) {
      const n = Math.min(chunk, wanted - appended);
      const records = await Promise.all(Array.from({ length: n }, (_, i) => spanRecord(env.codecs, benchSpan(appended + i, 1, t0 + Math.floor((appended + i) / 1000), true))));
      await appendAll(opened.log, records);
      appended += n;
      // Keep the stage within a few chunks of the producer, so the time budget measures both.
      await waitFor('the stage to keep up', () => stage.stats.spansAssembled >= appended - 4 * chunk, 300_000, 5);
    }
    await waitFor('open traces to be assembled', () => stage.stats.spansAssembled >= appended, 600_000, 5);
    const elapsedMs = performance.now() - started;
    const peaks = sampler.stop();
    const figures = await settledMemory(peaks);
    const closed = stage.stats.windowsClosed;
    await stage.stop();
    const rate = perSecond(appended, elapsedMs);
    console.log(
      `open traces: ${formatCount(appended)} of ${formatCount(wanted)} open (${closed} closed), appended and assembled in ${(elapsedMs / 1000).toFixed(1)} s ` +
        `(${formatCount(rate)} traces/s, log sync none)`,
    );
    if (appended < wanted) {
      console.log(`  time budget of ${budgetMs / 1000} s reached: ${formatCount(wanted)} would take ~${(wanted / rate).toFixed(0)} s at this rate`);
    }
    console.log(`  ${memoryLine(`${formatCount(appended)} open traces`, figures, baselineHeap)}`);
  } finally {
    await opened.close();
  }
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
    const figures = await settledMemory(peaks);
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
  await openTraces(env);
}
