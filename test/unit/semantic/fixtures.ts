/**
 * Small builders for canonical and semantic spans, shared by the unit tests of the
 * semantic mapper, the detectors and the trace stage.
 */
import type { AnyValue, CanonicalSpan, KeyValue, SpanEvent, SpanStatus } from '../../../src/model/span.js';
import type { SemanticSpan, SemanticTrace } from '../../../src/semantic/semantic-span.js';

/** A plain value becomes the matching AnyValue: integers are ints, other numbers doubles. */
export type AttrInput = string | number | bigint | boolean | AnyValue;

export const int = (n: number | bigint): AnyValue => ({ type: 'int', value: BigInt(n) });
export const double = (n: number): AnyValue => ({ type: 'double', value: n });
export const text = (s: string): AnyValue => ({ type: 'string', value: s });
export const empty = (): AnyValue => ({ type: 'empty' });
export const kvlist = (entries: Record<string, AttrInput>): AnyValue => ({ type: 'kvlist', values: keyValues(entries) });

function toAnyValue(v: AttrInput): AnyValue {
  if (typeof v === 'string') return text(v);
  if (typeof v === 'bigint') return int(v);
  if (typeof v === 'boolean') return { type: 'bool', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? int(v) : double(v);
  return v;
}

export function keyValues(entries: Record<string, AttrInput>): KeyValue[] {
  return Object.entries(entries).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

export interface SpanInit {
  tenantId?: string;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  /** Nanoseconds since the epoch. */
  start?: bigint;
  end?: bigint;
  attributes?: Record<string, AttrInput>;
  resource?: Record<string, AttrInput>;
  scope?: Record<string, AttrInput>;
  events?: SpanEvent[];
  status?: SpanStatus;
}

export function canonicalSpan(init: SpanInit = {}): CanonicalSpan {
  const start = init.start ?? 1_000_000_000n;
  return {
    tenantId: init.tenantId ?? 'tenant-1',
    traceId: init.traceId ?? 'trace-1',
    spanId: init.spanId ?? 'span-1',
    parentSpanId: init.parentSpanId ?? '',
    traceState: '',
    flags: 0,
    name: init.name ?? 'step',
    kind: 1,
    startTimeUnixNano: start,
    endTimeUnixNano: init.end ?? start + 1_000_000n,
    attributes: keyValues(init.attributes ?? {}),
    droppedAttributesCount: 0,
    events: init.events ?? [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: init.status ?? { code: 0, message: '' },
    resource: { attributes: keyValues(init.resource ?? {}), droppedAttributesCount: 0, schemaUrl: '' },
    scope: { name: 'test-scope', version: '1.0.0', attributes: keyValues(init.scope ?? {}), droppedAttributesCount: 0, schemaUrl: '' },
    source: 'otlp-json',
    receivedAtMs: 0,
  };
}

export function exceptionEvent(attributes: Record<string, AttrInput>): SpanEvent {
  return { timeUnixNano: 1_000_500_000n, name: 'exception', attributes: keyValues(attributes), droppedAttributesCount: 0 };
}

/** A semantic span with neutral defaults, for detector tests that bypass the mapper. */
export function semanticSpan(init: Partial<SemanticSpan> & { spanId: string }): SemanticSpan {
  return {
    parentSpanId: 'root',
    name: init.toolName ?? 'step',
    startNs: 0n,
    endNs: 1n,
    operation: 'other',
    agentName: null,
    agentId: null,
    agentRole: null,
    model: null,
    provider: null,
    inputTokens: null,
    outputTokens: null,
    cachedInputTokens: null,
    declaredTools: null,
    toolName: null,
    toolArguments: null,
    toolResult: null,
    state: null,
    prompt: null,
    completion: null,
    conversationId: null,
    isError: false,
    errorMessage: null,
    ...init,
  };
}

/** An execute_tool span calling `toolName` with `toolArguments`. */
export function toolCall(spanId: string, toolName: string, toolArguments: string | null, extra: Partial<SemanticSpan> = {}): SemanticSpan {
  return semanticSpan({ spanId, operation: 'execute_tool', toolName, toolArguments, ...extra });
}

export function semanticTrace(spans: readonly SemanticSpan[]): SemanticTrace {
  return { tenantId: 'tenant-1', traceId: 'trace-1', serviceName: 'svc', spans };
}
