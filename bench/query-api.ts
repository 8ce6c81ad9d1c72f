/**
 * The query API under concurrent load, with many traces in the views:
 *
 * - latency (p50, p99, mean) and requests/s of GET /api/v1/tenants/:id/traces?limit=50,
 *   of the same list with a selective filter (a service that ~0.5% of traces belong to,
 *   read through that service's index entries), and of
 *   GET /api/v1/tenants/:id/traces/:traceId for random trace ids;
 * - beside a static route on a plain Fastify server in the same server process, driven
 *   with the same autocannon settings: the baseline the ratios are taken against.
 *
 * Loading a million traces through ingest and the trace stage would take far too long, so
 * the view entries are written directly with the builders the views use (views.ts:
 * applyTrace, applyMetrics, applyDetection, applyTenantEvent): summary, by-time index, body
 * in the trace codec, facets and their facet value index entries (trace-index.ts), metrics,
 * detections, and one tenant with an API key. The
 * trace and metrics records themselves come from analyzeWindow, as the trace stage makes
 * them (no detectors run; some traces get a detection written like a detector's). Not
 * written, as neither endpoint reads them: the per-revision metrics (mr) and rollups, so a
 * data dir built by the pipeline would be a little larger.
 *
 * Then tracefold starts on that data dir (embedded log, TRACEFOLD_LOG_SYNC=none, log level
 * warn) in a child process, and autocannon runs here, one case after the other. Client and
 * server share the machine's cores, so the absolute figures include the client's own cost;
 * the ratios to the static route carry it too and travel better. autocannon's p50 is the
 * median latency of the run; "alone" is the median of requests sent one at a time, which
 * separates what one request costs from queueing behind 31 others.
 *
 *   npm run bench -- query-api
 *
 * Environment: QUERY_BENCH_TRACES (default 1,000,000), QUERY_BENCH_LOAD_BUDGET_S (time
 * allowed for loading them; fewer are loaded, and the run says so, if it runs out; default
 * 100), QUERY_BENCH_CONNECTIONS (default 32), QUERY_BENCH_DURATION_S (per case, default
 * 10), TRACEFOLD_BENCH_DIR (parent of the temp data dir, default os.tmpdir()).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { pino } from 'pino';
import { issueApiKey } from '../src/http/credentials.js';
import { startTracefold } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { createEmbeddedLog } from '../src/log/embedded/index.js';
import type { StoreOp } from '../src/log/port.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../src/log/serde/index.js';
import { loadTopicDeclarations } from '../src/log/topics.js';
import type { Detection, Severity, TraceMetrics, TraceRecord } from '../src/model/outputs.js';
import type { CanonicalSpan, KeyValue } from '../src/model/span.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { analyzeWindow, type TraceOutputs } from '../src/stages/trace/analyze.js';
import { withDetection, withMetrics, withTrace } from '../src/views/trace-facets.js';
import { indexCompletionOps, indexOpsOf } from '../src/views/trace-index.js';
import { traceSummaryOf, VIEW_KEYS } from '../src/views/view-model.js';
import { envInt, sleep } from './http.js';
import { dirBytes, formatCount, formatRatio, median, table } from './stats.js';
import { seededRandom } from '../test/support/seeded-random.js';

/** The views' consumer group in embedded mode (src/cli/runtime.ts), which names their store. */
const VIEWS_GROUP = 'tracefold-views';
const VIEWS_STORE = 'views';
const TENANT_ID = 'bench-query-tenant';
/** Requests one at a time per case, before the load. */
const ALONE_REQUESTS = 15;
const WARMUP_S = 2;
/** Traces per RocksDB write batch: large batches keep the per-write overhead negligible. */
const LOAD_BATCH = 4000;
/** Distinct trace shapes (services, span counts, agents, models, errors, detections). */
const TEMPLATES = 2048;
/** Closed-at times 600 ms apart: a million traces cover about a week. */
const CLOSE_STEP_MS = 600;
const MB = 2 ** 20;

const str = (key: string, value: string): KeyValue => ({ key, value: { type: 'string', value } });
const int = (key: string, value: number): KeyValue => ({ key, value: { type: 'int', value: BigInt(value) } });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

interface Service {
  readonly name: string;
  /** Share of traces, cumulative thresholds are derived below. */
  readonly share: number;
  readonly agents: readonly string[];
  readonly models: readonly string[];
  readonly tools: readonly string[];
}

/** A few services; the last is rare, for the selective filter. */
const SERVICES: readonly Service[] = [
  { name: 'support-agent', share: 0.45, agents: ['triage', 'responder'], models: ['claude-sonnet-4', 'claude-3-5-haiku'], tools: ['search_kb', 'get_order', 'send_reply'] },
  { name: 'code-agent', share: 0.35, agents: ['planner', 'coder', 'reviewer'], models: ['claude-sonnet-4', 'gpt-4.1'], tools: ['read_file', 'apply_patch', 'run_tests'] },
  { name: 'research-agent', share: 0.195, agents: ['researcher', 'summarizer'], models: ['gpt-4o', 'gpt-4o-mini'], tools: ['web_search', 'fetch_url'] },
  { name: 'billing-agent', share: 0.005, agents: ['billing'], models: ['gemini-2.5-flash'], tools: ['lookup_invoice', 'issue_refund'] },
];
const RARE_SERVICE = SERVICES[SERVICES.length - 1]!.name;

const DETECTION_TYPES: readonly { type: string; detector: string; severity: Severity; title: string }[] = [
  { type: 'tool_failure', detector: 'tool-failure', severity: 'high', title: 'Tool call failed' },
  { type: 'loop', detector: 'loop', severity: 'medium', title: 'Agent repeated the same tool call' },
  { type: 'latency_outlier', detector: 'latency-outlier', severity: 'low', title: 'Model call far slower than usual' },
  { type: 'hallucinated_tool', detector: 'hallucinated-tool', severity: 'critical', title: 'Call to a tool the agent does not have' },
];

/** Trace ids look random (as producers' are) rather than sequential, so body reads hit all over the key space. */
function traceIdOf(i: number): string {
  const h1 = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const h2 = Math.imul((i + 0x7f4a7c15) ^ (h1 >>> 13), 0xc2b2ae35) >>> 0;
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0') + i.toString(16).padStart(16, '0');
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

function serviceOf(rand: () => number): Service {
  let r = rand();
  for (const service of SERVICES) {
    if (r < service.share) return service;
    r -= service.share;
  }
  return SERVICES[0]!;
}

/** Where template times are anchored; each trace shifts them to its own close time. */
const TEMPLATE_CLOSED_AT_MS = Date.UTC(2026, 0, 1);
/** Span ids are this placeholder prefix + a per-span suffix in templates; each trace puts its own prefix in. */
const SPAN_PREFIX = '00000000';

/** Spans of one agent run of `service`: a root, then 4–19 model and tool calls under it. */
function templateSpans(k: number, service: Service, rand: () => number): { spans: CanonicalSpan[]; failed: boolean } {
  const count = 5 + Math.floor(rand() * 16);
  const failing = rand() < 0.06 ? 1 + Math.floor(rand() * (count - 1)) : -1;
  const startMs = TEMPLATE_CLOSED_AT_MS - 5_000 - count * 900;
  const resource = { attributes: [str('service.name', service.name), str('deployment.environment', 'production')], droppedAttributesCount: 0, schemaUrl: '' };
  const scope = { name: 'opentelemetry.instrumentation.genai', version: '0.9.0', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  const spanId = (s: number) => SPAN_PREFIX + (s + 1).toString(16).padStart(8, '0');
  const rootAgent = service.agents[0]!;
  const spans: CanonicalSpan[] = [];
  for (let s = 0; s < count; s++) {
    const root = s === 0;
    const tool = !root && s % 3 === 2;
    const agent = root ? rootAgent : pick(rand, service.agents);
    const model = pick(rand, service.models);
    const toolName = pick(rand, service.tools);
    const start = BigInt(startMs + s * 850) * 1_000_000n;
    const end = root ? BigInt(startMs + count * 850 + 200) * 1_000_000n : start + BigInt(120 + Math.floor(rand() * 700)) * 1_000_000n;
    const attributes: KeyValue[] = root
      ? [str('gen_ai.operation.name', 'invoke_agent'), str('gen_ai.agent.name', agent), str('gen_ai.conversation.id', `conv-${k}`)]
      : tool
        ? [
            str('gen_ai.operation.name', 'execute_tool'),
            str('gen_ai.agent.name', agent),
            str('gen_ai.tool.name', toolName),
            str('gen_ai.tool.call.id', `call_${k}_${s}`),
            str('gen_ai.tool.call.arguments', `{"id":"${(k * 7 + s) % 100_000}","limit":10}`),
          ]
        : [
            str('gen_ai.operation.name', 'chat'),
            str('gen_ai.agent.name', agent),
            str('gen_ai.request.model', model),
            int('gen_ai.usage.input_tokens', 800 + Math.floor(rand() * 6000)),
            int('gen_ai.usage.output_tokens', 50 + Math.floor(rand() * 900)),
            str('gen_ai.response.finish_reasons', 'stop'),
          ];
    spans.push({
      tenantId: TENANT_ID,
      traceId: '',
      spanId: spanId(s),
      parentSpanId: root ? '' : spanId(0),
      traceState: '',
      flags: 1,
      name: root ? `invoke_agent ${agent}` : tool ? `execute_tool ${toolName}` : `chat ${model}`,
      kind: root ? 1 : 3,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes,
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: s === failing ? { code: 2, message: 'upstream returned 503' } : { code: 0, message: '' },
      resource,
      scope,
      source: 'otlp-proto',
      receivedAtMs: Number(end / 1_000_000n) + 40,
    });
  }
  return { spans, failed: failing >= 0 };
}

/** A trace shape with its records as the trace stage makes them (analyzeWindow, no detectors). */
interface Template {
  readonly service: Service;
  readonly analyzed: TraceOutputs;
  readonly detection: { readonly kind: (typeof DETECTION_TYPES)[number]; readonly spanIndex: number; readonly confidence: number } | null;
}

/** Shapes are analyzed once; each of the many traces is one of them moved to its own ids and times. */
function makeTemplates(count: number, version: string): Template[] {
  const templates: Template[] = [];
  for (let k = 0; k < count; k++) {
    const rand = seededRandom(k + 1);
    const service = serviceOf(rand);
    const { spans, failed } = templateSpans(k, service, rand);
    const analyzed = analyzeWindow(
      { tenantId: TENANT_ID, traceId: '', revision: 1, closeReason: 'inactivity', closeRequestId: '', closedAtMs: TEMPLATE_CLOSED_AT_MS, spans },
      [],
      version,
    );
    // About 8% of traces, and every failed one, carry a detection.
    const detection =
      failed || rand() < 0.08
        ? {
            kind: failed ? DETECTION_TYPES[0]! : pick(rand, DETECTION_TYPES.slice(1)),
            spanIndex: 1 + Math.floor(rand() * (spans.length - 1)),
            confidence: Math.round((0.55 + rand() * 0.4) * 1000) / 1000,
          }
        : null;
    templates.push({ service, analyzed, detection });
  }
  return templates;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The view entries of trace `i`, as the views write them when its records arrive. */
async function traceOps(i: number, t0: number, templates: readonly Template[], codecs: Codecs, counts: Map<string, number>, out: StoreOp[]): Promise<void> {
  const traceId = traceIdOf(i);
  const mixed = Number.parseInt(traceId.slice(0, 8), 16);
  const template = templates[mixed % templates.length]!;
  const closedAtMs = t0 + i * CLOSE_STEP_MS + (mixed % CLOSE_STEP_MS);
  const shiftMs = closedAtMs - TEMPLATE_CLOSED_AT_MS;
  const shiftNs = BigInt(shiftMs) * 1_000_000n;
  const prefix = traceId.slice(8, 16);
  const respan = (id: string) => (id === '' ? '' : prefix + id.slice(SPAN_PREFIX.length));
  const { trace: shape, metrics: shapeMetrics } = template.analyzed;
  const spans = shape.spans.map((s) => ({
    ...s,
    traceId,
    spanId: respan(s.spanId),
    parentSpanId: respan(s.parentSpanId),
    startTimeUnixNano: s.startTimeUnixNano + shiftNs,
    endTimeUnixNano: s.endTimeUnixNano + shiftNs,
    receivedAtMs: s.receivedAtMs + shiftMs,
  }));

  // A detection as a detector would emit it, written as applyDetection does.
  const detections: Detection[] = [];
  if (template.detection !== null) {
    const { kind, spanIndex, confidence } = template.detection;
    const affected = spans[spanIndex]!.spanId;
    detections.push({
      id: sha(`${TENANT_ID}\u0000${traceId}\u0000${kind.detector}\u00001`).slice(0, 32),
      tenantId: TENANT_ID,
      traceId,
      revision: 1,
      pipelineVersion: shape.pipelineVersion,
      detectorId: kind.detector,
      detectorVersion: 1,
      detectionType: kind.type,
      title: kind.title,
      description: `${kind.title} in span ${affected}.`,
      confidence,
      confidenceTier: confidence >= 0.8 ? 'high' : 'likely',
      severity: kind.severity,
      evidence: [{ description: kind.title, spanIds: [affected], dataJson: '{}' }],
      affectedSpanIds: [affected],
      agent: template.service.agents[0]!,
      suggestedFix: 'Check the tool configuration and retry policy.',
      live: false,
      primary: true,
      detectedAtMs: closedAtMs,
      subsumedBy: null,
    });
  }
  const trace: TraceRecord = {
    ...shape,
    traceId,
    closedAtMs,
    startTimeUnixNano: shape.startTimeUnixNano + shiftNs,
    endTimeUnixNano: shape.endTimeUnixNano + shiftNs,
    spans,
    // Not the canonical span digest (spanDigest would cost most of the load): only shown here.
    digest: sha(shape.digest + traceId),
    detectionIds: detections.map((d) => d.id),
  };
  const metrics: TraceMetrics = {
    ...shapeMetrics,
    id: sha(`${TENANT_ID}\u0000${traceId}\u0000metrics\u00001`).slice(0, 32),
    traceId,
    startTimeUnixNano: shapeMetrics.startTimeUnixNano + shiftNs,
    criticalPathSpanIds: shapeMetrics.criticalPathSpanIds.map(respan),
  };

  const put = (key: Buffer, value: Buffer) => out.push({ type: 'put', key, value });
  put(VIEW_KEYS.revision(TENANT_ID, traceId), Buffer.from('1'));
  put(VIEW_KEYS.trace(TENANT_ID, traceId), json(traceSummaryOf(trace)));
  put(VIEW_KEYS.traceBodyRevision(TENANT_ID, traceId, 1), await codecs.trace.encode(trace));
  put(VIEW_KEYS.metrics(TENANT_ID, traceId), json({ ...metrics, startTimeUnixNano: metrics.startTimeUnixNano.toString() }));
  let facets = withMetrics(withTrace(null, trace), metrics);
  for (const d of detections) {
    put(VIEW_KEYS.detection(TENANT_ID, d.id), json(d));
    put(VIEW_KEYS.detectionByTrace(TENANT_ID, traceId, d.id), Buffer.alloc(0));
    put(VIEW_KEYS.detectionByTime(TENANT_ID, d.detectedAtMs, d.id), Buffer.alloc(0));
    facets = withDetection(facets, d);
  }
  // As the views do: the facets under the trace and in its by-time index entry.
  put(VIEW_KEYS.traceFacets(TENANT_ID, traceId), json(facets));
  put(VIEW_KEYS.traceByTime(TENANT_ID, closedAtMs, traceId), json(facets));
  // And its entries in the facet value indexes (trace-index.ts); the counts are written at the end.
  indexOpsOf(TENANT_ID, traceId, { ...facets, closedAtMs }, counts, out);
}

interface Loaded {
  readonly traces: number;
  readonly ms: number;
  readonly apiKey: string;
  readonly rssPeak: number;
}

/** Writes the tenant, its key and `wanted` traces into the views' store, stopping early when the budget runs out. */
async function load(dataDir: string, wanted: number, budgetMs: number): Promise<Loaded> {
  const started = performance.now();
  const log = await createEmbeddedLog({ dataDir, sync: 'none' });
  let rssPeak = process.memoryUsage().rss;
  try {
    await log.ensureTopics(await loadTopicDeclarations());
    const codecs = await createCodecs(new LocalSchemaIds());
    const store = await log.openStore(VIEWS_GROUP, VIEWS_STORE);
    const templates = makeTemplates(TEMPLATES, pipelineVersion());

    // The tenant and its key, as applyTenantEvent writes them for tenant_created and api_key_created.
    const key = issueApiKey();
    const atMs = Date.now();
    const tenantUnit = log.beginUnit(VIEWS_GROUP);
    tenantUnit.write(store, [
      { type: 'put', key: VIEW_KEYS.tenant(TENANT_ID), value: json({ tenantId: TENANT_ID, name: 'query bench', createdAtMs: atMs }) },
      { type: 'put', key: VIEW_KEYS.apiKey(key.keyId), value: json({ keyId: key.keyId, tenantId: TENANT_ID, secretHash: key.secretHash, createdAtMs: atMs, revokedAtMs: null }) },
      { type: 'put', key: VIEW_KEYS.apiKeyOfTenant(TENANT_ID, key.keyId), value: Buffer.alloc(0) },
    ]);
    await tenantUnit.commit();

    // Traces end about now, the oldest a week or so ago.
    const t0 = atMs - wanted * CLOSE_STEP_MS;
    let loaded = 0;
    const counts = new Map<string, number>();
    // One batch is written while the next is built: RocksDB applies it on its own thread.
    let writing: Promise<void> = Promise.resolve();
    while (loaded < wanted && performance.now() - started < budgetMs) {
      const ops: StoreOp[] = [];
      const end = Math.min(wanted, loaded + LOAD_BATCH);
      for (let i = loaded; i < end; i++) await traceOps(i, t0, templates, codecs, counts, ops);
      await writing;
      const unit = log.beginUnit(VIEWS_GROUP);
      unit.write(store, ops);
      writing = unit.commit();
      loaded = end;
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    await writing;
    const indexUnit = log.beginUnit(VIEWS_GROUP);
    indexUnit.write(store, indexCompletionOps(counts));
    await indexUnit.commit();
    return { traces: loaded, ms: performance.now() - started, apiKey: key.apiKey, rssPeak };
  } finally {
    await log.close();
  }
}

// ---------------------------------------------------------------------------------------
// The server process: tracefold on the loaded data dir, and the static baseline route.

type ToServer = { readonly type: 'memory' } | { readonly type: 'stop' };
type FromServer =
  | { readonly type: 'ready'; readonly tracefoldUrl: string; readonly staticUrl: string; readonly startMs: number }
  | { readonly type: 'memory'; readonly heapUsed: number; readonly rss: number }
  | { readonly type: 'failed'; readonly message: string };

async function serve(dataDir: string): Promise<void> {
  const send = (message: FromServer) => process.send?.(message);
  try {
    const started = performance.now();
    const config = loadConfig({ TRACEFOLD_PORT: '0', TRACEFOLD_HOST: '127.0.0.1', TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_LOG_SYNC: 'none' });
    const logger = pino({ level: 'warn' }, pino.destination(2));
    const tracefold = await startTracefold(config, logger);
    const startMs = performance.now() - started;
    const baseline = Fastify({ logger: false });
    baseline.get('/static', async () => ({ status: 'ok' }));
    const staticUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });
    process.on('message', (message: ToServer) => {
      if (message.type === 'memory') {
        const m = process.memoryUsage();
        send({ type: 'memory', heapUsed: m.heapUsed, rss: m.rss });
      } else {
        // Requests autocannon abandoned at the end of a run may still be scanning and fail
        // as the store closes under them: shutdown noise, not a result.
        logger.level = 'fatal';
        void Promise.all([baseline.close(), tracefold.close()]).finally(() => process.disconnect());
      }
    });
    send({ type: 'ready', tracefoldUrl: tracefold.url, staticUrl, startMs });
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.disconnect();
  }
}

interface Server {
  readonly tracefoldUrl: string;
  readonly staticUrl: string;
  readonly startMs: number;
  memory(): Promise<{ heapUsed: number; rss: number }>;
  stop(): Promise<void>;
}

async function startServer(dataDir: string): Promise<Server> {
  // This same file, run as the child's entry point (with the parent's tsx loader).
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = (type: FromServer['type']) =>
    new Promise<FromServer>((resolve, reject) => {
      const onMessage = (message: FromServer) => {
        if (message.type !== type && message.type !== 'failed') return;
        child.off('message', onMessage);
        if (message.type === 'failed') reject(new Error(`server process failed: ${message.message}`));
        else resolve(message);
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error('server process exited')));
    });
  const ready = await next('ready');
  if (ready.type !== 'ready') throw new Error('unexpected answer from the server process');
  return {
    tracefoldUrl: ready.tracefoldUrl,
    staticUrl: ready.staticUrl,
    startMs: ready.startMs,
    memory: async () => {
      const answer = next('memory');
      child.send({ type: 'memory' } satisfies ToServer);
      const m = await answer;
      return m.type === 'memory' ? { heapUsed: m.heapUsed, rss: m.rss } : { heapUsed: Number.NaN, rss: Number.NaN };
    },
    stop: async () => {
      if (child.exitCode === null) child.send({ type: 'stop' } satisfies ToServer);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------
// The client side: autocannon, here in the parent process.

interface Case {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Builds each request's path (random trace ids); a fixed URL otherwise. */
  readonly path?: () => string;
}

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly rps: number;
  readonly bad: number;
  readonly completed: number;
}

async function cannon(c: Case, connections: number, seconds: number): Promise<Figures> {
  const nextPath = c.path;
  const result = await autocannon({
    url: c.url,
    connections,
    duration: seconds,
    headers: c.headers,
    ...(nextPath === undefined ? {} : { requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }] }),
  });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    rps: result.requests.average,
    bad: result.non2xx + result.errors + result.timeouts,
    completed: result.requests.total,
  };
}

/** Median latency of `count` requests sent one at a time: the cost of a request without queueing. */
async function aloneMs(c: Case, count: number): Promise<number> {
  const base = new URL(c.url);
  // One kept-alive connection, as autocannon's are, so connection setup is not counted.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let n = 0; n < count + 1; n++) {
      const path = c.path === undefined ? `${base.pathname}${base.search}` : c.path();
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        http
          .get({ host: base.hostname, port: base.port, path, headers: c.headers, agent }, (res) => {
            res.resume();
            res.on('end', resolve);
            res.on('error', reject);
          })
          .on('error', reject);
      });
      // The first request opens the connection; it is not counted.
      if (n > 0) times.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  return median(times);
}

async function getJson(url: string, apiKey: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: res.status, body: await res.json() };
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : String(x));
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

export async function runQueryApiBench(): Promise<void> {
  const wanted = envInt('QUERY_BENCH_TRACES', 1_000_000);
  const budgetS = envInt('QUERY_BENCH_LOAD_BUDGET_S', 100);
  const connections = envInt('QUERY_BENCH_CONNECTIONS', 32);
  const durationS = envInt('QUERY_BENCH_DURATION_S', 10);
  const dataDir = await mkdtemp(join(process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir(), 'tracefold-bench-query-'));
  let server: Server | null = null;
  try {
    const loaded = await load(dataDir, wanted, budgetS * 1000);
    const size = await dirBytes(dataDir);
    console.log(
      `loaded ${formatCount(loaded.traces)} traces in ${(loaded.ms / 1000).toFixed(1)} s (${formatCount((loaded.traces * 1000) / loaded.ms)} traces/s), ` +
        `data dir ${mb(size)} (${formatCount(size / loaded.traces)} bytes/trace), loader RSS peak ${mb(loaded.rssPeak)}`,
    );
    if (loaded.traces < wanted) {
      console.log(`this machine did not reach ${formatCount(wanted)} traces within the ${budgetS} s load budget (QUERY_BENCH_LOAD_BUDGET_S); the figures are for ${formatCount(loaded.traces)}`);
    }

    server = await startServer(dataDir);
    const api = `${server.tracefoldUrl}/api/v1/tenants/${TENANT_ID}/traces`;
    const headers = { authorization: `Bearer ${loaded.apiKey}` };
    console.log(`tracefold started on the data dir in ${(server.startMs / 1000).toFixed(1)} s`);

    // What the cases answer, checked once before the load.
    const list = await getJson(`${api}?limit=50`, loaded.apiKey);
    const filtered = await getJson(`${api}?service=${RARE_SERVICE}&limit=50`, loaded.apiKey);
    const detail = await getJson(`${api}/${traceIdOf(Math.floor(loaded.traces / 2))}`, loaded.apiKey);
    const page = (r: { status: number; body: unknown }) => {
      const body = r.body as { items?: unknown[]; next_cursor?: string | null };
      if (r.status !== 200 || !Array.isArray(body.items)) throw new Error(`unexpected answer ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      return { items: body.items.length, more: body.next_cursor !== null && body.next_cursor !== undefined };
    };
    const listPage = page(list);
    const filteredPage = page(filtered);
    const spans = (detail.body as { spans?: unknown[] }).spans;
    if (detail.status !== 200 || !Array.isArray(spans)) throw new Error(`trace detail answered ${detail.status}: ${JSON.stringify(detail.body).slice(0, 300)}`);
    console.log(
      `list ?limit=50: ${listPage.items} items; ?service=${RARE_SERVICE} (~${SERVICES[SERVICES.length - 1]!.share * 100}% of traces): ` +
        `${filteredPage.items} items on the first page${filteredPage.more ? ', next_cursor set' : ''}; ` +
        `detail: ${JSON.stringify(detail.body).length} bytes of JSON`,
    );

    const cases: Case[] = [
      { name: 'static route (baseline)', url: `${server.staticUrl}/static`, headers },
      { name: 'trace list ?limit=50', url: `${api}?limit=50`, headers },
      { name: `trace list ?service=${RARE_SERVICE}&limit=50`, url: `${api}?service=${RARE_SERVICE}&limit=50`, headers },
      {
        name: 'trace detail, random ids',
        url: api,
        headers,
        path: () => `/api/v1/tenants/${TENANT_ID}/traces/${traceIdOf(Math.floor(Math.random() * loaded.traces))}`,
      },
    ];
    console.log(
      `autocannon: ${connections} connections, ${WARMUP_S} s warm-up then ${durationS} s per case, one case after the other; ` +
        'client (this process) and server (a child process) share this machine',
    );
    // autocannon keeps whole milliseconds, so a static p50 is often 0 or 1 ms: the ratios are
    // taken on the alone median, the mean and req/s, which keep their precision.
    const rows: string[][] = [['case', 'alone p50', 'p50', 'p99', 'mean', 'req/s', 'alone vs static', 'mean vs static', 'req/s vs static', 'non-2xx/errors']];
    let baseline: (Figures & { alone: number }) | null = null;
    for (const c of cases) {
      const alone = await aloneMs(c, ALONE_REQUESTS);
      await cannon(c, connections, WARMUP_S);
      const f = await cannon(c, connections, durationS);
      const figures = { ...f, alone };
      baseline ??= figures;
      const vs = (pickFigure: (x: Figures & { alone: number }) => number) => (c === cases[0] ? '' : formatRatio(pickFigure(figures) / pickFigure(baseline!)));
      const none = f.completed === 0;
      rows.push([
        c.name,
        ms(alone),
        none ? 'none completed' : ms(f.p50),
        none ? '' : ms(f.p99),
        none ? '' : ms(f.mean),
        formatCount(f.rps),
        vs((x) => x.alone),
        none ? '' : vs((x) => x.mean),
        vs((x) => x.rps),
        formatCount(f.bad),
      ]);
    }
    const memory = await server.memory();
    // autocannon drops its connections at the end of a run with requests still in the
    // server; let those finish before the store closes under them.
    await sleep(1000);
    console.log(`\n${formatCount(loaded.traces)} traces ("alone": median of ${ALONE_REQUESTS} requests one at a time; the rest under load):`);
    console.log(table(rows));
    console.log(`server process after the runs: heap used ${mb(memory.heapUsed)}, RSS ${mb(memory.rss)}`);
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// Run as the server process by startServer (this file is then the entry point).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--serve') {
  await serve(process.argv[3]!);
}
