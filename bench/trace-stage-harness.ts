/**
 * The trace stage alone over an embedded log in a temp dir, as the trace-stage benchmarks
 * drive it: opening the log, a stage with the bench's settings, appends, waits on the
 * stage's counters, memory figures, and one replay of a backlog beside a bare consumer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createDetectors } from '../src/detectors/registry.js';
import { spanRecord } from '../src/ingest/append-raw.js';
import { createEmbeddedLog, type EmbeddedLog } from '../src/log/embedded/index.js';
import type { OutgoingRecord } from '../src/log/port.js';
import type { Codecs } from '../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../src/log/topics.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { TraceStage, type TraceStageOptions } from '../src/stages/trace/trace-stage.js';
import { dirBytes } from './stats.js';
import { arrivalOrder, benchSpan } from './trace-stage-spans.js';

export const GAP_MS = 1000;
/** Traces starting per arrival tick: with 8 spans per trace, ~400 traces in flight at once. */
export const STARTS_PER_TICK = 50;
/** Event-time step between ticks in replay order. */
const REPLAY_TICK_MS = 10;
const APPEND_BATCH = 500;
/** Records encoded at a time, so a large backlog is never held in memory whole. */
const ENCODE_CHUNK = 5000;
export const HEAP_TARGET_MB = 300;
export const MB = 2 ** 20;

export interface Env {
  readonly parent: string;
  readonly codecs: Codecs;
}

export interface Opened {
  readonly dataDir: string;
  readonly log: EmbeddedLog;
  close(): Promise<void>;
}

export async function openLog(env: Env, sync: 'fsync' | 'none'): Promise<Opened> {
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

export function newStage(log: EmbeddedLog, codecs: Codecs, overrides: Partial<TraceStageOptions> = {}): TraceStage {
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

export async function waitFor(what: string, condition: () => boolean, timeoutMs: number, pollMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export async function appendAll(log: EmbeddedLog, records: readonly OutgoingRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += APPEND_BATCH) await log.append(TOPICS.raw, records.slice(i, i + APPEND_BATCH));
}

/** A forced full GC, through --expose-gc when given, else by exposing it at run time. */
export function forceGc(): boolean {
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
export function sampleMemory(): { stop(): { heapPeak: number; rssPeak: number } } {
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

export interface MemoryFigures {
  readonly heapUsed: number;
  readonly rss: number;
  readonly heapPeak: number;
  readonly rssPeak: number;
  readonly gc: boolean;
}

export function settledMemory(peaks: { heapPeak: number; rssPeak: number }): MemoryFigures {
  const gc = forceGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, ...peaks, gc };
}

export function memoryLine(label: string, m: MemoryFigures, baselineHeap: number): string {
  const verdict = m.heapUsed < HEAP_TARGET_MB * MB && m.heapPeak < HEAP_TARGET_MB * MB ? 'within' : 'OVER';
  return (
    `${label}: heap used ${(m.heapUsed / MB).toFixed(0)} MB${m.gc ? ' (after a full GC)' : ' (no GC available)'}, ` +
    `peak ${(m.heapPeak / MB).toFixed(0)} MB, RSS ${(m.rss / MB).toFixed(0)} MB (peak ${(m.rssPeak / MB).toFixed(0)} MB); ` +
    `heap before ${(baselineHeap / MB).toFixed(0)} MB; target heap < ${HEAP_TARGET_MB} MB: ${verdict}`
  );
}

export interface Throughput {
  readonly spans: number;
  readonly stageMs: number;
  readonly bytesPerSpan: number;
  readonly baselineMs: number;
  readonly rawBytesPerSpan: number;
  readonly windowsClosed: number;
}

export interface ReplayShape {
  readonly traces: number;
  readonly spansPerTrace: number;
}

/**
 * A backlog of `shape` in live arrival order (event times 10 ms apart per tick), appended
 * with fsync before anything reads it, then read twice: by a bare consumer that only counts
 * the records (the baseline), and by the trace stage until every window closed, on stream
 * time.
 */
export async function replayRun(env: Env, shape: ReplayShape, overrides: Partial<TraceStageOptions> = {}): Promise<Throughput> {
  const opened = await openLog(env, 'fsync');
  try {
    const t0 = Date.now() - 3_600_000;
    const order = arrivalOrder(shape.traces, shape.spansPerTrace, STARTS_PER_TICK);
    const empty = await dirBytes(opened.dataDir);
    for (let i = 0; i < order.length; i += ENCODE_CHUNK) {
      const chunk = order.slice(i, i + ENCODE_CHUNK);
      await appendAll(opened.log, await Promise.all(chunk.map(({ t, s, tick }) => spanRecord(env.codecs, benchSpan(t, s, t0 + tick * REPLAY_TICK_MS)))));
    }
    // One more trace, later than every deadline: stream time passes them all, so the last
    // windows close on stream time too rather than waiting for the wall clock.
    const lastTick = order[order.length - 1]!.tick;
    await appendAll(opened.log, [await spanRecord(env.codecs, benchSpan(shape.traces, 0, t0 + lastTick * REPLAY_TICK_MS + GAP_MS + 1))]);
    const records = order.length + 1;
    const before = await dirBytes(opened.dataDir);
    // Generous: a slow machine must not turn a large run into a timeout. Polling a long run
    // less often keeps the waiting from taking a share of the cores it measures.
    const timeoutMs = 300_000 + records;
    const pollMs = records > 100_000 ? 10 : 1;

    let read = 0;
    const baselineStarted = performance.now();
    const consumer = await opened.log.consume({ group: 'bench-bare-consumer', topics: [TOPICS.raw] }, { eachBatch: async (batch) => void (read += batch.records.length) });
    await waitFor('the bare consumer', () => read >= records, timeoutMs, pollMs);
    const baselineMs = performance.now() - baselineStarted;
    await consumer.stop();

    const stage = newStage(opened.log, env.codecs, overrides);
    const started = performance.now();
    await stage.start();
    await waitFor('replay windows to close', () => stage.stats.windowsClosed >= shape.traces, timeoutMs, pollMs);
    const stageMs = performance.now() - started;
    await stage.stop();
    const after = await dirBytes(opened.dataDir);
    return {
      spans: order.length,
      stageMs,
      bytesPerSpan: (after - before) / order.length,
      baselineMs,
      rawBytesPerSpan: (before - empty) / records,
      windowsClosed: stage.stats.windowsClosed,
    };
  } finally {
    await opened.close();
  }
}
