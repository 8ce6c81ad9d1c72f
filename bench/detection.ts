/**
 * Detection cost per trace, for traces of 10, 100 and 10,000 spans:
 *
 * - the detectors alone (every detector createDetectors() returns, in turn) over a semantic
 *   trace mapped beforehand;
 * - each detector alone, with its cost per span at 100 and at 10,000 spans side by side,
 *   so a detector whose cost grows faster than the trace (quadratic) stands out;
 * - the whole analyzeWindow: semantic mapping, detectors, ranking, ids, metrics, digest.
 *
 * Baselines, measured in the same run: a trivial pass over the canonical spans (one read
 * of each span's attributes and times) and toSemanticTrace alone, which every analysis
 * pays before any detector runs.
 *
 *   npm run bench -- detection
 *
 * Figures are medians and 95th percentiles over samples; cases are measured in rounds
 * (one sample of each per round) so that a burst of noise on a shared machine lands on all
 * of them rather than on one. A sample is one call, or a batch of calls for calls too
 * short to time alone (the batch size is printed), divided by the batch size.
 *
 * Environment: DETECTION_BENCH_SIZES (comma-separated span counts, default 10,100,10000).
 */
import { createDetectors } from '../src/detectors/registry.js';
import type { Detector } from '../src/detectors/detector.js';
import type { CanonicalSpan, KeyValue, SpanEvent } from '../src/model/span.js';
import { toSemanticTrace } from '../src/semantic/mapper.js';
import type { SemanticTrace } from '../src/semantic/semantic-span.js';
import { pipelineVersion } from '../src/stages/pipeline-version.js';
import { analyzeWindow, type ClosedWindow } from '../src/stages/trace/analyze.js';
import { formatCount, formatRatio, median, table } from './stats.js';
import { seededRandom } from '../test/support/seeded-random.js';

const DEFAULT_SIZES = [10, 100, 10_000] as const;
const TENANT = 'tenant-bench';
/** A sample shorter than this is a batch of calls: timer granularity and call overhead would dominate a single one. */
const TARGET_SAMPLE_US = 500;
const MIN_SAMPLES = 7;
/** Stop a slow case after this many times its budget even if it has fewer samples than wanted (a quadratic detector at 10,000 spans). */
const BUDGET_OVERRUN = 3;
const MIN_ROUNDS_ON_OVERRUN = 3;

// ---------------------------------------------------------------------------------------
// Traces

interface AgentProfile {
  readonly name: string;
  readonly role: string;
  readonly models: readonly string[];
  readonly tools: readonly string[];
}

const AGENTS: readonly AgentProfile[] = [
  {
    name: 'planner',
    role: 'Breaks the research question into tasks and assigns them to the other agents.',
    models: ['claude-sonnet-4'],
    tools: ['read_file', 'web_search'],
  },
  {
    name: 'researcher',
    role: 'Finds primary sources on the web and verifies each claim against two of them.',
    models: ['claude-sonnet-4', 'claude-haiku-4'],
    tools: ['web_search', 'fetch_url', 'read_file'],
  },
  {
    name: 'analyst',
    role: 'Queries the sales warehouse and checks every figure the report quotes.',
    models: ['gpt-4.1', 'gpt-4.1-mini'],
    tools: ['run_sql', 'read_file'],
  },
  {
    name: 'writer',
    role: 'Writes the final report from the verified findings, citing sources.',
    models: ['claude-sonnet-4'],
    tools: ['read_file', 'write_file'],
  },
];

const TOOL_ERRORS = ['upstream timed out after 30000 ms', 'HTTP 503 Service Unavailable', 'ENOENT: no such file or directory', 'invalid SQL: column "regoin" does not exist'];
const TOPICS = ['list prices of ACME plans', 'Q3 churn by region', 'competitor feature matrix', 'SSO adoption among enterprise customers', 'support ticket volume trend'];

const str = (key: string, value: string): KeyValue => ({ key, value: { type: 'string', value } });
const int = (key: string, value: number): KeyValue => ({ key, value: { type: 'int', value: BigInt(value) } });
const dbl = (key: string, value: number): KeyValue => ({ key, value: { type: 'double', value } });

const RESOURCE = {
  attributes: [str('service.name', 'research-crew'), str('service.version', '2.3.1'), str('telemetry.sdk.language', 'python'), str('deployment.environment', 'prod')],
  droppedAttributesCount: 0,
  schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
};
const SCOPE = { name: 'opentelemetry.instrumentation.crewai', version: '0.41.0', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };

function toolArguments(tool: string, topic: string, n: number): string {
  switch (tool) {
    case 'web_search':
      return JSON.stringify({ query: `${topic} ${n}`, max_results: 5 });
    case 'fetch_url':
      return JSON.stringify({ url: `https://example.com/reports/${n}`, timeout_s: 30 });
    case 'run_sql':
      return JSON.stringify({ sql: `SELECT region, SUM(amount) FROM sales WHERE quarter = 'Q${(n % 4) + 1}' GROUP BY region`, limit: 100 });
    case 'write_file':
      return JSON.stringify({ path: `report/section-${n}.md`, content: `## ${topic}\n\nDraft ${n}.` });
    default:
      return JSON.stringify({ path: `notes/${topic.replaceAll(' ', '-')}-${n}.md` });
  }
}

function toolResult(tool: string, topic: string, n: number): string {
  if (tool === 'run_sql') return JSON.stringify({ rows: [{ region: 'EMEA', sum: 1200 + n }, { region: 'AMER', sum: 3400 + n }], row_count: 2 });
  if (tool === 'write_file') return JSON.stringify({ ok: true, bytes: 400 + n });
  return JSON.stringify([
    { title: `${topic}: overview ${n}`, url: `https://example.com/a/${n}`, snippet: `A summary of ${topic} as of this quarter.` },
    { title: `${topic}: details`, url: `https://example.org/b/${n}`, snippet: 'Figures and methodology.' },
  ]);
}

/**
 * One agent run of exactly `spans` spans, deterministic for a given seed: an invoke_agent
 * root (the planner), then segments, each a hand-off span (from the second on) and an
 * invoke_agent span of the agent taking over, whose children are its chat calls (model,
 * tokens growing with the conversation, prompt and completion, agent state every few
 * steps) and tool calls (arguments and results). About 4% of tool calls and 2% of chat
 * calls fail (timeouts, 503s, 429s); some failed calls are retried with the same
 * arguments, and now and then an agent repeats a call several times (a loop).
 */
export function agentTrace(spans: number, seed: number): CanonicalSpan[] {
  if (spans < 4) throw new Error('a trace needs at least 4 spans');
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const traceId = (seed * 2_654_435_761 + spans).toString(16).padStart(32, '0').slice(-32);
  let nextId = 1;
  const newSpanId = (): string => (nextId++).toString(16).padStart(16, '0');
  const t0Ms = 1_700_000_000_000;
  let cursorMs = t0Ms;
  const out: CanonicalSpan[] = [];

  const span = (fields: {
    spanId: string;
    parentSpanId: string;
    name: string;
    kind: number;
    startMs: number;
    endMs: number;
    attributes: KeyValue[];
    error?: string;
    events?: SpanEvent[];
  }): CanonicalSpan => ({
    tenantId: TENANT,
    traceId,
    spanId: fields.spanId,
    parentSpanId: fields.parentSpanId,
    traceState: '',
    flags: 1,
    name: fields.name,
    kind: fields.kind,
    startTimeUnixNano: BigInt(Math.round(fields.startMs * 1000)) * 1000n,
    endTimeUnixNano: BigInt(Math.round(fields.endMs * 1000)) * 1000n,
    attributes: fields.attributes,
    droppedAttributesCount: 0,
    events: fields.events ?? [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: fields.error === undefined ? { code: 1, message: '' } : { code: 2, message: fields.error },
    resource: RESOURCE,
    scope: SCOPE,
    source: 'otlp-proto',
    receivedAtMs: Math.round(fields.endMs) + 50,
  });

  // Segments grow with the trace (2 at 10 spans, 5 at 100, 50 at 10,000): long runs have
  // more hand-offs, but each agent still does a stretch of work per turn.
  let segments = Math.max(1, Math.round(Math.sqrt(spans) / 2));
  while (segments > 1 && spans - 1 - (2 * segments - 1) < 2 * segments) segments--;
  const stepBudget = spans - 1 - (2 * segments - 1);
  const stepsOf = (i: number): number => Math.floor(stepBudget / segments) + (i < stepBudget % segments ? 1 : 0);

  const rootId = newSpanId();
  const rootIndex = out.length;
  out.push(span({ spanId: rootId, parentSpanId: '', name: 'invoke_agent planner', kind: 1, startMs: cursorMs, endMs: cursorMs, attributes: [] }));
  cursorMs += 5;

  const agentSteps = new Map<string, number>();
  let current = AGENTS[1]!;
  let callCounter = 0;
  for (let seg = 0; seg < segments; seg++) {
    if (seg > 0) {
      const previous = current;
      current = pick(AGENTS.filter((a) => a !== previous));
      out.push(
        span({
          spanId: newSpanId(),
          parentSpanId: rootId,
          name: `handoff to ${current.name}`,
          kind: 1,
          startMs: cursorMs,
          endMs: cursorMs + 2,
          attributes: [str('gen_ai.operation.name', 'handoff'), str('gen_ai.agent.name', previous.name), str('handoff.target', current.name)],
        }),
      );
      cursorMs += 3;
    }
    const agent = current;
    const agentSpanId = newSpanId();
    const agentIndex = out.length;
    const agentStart = cursorMs;
    out.push(span({ spanId: agentSpanId, parentSpanId: rootId, name: `invoke_agent ${agent.name}`, kind: 1, startMs: agentStart, endMs: agentStart, attributes: [] }));
    cursorMs += 2;

    const topic = pick(TOPICS);
    const steps = stepsOf(seg);
    let inputTokens = 900 + Math.floor(random() * 400);
    let lastTool: { tool: string; args: string } | null = null;
    let repeatsLeft = 0;
    for (let step = 0; step < steps; step++) {
      const last = step === steps - 1;
      // Chat and tool calls alternate, as a tool-using agent's loop does; the segment ends on a chat.
      const wantTool = !last && (step % 2 === 1 || repeatsLeft > 0) && random() < 0.9;
      if (wantTool) {
        callCounter++;
        let tool: string;
        let args: string;
        if (repeatsLeft > 0 && lastTool !== null) {
          ({ tool, args } = lastTool);
          repeatsLeft--;
        } else {
          tool = random() < 0.005 ? 'web_serch' : pick(agent.tools);
          args = toolArguments(tool, topic, callCounter);
        }
        const failed = random() < 0.04;
        const durationMs = tool === 'run_sql' ? 200 + random() * 1500 : 80 + random() * 900;
        const error = failed ? pick(TOOL_ERRORS) : undefined;
        out.push(
          span({
            spanId: newSpanId(),
            parentSpanId: agentSpanId,
            name: `execute_tool ${tool}`,
            kind: 1,
            startMs: cursorMs,
            endMs: cursorMs + (error?.includes('timed out') ? 30_000 : durationMs),
            attributes: [
              str('gen_ai.operation.name', 'execute_tool'),
              str('gen_ai.agent.name', agent.name),
              str('gen_ai.tool.name', tool),
              str('gen_ai.tool.call.id', `call_${callCounter.toString(36)}`),
              str('gen_ai.tool.type', 'function'),
              str('gen_ai.tool.call.arguments', args),
              ...(failed ? [str('error.type', 'ToolError')] : [str('gen_ai.tool.call.result', toolResult(tool, topic, callCounter))]),
            ],
            ...(error === undefined ? {} : { error }),
          }),
        );
        cursorMs += (error?.includes('timed out') ? 30_000 : durationMs) + 5;
        // A failed call is retried as is half the time; once in a while an agent gets stuck repeating a call.
        if (repeatsLeft === 0) repeatsLeft = failed && random() < 0.5 ? 1 : random() < 0.02 ? 3 : 0;
        lastTool = { tool, args };
        inputTokens += 150 + Math.floor(random() * 600);
        continue;
      }
      const model = pick(agent.models);
      const provider = model.startsWith('gpt') ? 'openai' : 'anthropic';
      const outputTokens = 60 + Math.floor(random() * 700);
      const durationMs = 400 + outputTokens * (2 + random() * 4);
      const rateLimited = random() < 0.02;
      const stepNo = (agentSteps.get(agent.name) ?? 0) + 1;
      agentSteps.set(agent.name, stepNo);
      const attributes: KeyValue[] = [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.agent.name', agent.name),
        str('gen_ai.provider.name', provider),
        str('gen_ai.request.model', model),
        str('gen_ai.response.model', `${model}-2025-05-14`),
        dbl('gen_ai.request.temperature', 0.2),
        int('gen_ai.request.max_tokens', 4096),
        str('gen_ai.conversation.id', `conv-${seed}`),
        str(
          'gen_ai.input.messages',
          JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `Step ${stepNo}: continue the work on ${topic}; use the tools when a figure is missing.` }] }]),
        ),
      ];
      if (!rateLimited) {
        attributes.push(
          str('gen_ai.response.id', `msg_${seed}_${out.length}`),
          int('gen_ai.usage.input_tokens', inputTokens),
          int('gen_ai.usage.output_tokens', outputTokens),
          int('gen_ai.usage.cache_read.input_tokens', Math.floor(inputTokens * 0.6)),
          str('gen_ai.response.finish_reasons', last ? 'stop' : 'tool_calls'),
          str(
            'gen_ai.output.messages',
            JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: `On ${topic}: found ${stepNo} relevant figures so far; next I check the sources.` }] }]),
          ),
        );
      }
      if (step % 4 === 0) {
        attributes.push(
          str('gen_ai.state', JSON.stringify({ step: stepNo, status: last ? 'complete' : 'in_progress', task: topic, tools: agent.tools, findings: Math.floor(stepNo / 3) })),
        );
      }
      const error = rateLimited ? 'rate_limit_error: 429 Too Many Requests' : undefined;
      const end = cursorMs + (rateLimited ? 120 : durationMs);
      out.push(
        span({
          spanId: newSpanId(),
          parentSpanId: agentSpanId,
          name: `chat ${model}`,
          kind: 3,
          startMs: cursorMs,
          endMs: end,
          attributes,
          ...(error === undefined
            ? {}
            : {
                error,
                events: [
                  {
                    timeUnixNano: BigInt(Math.round(end)) * 1_000_000n,
                    name: 'exception',
                    attributes: [str('exception.type', 'RateLimitError'), str('exception.message', error)],
                    droppedAttributesCount: 0,
                  },
                ],
              }),
        }),
      );
      cursorMs = end + 5;
      inputTokens += outputTokens;
    }
    out[agentIndex] = span({
      spanId: agentSpanId,
      parentSpanId: rootId,
      name: `invoke_agent ${agent.name}`,
      kind: 1,
      startMs: agentStart,
      endMs: cursorMs,
      attributes: [
        str('gen_ai.operation.name', 'invoke_agent'),
        str('gen_ai.agent.name', agent.name),
        str('gen_ai.agent.id', `agent-${agent.name}`),
        str('gen_ai.agent.description', agent.role),
        str('gen_ai.conversation.id', `conv-${seed}`),
      ],
    });
    cursorMs += 3;
  }
  out[rootIndex] = span({
    spanId: rootId,
    parentSpanId: '',
    name: 'invoke_agent planner',
    kind: 1,
    startMs: t0Ms,
    endMs: cursorMs,
    attributes: [
      str('gen_ai.operation.name', 'invoke_agent'),
      str('gen_ai.agent.name', 'planner'),
      str('gen_ai.agent.id', 'agent-planner'),
      str('gen_ai.agent.description', AGENTS[0]!.role),
      str('gen_ai.conversation.id', `conv-${seed}`),
    ],
  });
  if (out.length !== spans) throw new Error(`built ${out.length} spans, wanted ${spans}`);
  // Spans reach a closed window in arrival order (children end, and are sent, before their parents).
  return out.sort((a, b) => (a.receivedAtMs !== b.receivedAtMs ? a.receivedAtMs - b.receivedAtMs : a.spanId < b.spanId ? -1 : 1));
}

// ---------------------------------------------------------------------------------------
// Measuring

/** Keeps results alive so that no call can be optimised away. */
let sink = 0;
function consume(value: unknown): void {
  if (Array.isArray(value)) sink += value.length;
  else if (value !== null && typeof value === 'object') sink += 1;
  else if (typeof value === 'number') sink += value;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: with few samples the p95 is the largest or second largest, never an interpolation.
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Case {
  readonly name: string;
  readonly fn: () => unknown;
}

interface Sampled {
  /** Microseconds per call. */
  readonly medianUs: number;
  readonly p95Us: number;
  readonly samples: number;
  /** Calls per sample. */
  readonly batch: number;
}

/**
 * Warms every case up, sizes its batches, then takes one sample of each case per round
 * until the budget is spent and every case has MIN_SAMPLES (or, for cases too slow for
 * that, until BUDGET_OVERRUN times the budget with at least MIN_ROUNDS_ON_OVERRUN).
 */
function measure(cases: readonly Case[], budgetMs: number): Map<string, Sampled> {
  const batches = new Map<string, number>();
  const warmupMs = Math.max(20, budgetMs * 0.1) / cases.length;
  for (const c of cases) {
    // Warm-up: enough calls for the JIT to settle on optimised code, at least 3.
    let calls = 0;
    const started = performance.now();
    while (calls < 3 || (performance.now() - started < warmupMs && calls < 10_000)) {
      consume(c.fn());
      calls++;
    }
    const perCallUs = ((performance.now() - started) * 1000) / calls;
    batches.set(c.name, Math.max(1, Math.ceil(TARGET_SAMPLE_US / Math.max(perCallUs, 0.01))));
  }
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const started = performance.now();
  for (let round = 0; ; round++) {
    const elapsed = performance.now() - started;
    if (round >= MIN_SAMPLES && elapsed >= budgetMs) break;
    if (round >= MIN_ROUNDS_ON_OVERRUN && elapsed >= budgetMs * BUDGET_OVERRUN) break;
    for (const c of cases) {
      const batch = batches.get(c.name)!;
      const t = performance.now();
      for (let i = 0; i < batch; i++) consume(c.fn());
      samples.get(c.name)!.push(((performance.now() - t) * 1000) / batch);
    }
  }
  return new Map(
    cases.map((c) => {
      const values = samples.get(c.name)!;
      return [c.name, { medianUs: median(values), p95Us: percentile(values, 95), samples: values.length, batch: batches.get(c.name)! }];
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Reporting

function us(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 100) return formatCount(n);
  if (n >= 10) return n.toFixed(1);
  return n >= 1 ? n.toFixed(2) : n.toPrecision(2);
}

/** The trivial pass: one read of every span's attributes and times, nothing interpreted. */
function trivialPass(spans: readonly CanonicalSpan[]): number {
  let total = 0;
  for (const s of spans) {
    total += Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;
    for (const kv of s.attributes) total += kv.key.length;
  }
  return total;
}

function runAllDetectors(detectors: readonly Detector[], semantic: SemanticTrace): number {
  let findings = 0;
  for (const d of detectors) findings += d.detect(semantic).length;
  return findings;
}

interface SizeResult {
  readonly spans: number;
  readonly baseline: Sampled;
  readonly mapping: Sampled;
  readonly detectors: Sampled;
  readonly analyze: Sampled;
  readonly perDetector: Map<string, Sampled>;
  readonly findings: string;
}

function sizeBudgets(spans: number): { mainMs: number; perDetectorMs: number } {
  // The large trace gets most of the time: its samples are few and its per-detector table is the point.
  return spans >= 5000 ? { mainMs: 10_000, perDetectorMs: 8000 } : spans >= 500 ? { mainMs: 3000, perDetectorMs: 2000 } : { mainMs: 2000, perDetectorMs: 1200 };
}

function benchSize(spans: number, detectors: readonly Detector[], version: string): SizeResult {
  const canonical = agentTrace(spans, 7 + spans);
  const traceId = canonical[0]!.traceId;
  const semantic = toSemanticTrace(TENANT, traceId, canonical);
  const window: ClosedWindow = {
    tenantId: TENANT,
    traceId,
    revision: 1,
    closeReason: 'root_settled',
    closeRequestId: '',
    closedAtMs: 1_700_000_000_000,
    spans: canonical,
  };
  const outputs = analyzeWindow(window, detectors, version);
  const byType = new Map<string, number>();
  for (const d of outputs.detections) byType.set(d.detectionType, (byType.get(d.detectionType) ?? 0) + 1);
  const findings =
    outputs.detections.length === 0
      ? 'none'
      : `${outputs.detections.length} (${[...byType].map(([type, n]) => `${type} ${n}`).join(', ')})`;

  const { mainMs, perDetectorMs } = sizeBudgets(spans);
  const main = measure(
    [
      { name: 'baseline', fn: () => trivialPass(canonical) },
      { name: 'mapping', fn: () => toSemanticTrace(TENANT, traceId, canonical) },
      { name: 'detectors', fn: () => runAllDetectors(detectors, semantic) },
      { name: 'analyze', fn: () => analyzeWindow(window, detectors, version) },
    ],
    mainMs,
  );
  const perDetector = measure(
    detectors.map((d) => ({ name: d.id, fn: () => d.detect(semantic) })),
    perDetectorMs,
  );
  return {
    spans,
    baseline: main.get('baseline')!,
    mapping: main.get('mapping')!,
    detectors: main.get('detectors')!,
    analyze: main.get('analyze')!,
    perDetector,
    findings,
  };
}

function sizesFromEnv(): number[] {
  const raw = process.env.DETECTION_BENCH_SIZES;
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_SIZES];
  const sizes = raw.split(',').map((s) => Math.floor(Number(s.trim())));
  if (sizes.some((s) => !Number.isFinite(s) || s < 4)) throw new Error(`DETECTION_BENCH_SIZES: span counts of at least 4, got "${raw}"`);
  return sizes;
}

export async function runDetectionBench(): Promise<void> {
  const detectors = createDetectors();
  const version = pipelineVersion();
  const sizes = sizesFromEnv();
  console.log(
    `${detectors.length} detectors (createDetectors defaults); seeded agent traces of ${sizes.map(formatCount).join(', ')} spans ` +
      `(4 agents, hand-offs, chat and tool calls, ~4% tool and ~2% chat errors); medians and p95 in µs`,
  );

  const results: SizeResult[] = [];
  for (const spans of sizes) {
    const result = benchSize(spans, detectors, version);
    results.push(result);
    console.log(`${formatCount(spans)} spans: detections ${result.findings}`);
  }

  const rows: string[][] = [['', 'µs/trace', 'p95', 'µs/span', 'vs toSemanticTrace', 'vs trivial pass', 'samples × batch']];
  for (const r of results) {
    const line = (label: string, s: Sampled): string[] => [
      `${formatCount(r.spans)} spans: ${label}`,
      us(s.medianUs),
      us(s.p95Us),
      us(s.medianUs / r.spans),
      formatRatio(s.medianUs / r.mapping.medianUs),
      formatRatio(s.medianUs / r.baseline.medianUs),
      `${s.samples} × ${s.batch}`,
    ];
    rows.push(
      line('trivial pass (baseline)', r.baseline),
      line('toSemanticTrace (baseline)', r.mapping),
      line('detectors alone', r.detectors),
      line('analyzeWindow', r.analyze),
    );
  }
  console.log(table(rows));

  // Per detector: the large trace in full, the smaller ones as µs per span, and the growth
  // of µs per span from the middle size to the largest (1x linear, ~size ratio quadratic).
  const largest = results[results.length - 1]!;
  const middle = results.length >= 2 ? results[results.length - 2]! : undefined;
  const sizeRatio = middle === undefined ? Number.NaN : largest.spans / middle.spans;
  const sumOfMedians = [...largest.perDetector.values()].reduce((a, s) => a + s.medianUs, 0);
  const header = [
    `detector (${formatCount(largest.spans)} spans)`,
    'µs/trace',
    'p95',
    'µs/span',
    'share',
    ...results.slice(0, -1).map((r) => `µs/span @${formatCount(r.spans)}`),
    ...(middle === undefined ? [] : [`µs/span growth ${formatCount(middle.spans)}→${formatCount(largest.spans)}`]),
  ];
  const detectorRows = detectors
    .map((d) => ({ id: d.id, s: largest.perDetector.get(d.id)! }))
    .sort((a, b) => b.s.medianUs - a.s.medianUs)
    .map(({ id, s }) => {
      const growth = middle === undefined ? Number.NaN : s.medianUs / largest.spans / (middle.perDetector.get(id)!.medianUs / middle.spans);
      // Growth in µs/span by more than the square root of the size ratio: closer to quadratic than to linear.
      const flag = Number.isFinite(growth) && growth > Math.sqrt(sizeRatio) ? '  superlinear' : '';
      return [
        id,
        us(s.medianUs),
        us(s.p95Us),
        us(s.medianUs / largest.spans),
        `${((100 * s.medianUs) / sumOfMedians).toFixed(1)}%`,
        ...results.slice(0, -1).map((r) => us(r.perDetector.get(id)!.medianUs / r.spans)),
        ...(middle === undefined ? [] : [`${formatRatio(growth)}${flag}`]),
      ];
    });
  console.log(table([header, ...detectorRows]));
  console.log(
    `sum of per-detector medians at ${formatCount(largest.spans)} spans: ${us(sumOfMedians)} µs ` +
      `(all detectors in one pass: ${us(largest.detectors.medianUs)} µs); ` +
      `analyzeWindow beyond mapping and detectors (ranking, ids, metrics, digest): ${us(largest.analyze.medianUs - largest.mapping.medianUs - largest.detectors.medianUs)} µs`,
  );
  if (sink === -1) console.log('unreachable');
}
