/**
 * Builders for OTLP/HTTP JSON payloads used across tests.
 */
export interface SpanSpec {
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  durationMs?: number;
  attributes?: Record<string, string | number | boolean>;
  error?: string;
}

function attr(key: string, value: string | number | boolean) {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: value } } : { key, value: { doubleValue: value } };
}

export function otlpPayload(traceId: string, spans: readonly SpanSpec[], serviceName = 'test-service') {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', serviceName)] },
        scopeSpans: [
          {
            scope: { name: 'tracefold-tests', version: '1' },
            spans: spans.map((s) => ({
              traceId,
              spanId: s.spanId,
              ...(s.parentSpanId !== undefined ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: 1,
              startTimeUnixNano: (BigInt(s.startMs) * 1_000_000n).toString(),
              endTimeUnixNano: (BigInt(s.startMs + (s.durationMs ?? 100)) * 1_000_000n).toString(),
              attributes: Object.entries(s.attributes ?? {}).map(([k, v]) => attr(k, v)),
              status: s.error === undefined ? { code: 1 } : { code: 2, message: s.error },
            })),
          },
        ],
      },
    ],
  };
}

/** A root agent span and `n` identical calls to one tool under it. */
export function loopingTrace(traceId: string, n: number, t0 = 1_700_000_000_000) {
  const spans: SpanSpec[] = [{ spanId: 'root', name: 'agent_run', startMs: t0, durationMs: 10_000, attributes: { 'gen_ai.agent.name': 'researcher', 'gen_ai.operation.name': 'invoke_agent' } }];
  for (let i = 0; i < n; i++) {
    spans.push({
      spanId: `call-${i}`,
      parentSpanId: 'root',
      name: 'execute_tool web_search',
      startMs: t0 + 100 + i * 500,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'web_search',
        'gen_ai.tool.call.arguments': '{"query": "pricing of acme"}',
        'gen_ai.agent.name': 'researcher',
      },
    });
  }
  return otlpPayload(traceId, spans);
}

/** A call to the `fetch_invoice` tool under the root span (arguments differ per span id), failed when `error` is given. */
export function invoiceCall(spanId: string, startMs: number, error?: string, t0 = 1_700_000_000_000): SpanSpec {
  return {
    spanId,
    parentSpanId: 'root',
    name: 'execute_tool fetch_invoice',
    startMs: t0 + startMs,
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch_invoice', 'gen_ai.tool.call.arguments': `{"id":"${spanId}"}`, 'gen_ai.agent.name': 'billing' },
    ...(error === undefined ? {} : { error }),
  };
}
