/**
 * Payloads for the benchmarks (and for tests that want the same large inputs): OTLP/HTTP
 * JSON requests and canonical spans shaped like what agent frameworks send.
 */
import type { AnyValue, CanonicalSpan, KeyValue } from '../src/model/span.js';

type OtlpValue = { stringValue: string } | { intValue: string | number } | { doubleValue: number } | { boolValue: boolean };

interface OtlpAttribute {
  readonly key: string;
  readonly value: OtlpValue;
}

function otlpAttr(key: string, value: string | number | boolean): OtlpAttribute {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}

function otlpRequest(serviceName: string, spans: readonly unknown[]): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [otlpAttr('service.name', serviceName)] },
        scopeSpans: [{ scope: { name: 'tracefold-bench', version: '1' }, spans }],
      },
    ],
  };
}

/** The OTLP JSON text of 1000 spans with 20 attributes each, a realistic mix of value types. */
export function largeOtlpPayload(): string {
  const spans = [];
  for (let i = 0; i < 1000; i++) {
    const attributes = [];
    for (let a = 0; a < 20; a++) {
      const key = `attr.${a}`;
      switch (a % 5) {
        case 0:
          attributes.push({ key, value: { stringValue: `value-${i}-${a} with some text` } });
          break;
        case 1:
          attributes.push({ key, value: { intValue: String(i * 1000 + a) } });
          break;
        case 2:
          attributes.push({ key, value: { doubleValue: i / (a + 1) } });
          break;
        case 3:
          attributes.push({ key, value: { boolValue: i % 2 === 0 } });
          break;
        default:
          attributes.push({ key, value: { intValue: a } });
      }
    }
    spans.push({
      traceId: (i >> 4).toString(16).padStart(32, 'a'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: i % 16 === 0 ? '' : (i - (i % 16) + 1).toString(16).padStart(16, '0'),
      name: `operation-${i % 7}`,
      kind: 1,
      startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n),
      endTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n + 500_000n),
      attributes,
      status: { code: 1 },
    });
  }
  return JSON.stringify(otlpRequest('bench', spans));
}

export interface AgentWorkloadOptions {
  readonly traces: number;
  /** At least 6: a root, 5 tool calls, the rest model calls. */
  readonly spansPerTrace: number;
  readonly spansPerRequest: number;
  /** Every `loopEvery`-th trace repeats one identical tool call 5 times (a loop detection). */
  readonly loopEvery: number;
}

export interface AgentWorkload {
  /** OTLP/HTTP JSON request bodies, in sending order. */
  readonly bodies: readonly string[];
  /** Spans in each body. */
  readonly spansPerBody: readonly number[];
  readonly traceIds: readonly string[];
  readonly spans: number;
  readonly loopingTraces: number;
}

const TOOL_CALLS = 5;

/**
 * Agent runs as OTLP JSON: each trace is an invoke_agent root with 5 tool calls and model
 * calls under it. Spans are sent in trace order and cut into requests of `spansPerRequest`,
 * so a trace may straddle two requests, as it does with a batching exporter.
 */
export function agentWorkload(options: AgentWorkloadOptions): AgentWorkload {
  if (options.spansPerTrace < TOOL_CALLS + 1) throw new Error(`spansPerTrace must be at least ${TOOL_CALLS + 1}`);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const ms = (n: number): string => String(t0 + BigInt(n) * 1_000_000n);
  const spans: unknown[] = [];
  const traceIds: string[] = [];
  let loopingTraces = 0;
  for (let t = 0; t < options.traces; t++) {
    const traceId = (t + 1).toString(16).padStart(32, '0');
    const spanId = (s: number): string => ((t + 1) * 256 + s).toString(16).padStart(16, '0');
    const looping = t % options.loopEvery === 0;
    if (looping) loopingTraces++;
    traceIds.push(traceId);
    const base = { traceId, kind: 1, status: { code: 1 } };
    spans.push({
      ...base,
      spanId: spanId(0),
      name: 'invoke_agent researcher',
      startTimeUnixNano: ms(0),
      endTimeUnixNano: ms(30_000),
      attributes: [
        otlpAttr('gen_ai.operation.name', 'invoke_agent'),
        otlpAttr('gen_ai.agent.name', 'researcher'),
        otlpAttr('gen_ai.agent.id', `agent-${t % 17}`),
        otlpAttr('gen_ai.conversation.id', `conversation-${t}`),
      ],
    });
    for (let s = 1; s < options.spansPerTrace; s++) {
      const start = s * 1000;
      const child = { ...base, spanId: spanId(s), parentSpanId: spanId(0), startTimeUnixNano: ms(start), endTimeUnixNano: ms(start + 800) };
      if (s <= TOOL_CALLS) {
        const query = looping ? 'pricing of acme' : `pricing of product ${s} for run ${t}`;
        spans.push({
          ...child,
          name: 'execute_tool web_search',
          attributes: [
            otlpAttr('gen_ai.operation.name', 'execute_tool'),
            otlpAttr('gen_ai.agent.name', 'researcher'),
            otlpAttr('gen_ai.tool.name', 'web_search'),
            otlpAttr('gen_ai.tool.call.id', `call-${t}-${s}`),
            otlpAttr('gen_ai.tool.call.arguments', JSON.stringify({ query, max_results: 5 })),
            otlpAttr('gen_ai.tool.call.result', `[{"title": "Result for ${query}", "url": "https://example.com/${s}"}]`),
          ],
        });
      } else {
        spans.push({
          ...child,
          name: 'chat claude-sonnet-4',
          attributes: [
            otlpAttr('gen_ai.operation.name', 'chat'),
            otlpAttr('gen_ai.agent.name', 'researcher'),
            otlpAttr('gen_ai.provider.name', 'anthropic'),
            otlpAttr('gen_ai.request.model', 'claude-sonnet-4'),
            otlpAttr('gen_ai.request.temperature', 0.2),
            otlpAttr('gen_ai.usage.input_tokens', 1200 + s * 10),
            otlpAttr('gen_ai.usage.output_tokens', 300 + s),
            otlpAttr('gen_ai.response.finish_reasons', 'stop'),
          ],
        });
      }
    }
  }
  const bodies: string[] = [];
  const spansPerBody: number[] = [];
  for (let i = 0; i < spans.length; i += options.spansPerRequest) {
    const chunk = spans.slice(i, i + options.spansPerRequest);
    bodies.push(JSON.stringify(otlpRequest('bench-agents', chunk)));
    spansPerBody.push(chunk.length);
  }
  return { bodies, spansPerBody, traceIds, spans: spans.length, loopingTraces };
}

const str = (value: string): AnyValue => ({ type: 'string', value });
const int = (value: number): AnyValue => ({ type: 'int', value: BigInt(value) });
const dbl = (value: number): AnyValue => ({ type: 'double', value });
const bool = (value: boolean): AnyValue => ({ type: 'bool', value });

/** A model-call span as the decoder produces it, with 30 attributes of mixed types. */
export function typicalCanonicalSpan(): CanonicalSpan {
  const attributes: KeyValue[] = [
    { key: 'gen_ai.operation.name', value: str('chat') },
    { key: 'gen_ai.provider.name', value: str('anthropic') },
    { key: 'gen_ai.request.model', value: str('claude-sonnet-4') },
    { key: 'gen_ai.response.model', value: str('claude-sonnet-4-20250514') },
    { key: 'gen_ai.response.id', value: str('msg_01XFDUDYJgAACzvnptvVoYEL') },
    { key: 'gen_ai.agent.name', value: str('researcher') },
    { key: 'gen_ai.agent.id', value: str('agent-7f3a') },
    { key: 'gen_ai.conversation.id', value: str('conv-2b9c41d0') },
    { key: 'gen_ai.request.temperature', value: dbl(0.2) },
    { key: 'gen_ai.request.top_p', value: dbl(0.95) },
    { key: 'gen_ai.request.max_tokens', value: int(4096) },
    { key: 'gen_ai.request.seed', value: int(42) },
    { key: 'gen_ai.usage.input_tokens', value: int(2143) },
    { key: 'gen_ai.usage.output_tokens', value: int(512) },
    { key: 'gen_ai.usage.cache_read.input_tokens', value: int(1024) },
    { key: 'gen_ai.response.finish_reasons', value: { type: 'array', values: [str('stop')] } },
    {
      key: 'gen_ai.input.messages',
      value: str(
        '[{"role":"user","parts":[{"type":"text","content":"Find the current list prices of the three ACME plans and summarise the differences."}]}]',
      ),
    },
    {
      key: 'gen_ai.output.messages',
      value: str(
        '[{"role":"assistant","parts":[{"type":"text","content":"ACME offers Starter, Team and Enterprise plans; Team adds SSO and audit logs."}],"finish_reason":"stop"}]',
      ),
    },
    { key: 'gen_ai.system_instructions', value: str('You are a careful research assistant. Cite your sources.') },
    { key: 'server.address', value: str('api.anthropic.com') },
    { key: 'server.port', value: int(443) },
    { key: 'http.response.status_code', value: int(200) },
    { key: 'llm.latency.time_to_first_token_ms', value: dbl(412.5) },
    { key: 'llm.cost.usd', value: dbl(0.01411) },
    { key: 'llm.is_streaming', value: bool(true) },
    { key: 'llm.cache.hit', value: bool(false) },
    { key: 'retry.attempt', value: int(0) },
    { key: 'langgraph.node.name', value: str('research') },
    { key: 'langgraph.step', value: int(3) },
    { key: 'app.debug', value: bool(false) },
  ];
  return {
    tenantId: 'tenant-bench',
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    parentSpanId: '9c3f2a1b7d4e6f80',
    traceState: '',
    flags: 1,
    name: 'chat claude-sonnet-4',
    kind: 3,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_003_412_000_000n,
    attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 1, message: '' },
    resource: {
      attributes: [
        { key: 'service.name', value: str('research-agent') },
        { key: 'service.version', value: str('1.4.2') },
        { key: 'telemetry.sdk.language', value: str('python') },
      ],
      droppedAttributesCount: 0,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    },
    scope: { name: 'opentelemetry.instrumentation.anthropic', version: '0.40.0', attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
    source: 'otlp-json',
    receivedAtMs: 1_700_000_003_500,
  };
}
