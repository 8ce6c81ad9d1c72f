/**
 * Spans and arrival orders for the trace-stage benchmark: agent traces shaped like what
 * ingest appends to tracefold.raw.v1 (a root, tool calls and model calls under it).
 */
import type { CanonicalSpan, KeyValue } from '../src/model/span.js';

export const BENCH_TENANT = 'tenant-bench';

const str = (key: string, value: string): KeyValue => ({ key, value: { type: 'string', value } });
const int = (key: string, value: number): KeyValue => ({ key, value: { type: 'int', value: BigInt(value) } });

export const benchTraceId = (t: number): string => (t + 1).toString(16).padStart(32, '0');
export const benchSpanId = (t: number, s: number): string => (t * 65_536 + s + 1).toString(16).padStart(16, '0');

/**
 * Span `s` of trace `t`: 0 is the root (unless `rootless`, for windows that must stay
 * open: a root would close its window after the settle time), every 3rd a tool call, the
 * rest model calls. About 600 bytes encoded.
 */
export function benchSpan(t: number, s: number, receivedAtMs: number, rootless = false): CanonicalSpan {
  const root = s === 0 && !rootless;
  const tool = !root && s % 3 === 1;
  const startNs = BigInt(receivedAtMs - 60_000 + s * 100) * 1_000_000n;
  const attributes: KeyValue[] = root
    ? [str('gen_ai.operation.name', 'invoke_agent'), str('gen_ai.agent.name', 'researcher'), str('gen_ai.conversation.id', `conversation-${t}`)]
    : tool
      ? [
          str('gen_ai.operation.name', 'execute_tool'),
          str('gen_ai.agent.name', 'researcher'),
          str('gen_ai.tool.name', 'web_search'),
          str('gen_ai.tool.call.id', `call-${t}-${s}`),
          str('gen_ai.tool.call.arguments', JSON.stringify({ query: `pricing of product ${s} for run ${t}`, max_results: 5 })),
          str('gen_ai.tool.call.result', `[{"title": "Result ${s}", "url": "https://example.com/${t}/${s}"}]`),
        ]
      : [
          str('gen_ai.operation.name', 'chat'),
          str('gen_ai.agent.name', 'researcher'),
          str('gen_ai.provider.name', 'anthropic'),
          str('gen_ai.request.model', 'claude-sonnet-4'),
          int('gen_ai.usage.input_tokens', 1200 + s * 10),
          int('gen_ai.usage.output_tokens', 300 + s),
          str('gen_ai.response.finish_reasons', 'stop'),
        ];
  return {
    tenantId: BENCH_TENANT,
    traceId: benchTraceId(t),
    spanId: benchSpanId(t, s),
    parentSpanId: root ? '' : rootless && s === 0 ? 'ffffffffffffffff' : benchSpanId(t, 0),
    traceState: '',
    flags: 1,
    name: root ? 'invoke_agent researcher' : tool ? 'execute_tool web_search' : 'chat claude-sonnet-4',
    kind: root ? 1 : 3,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + 80_000_000n,
    attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 1, message: '' },
    resource: { attributes: [str('service.name', 'bench-agents')], droppedAttributesCount: 0, schemaUrl: '' },
    scope: { name: 'tracefold-bench', version: '1', attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
    source: 'otlp-json',
    receivedAtMs,
  };
}

export interface Arrival {
  readonly t: number;
  readonly s: number;
  /** Arrival step: spans of one tick arrive together, as one ingest request would. */
  readonly tick: number;
}

/**
 * Live arrival order: `startsPerTick` traces start on each tick and send one span per tick,
 * so about startsPerTick × spansPerTrace traces are in flight at once, interleaved.
 */
export function arrivalOrder(traces: number, spansPerTrace: number, startsPerTick: number): Arrival[] {
  const order: Arrival[] = [];
  const ticks = Math.ceil(traces / startsPerTick) + spansPerTrace;
  for (let tick = 0; tick < ticks; tick++) {
    const first = Math.max(0, (tick - spansPerTrace + 1) * startsPerTick);
    const end = Math.min(traces, (tick + 1) * startsPerTick);
    for (let t = first; t < end; t++) {
      const s = tick - Math.floor(t / startsPerTick);
      if (s >= 0 && s < spansPerTrace) order.push({ t, s, tick });
    }
  }
  return order;
}
