/**
 * End to end through a real tracefold: OTLP/HTTP JSON in, detections out.
 *
 * Each run starts tracefold in-process (embedded log, fresh data directory, listening HTTP
 * server), creates a tenant, and sends agent traces as OTLP JSON to POST /v1/traces from a
 * few concurrent clients; every LOOP_EVERY-th trace repeats one tool call 5 times, so the
 * loop detector fires once for it. It then polls the API until a sample of the traces is
 * readable and the detections list holds every expected detection.
 *
 *   ingest-only   first request sent → last 200 answer (appends durable)
 *   end-to-end    first request sent → every detection visible through the API; includes
 *                 the inactivity gap that closes the last windows and the poll interval
 *
 * Baseline, measured in the same run: JSON.parse of the same request bodies. Runs alternate
 * between TRACEFOLD_LOG_SYNC=fsync (the default) and none so the cost of fsync shows; each
 * figure is the median over RUNS runs per mode, after one smaller warm-up run.
 * The HTTP clients share the process (and the 2 cores of a small machine) with the server.
 *
 *   npx tsx bench/ingest-to-detections.ts
 *
 * Environment: BENCH_INGEST_TRACES (default 2000), BENCH_INGEST_RUNS (3),
 * BENCH_INGEST_CLIENTS (4); data directories go under TRACEFOLD_BENCH_DIR or os.tmpdir()
 * (on tmpfs an fsync costs nothing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { startTracefold } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { agentWorkload, type AgentWorkload } from './payloads.js';
import { envInt, ingestAnswer, postJson, sleep, tenantAnswer } from './http.js';
import { formatCount, formatRatio, median, medianMs, perSecond, table } from './stats.js';

type Sync = 'fsync' | 'none';

const SPANS_PER_TRACE = 10;
const SPANS_PER_REQUEST = 50;
const LOOP_EVERY = 4;
const INACTIVITY_GAP_MS = 200;
const POLL_MS = 20;
const SAMPLE_TRACES = 50;
const DETECTIONS_PAGE = 1000;
const TIMEOUT_MS = 120_000;


interface RunResult {
  readonly ingestMs: number;
  readonly endToEndMs: number;
  readonly parseMs: number;
  readonly detections: number;
  readonly windowsClosed: number;
}

/** Evenly spread trace ids, always including the last one sent. */
function sampleOf(traceIds: readonly string[], n: number): string[] {
  if (traceIds.length <= n) return [...traceIds];
  const step = traceIds.length / n;
  return Array.from({ length: n }, (_, i) => traceIds[Math.min(traceIds.length - 1, Math.floor((i + 1) * step) - 1)]!);
}

/** Detections visible to the tenant, following x-next-cursor. */
async function countDetections(baseUrl: string, tenantId: string, apiKey: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = `limit=${DETECTIONS_PAGE}` + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
    const res = await fetch(`${baseUrl}/api/v1/tenants/${tenantId}/detections?${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const page: unknown = await res.json();
    if (res.status !== 200 || !Array.isArray(page)) throw new Error(`listing detections answered ${res.status}: ${JSON.stringify(page)}`);
    count += page.length;
    cursor = res.headers.get('x-next-cursor');
  } while (cursor !== null);
  return count;
}

async function traceVisible(baseUrl: string, tenantId: string, apiKey: string, traceId: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/api/v1/tenants/${tenantId}/traces/${traceId}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const text = await res.text();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw new Error(`reading trace ${traceId} answered ${res.status}: ${text}`);
}

async function measure(sync: Sync, workload: AgentWorkload, clients: number, parent: string): Promise<RunResult> {
  // The baseline first, in the same process state the run itself will see.
  const parseMs = await medianMs(5, 1, () => {
    for (const body of workload.bodies) JSON.parse(body);
  });

  const dataDir = await mkdtemp(join(parent, 'tracefold-bench-'));
  const config = loadConfig({
    // The benchmark is one tenant pushing as hard as it can: no per-tenant rate limit.
    TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '0',
    TRACEFOLD_PORT: '0',
    TRACEFOLD_HOST: '127.0.0.1',
    TRACEFOLD_DATA_DIR: dataDir,
    TRACEFOLD_LOG_SYNC: sync,
    TRACEFOLD_INACTIVITY_GAP_MS: String(INACTIVITY_GAP_MS),
    TRACEFOLD_LOG_LEVEL: 'silent',
  });
  const tracefold = await startTracefold(config, pino({ level: 'silent' }));
  try {
    const base = tracefold.url;
    const created = await postJson(`${base}/api/v1/auth/tenants`, JSON.stringify({ name: 'bench' }));
    if (created.status !== 201) throw new Error(`tenant creation answered ${created.status}: ${created.text}`);
    const { tenant_id: tenantId, api_key: apiKey } = tenantAnswer.parse(created.json);

    let next = 0;
    let lastAnswer = 0;
    let accepted = 0;
    const started = performance.now();
    const client = async (): Promise<void> => {
      for (let i = next++; i < workload.bodies.length; i = next++) {
        const res = await postJson(`${base}/v1/traces`, workload.bodies[i]!, apiKey);
        if (res.status !== 200) throw new Error(`POST /v1/traces answered ${res.status}: ${res.text}`);
        const answer = ingestAnswer.parse(res.json);
        if (answer.rejected_spans !== 0) throw new Error(`POST /v1/traces rejected spans: ${res.text}`);
        accepted += answer.accepted_spans;
        lastAnswer = performance.now();
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    if (accepted !== workload.spans) throw new Error(`${accepted} spans accepted, expected ${workload.spans}`);

    const pending = sampleOf(workload.traceIds, SAMPLE_TRACES);
    const deadline = performance.now() + TIMEOUT_MS;
    let detections = 0;
    for (;;) {
      while (pending.length > 0 && (await traceVisible(base, tenantId, apiKey, pending[0]!))) pending.shift();
      if (pending.length === 0) {
        detections = await countDetections(base, tenantId, apiKey);
        if (detections >= workload.loopingTraces) break;
      }
      if (performance.now() > deadline) {
        throw new Error(
          `not done after ${TIMEOUT_MS} ms: ${SAMPLE_TRACES - pending.length}/${SAMPLE_TRACES} sample traces visible, ` +
            `${detections}/${workload.loopingTraces} detections`,
        );
      }
      await sleep(POLL_MS);
    }
    const endToEndMs = performance.now() - started;
    return { ingestMs: lastAnswer - started, endToEndMs, parseMs, detections, windowsClosed: tracefold.traceStage?.stats.windowsClosed ?? 0 };
  } finally {
    await tracefold.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runIngestToDetectionsBench(): Promise<void> {
  const traces = envInt('BENCH_INGEST_TRACES', 2000);
  const runs = envInt('BENCH_INGEST_RUNS', 3);
  const clients = envInt('BENCH_INGEST_CLIENTS', 4);
  const parent = process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir();
  const workload = agentWorkload({ traces, spansPerTrace: SPANS_PER_TRACE, spansPerRequest: SPANS_PER_REQUEST, loopEvery: LOOP_EVERY });

  console.log(
    `ingest-to-detections: ${formatCount(traces)} traces x ${SPANS_PER_TRACE} spans = ${formatCount(workload.spans)} spans ` +
      `(${formatCount(workload.loopingTraces)} with a 5-call loop), ${workload.bodies.length} requests of ${SPANS_PER_REQUEST} spans ` +
      `from ${clients} clients, inactivity gap ${INACTIVITY_GAP_MS} ms, median of ${runs} runs per mode, dir=${parent}`,
  );

  // Warm-up: compiles the hot paths of server and clients before anything is measured.
  const warmup = agentWorkload({
    traces: Math.max(LOOP_EVERY, Math.ceil(traces / 10)),
    spansPerTrace: SPANS_PER_TRACE,
    spansPerRequest: SPANS_PER_REQUEST,
    loopEvery: LOOP_EVERY,
  });
  await measure('none', warmup, clients, parent);

  const results: Record<Sync, RunResult[]> = { fsync: [], none: [] };
  for (let run = 0; run < runs; run++) {
    for (const sync of ['fsync', 'none'] as const) results[sync].push(await measure(sync, workload, clients, parent));
  }

  const summary = (sync: Sync) => {
    const rs = results[sync];
    const ingestMs = median(rs.map((r) => r.ingestMs));
    const endToEndMs = median(rs.map((r) => r.endToEndMs));
    const parseMs = median(rs.map((r) => r.parseMs));
    return {
      ingestMs,
      endToEndMs,
      ingest: perSecond(workload.spans, ingestMs),
      endToEnd: perSecond(workload.spans, endToEndMs),
      parse: perSecond(workload.spans, parseMs),
      detections: rs.map((r) => r.detections),
      windowsClosed: rs.map((r) => r.windowsClosed),
    };
  };
  const fsync = summary('fsync');
  const none = summary('none');
  const both = (f: (s: typeof fsync) => string): string[] => [f(fsync), f(none)];
  console.log(
    table([
      ['', 'fsync', 'none', 'none/fsync'],
      ['ingest-only spans/s', ...both((s) => formatCount(s.ingest)), formatRatio(none.ingest / fsync.ingest)],
      ['end-to-end spans/s', ...both((s) => formatCount(s.endToEnd)), formatRatio(none.endToEnd / fsync.endToEnd)],
      ['ingest-only ms', ...both((s) => formatCount(s.ingestMs)), ''],
      ['end-to-end ms', ...both((s) => formatCount(s.endToEndMs)), ''],
      ['JSON.parse spans/s (baseline)', ...both((s) => formatCount(s.parse)), ''],
      ['ingest-only / JSON.parse', ...both((s) => formatRatio(s.ingest / s.parse)), ''],
      ['end-to-end / JSON.parse', ...both((s) => formatRatio(s.endToEnd / s.parse)), ''],
      ['detections seen, per run', ...both((s) => s.detections.join(' ')), ''],
      ['windows closed, per run', ...both((s) => s.windowsClosed.join(' ')), ''],
    ]),
  );
  console.log(
    `both clocks start at the first request; end-to-end also holds the ${INACTIVITY_GAP_MS} ms inactivity gap that closes ` +
      `the last windows and up to ${POLL_MS} ms of polling; clients and server share this process`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestToDetectionsBench();
}
