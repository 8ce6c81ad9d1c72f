/**
 * GenAI events: the prompts, completions and tool messages that the GenAI semantic
 * conventions send as events, either as span events or as OTLP log records naming their
 * span (POST /v1/logs, src/ingest/otlp/log-record.ts).
 *
 * - foldLogRecords puts each log record back on its span as a span event, so the trace
 *   has the span tree the producer meant and every reader sees the record where it belongs.
 *   A record whose span is not in the trace stays a span of its own (nothing accepted is
 *   dropped), a leaf under the span id it names.
 * - eventPrompt / eventCompletion read a span's messages from those events when the span
 *   carries none in its attributes: `gen_ai.{system,user,assistant,tool}.message` and
 *   `gen_ai.choice` (their bodies), `gen_ai.content.prompt` / `.completion` (their
 *   `gen_ai.prompt` / `gen_ai.completion` attributes), and
 *   `gen_ai.client.inference.operation.details` (`gen_ai.input.messages` /
 *   `gen_ai.output.messages`).
 * - eventModelCalls reads model calls a producer records as events of a span that is not
 *   itself a model call (agent-strace's `--format otlp`: a request event with the model and
 *   input tokens, a response event with output tokens, on the session's root span).
 */
import { toPlain, type AnyValue, type CanonicalSpan, type SpanEvent } from '../model/span.js';
import type { SemanticSpan } from './semantic-span.js';

/** Attribute keys under which an OTLP log record's own fields travel (set by ingest, src/ingest/otlp/log-record.ts). */
export const LOG_RECORD_KEYS = {
  eventName: 'event.name',
  body: 'log.record.body',
  severityText: 'log.record.severity_text',
  severityNumber: 'log.record.severity_number',
} as const;

/** The spans of a trace with every log record that names one of them folded into it as an event. */
export function foldLogRecords(spans: readonly CanonicalSpan[]): readonly CanonicalSpan[] {
  if (!spans.some((s) => s.source === 'otlp-logs')) return spans;
  const bySpan = new Map<string, CanonicalSpan>();
  for (const s of spans) if (s.source !== 'otlp-logs') bySpan.set(s.spanId, s);
  const folded = new Map<string, SpanEvent[]>();
  const unjoined: CanonicalSpan[] = [];
  for (const s of spans) {
    if (s.source !== 'otlp-logs') continue;
    if (!bySpan.has(s.parentSpanId)) {
      unjoined.push(s);
      continue;
    }
    const event: SpanEvent = { timeUnixNano: s.startTimeUnixNano, name: s.name, attributes: s.attributes, droppedAttributesCount: s.droppedAttributesCount };
    const list = folded.get(s.parentSpanId);
    if (list === undefined) folded.set(s.parentSpanId, [event]);
    else list.push(event);
  }
  const out: CanonicalSpan[] = [];
  for (const s of spans) {
    if (s.source === 'otlp-logs') continue;
    const records = folded.get(s.spanId);
    if (records === undefined) {
      out.push(s);
      continue;
    }
    // Sorted by time; the sort is stable, so the span's own events stay before records at the same instant.
    const events = [...s.events, ...records].sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : a.timeUnixNano > b.timeUnixNano ? 1 : 0));
    out.push({ ...s, events });
  }
  return [...out, ...unjoined];
}

const ROLE_EVENTS: Readonly<Record<string, string>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};
const DETAILS_EVENT = 'gen_ai.client.inference.operation.details';

function attribute(event: SpanEvent, key: string): AnyValue | undefined {
  return event.attributes.find((kv) => kv.key === key)?.value;
}

function plainOf(value: AnyValue | undefined): unknown {
  return value === undefined || value.type === 'empty' ? undefined : toPlain(value);
}

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

/** The body of an event: the log record's body, or (span events) a `body` or `content` attribute; null when it has none. */
function bodyOf(event: SpanEvent): Record<string, unknown> | null {
  const body = plainOf(attribute(event, LOG_RECORD_KEYS.body) ?? attribute(event, 'body'));
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  const content = body ?? plainOf(attribute(event, 'content') ?? attribute(event, 'gen_ai.event.content'));
  return content === undefined ? null : { content };
}

function messages(events: readonly SpanEvent[], side: 'prompt' | 'completion'): string | null {
  const list: unknown[] = [];
  let carried: string | null = null;
  for (const event of events) {
    if (side === 'prompt' && ROLE_EVENTS[event.name] !== undefined) {
      // A message event without content (agent-strace's call markers) is no message.
      const body = bodyOf(event);
      if (body !== null) list.push({ role: typeof body.role === 'string' ? body.role : ROLE_EVENTS[event.name], ...body });
    } else if (side === 'completion' && event.name === 'gen_ai.choice') {
      const body = bodyOf(event);
      if (body === null) continue;
      const message = body.message !== null && typeof body.message === 'object' ? (body.message as Record<string, unknown>) : body;
      list.push({ role: 'assistant', ...message });
    } else if (event.name === DETAILS_EVENT || event.name === `gen_ai.content.${side}`) {
      const keys = side === 'prompt' ? ['gen_ai.input.messages', 'gen_ai.prompt'] : ['gen_ai.output.messages', 'gen_ai.completion'];
      for (const key of keys) carried ??= textOf(plainOf(attribute(event, key)));
    }
  }
  if (list.length > 0) return textOf(list);
  return carried;
}

/** The prompt messages a span's events carry, as JSON text; null when they carry none. */
export function eventPrompt(span: CanonicalSpan): string | null {
  return span.events.length === 0 ? null : messages(span.events, 'prompt');
}

/** The completion a span's events carry, as JSON text; null when they carry none. */
export function eventCompletion(span: CanonicalSpan): string | null {
  return span.events.length === 0 ? null : messages(span.events, 'completion');
}

const CALL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);

function count(event: SpanEvent, key: string): number | null {
  const value = attribute(event, key);
  if (value === undefined) return null;
  const n = value.type === 'int' ? Number(value.value) : value.type === 'double' ? value.value : value.type === 'string' ? Number(value.value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
}

function text(event: SpanEvent, key: string): string | null {
  const value = attribute(event, key);
  return value?.type === 'string' && value.value !== '' ? value.value : null;
}

/**
 * The model calls recorded as events of `span` (mapped as `semantic`), as chat spans under
 * it: an event with `gen_ai.operation.name` chat and a model or input tokens opens a call,
 * a later one with output tokens and neither closes it (else it is a call of its own).
 * None for a span that is a model call itself, whose events describe that call.
 */
export function eventModelCalls(span: CanonicalSpan, semantic: SemanticSpan): SemanticSpan[] {
  if (semantic.operation === 'chat' || span.events.length === 0) return [];
  const calls: { start: bigint; end: bigint; model: string | null; provider: string | null; input: number | null; output: number | null }[] = [];
  let open: (typeof calls)[number] | null = null;
  for (const event of span.events) {
    const op = text(event, 'gen_ai.operation.name');
    if (op === null || !CALL_OPERATIONS.has(op)) continue;
    const model = text(event, 'gen_ai.request.model') ?? text(event, 'gen_ai.response.model');
    const input = count(event, 'gen_ai.usage.input_tokens');
    const output = count(event, 'gen_ai.usage.output_tokens');
    if (open !== null && model === null && input === null) {
      open.end = event.timeUnixNano;
      open.output = output ?? open.output;
      open = null;
      continue;
    }
    const call = { start: event.timeUnixNano, end: event.timeUnixNano, model, provider: text(event, 'gen_ai.system') ?? text(event, 'gen_ai.provider.name'), input, output };
    calls.push(call);
    open = output === null ? call : null;
  }
  return calls.map((c, i) => ({
    ...semantic,
    spanId: `${span.spanId}#call${i + 1}`,
    parentSpanId: span.spanId,
    name: c.model === null ? 'chat' : `chat ${c.model}`,
    startNs: c.start,
    endNs: c.end,
    operation: 'chat',
    model: c.model,
    provider: c.provider ?? semantic.provider,
    inputTokens: c.input,
    outputTokens: c.output,
    cachedInputTokens: null,
    declaredTools: null,
    toolName: null,
    toolArguments: null,
    toolResult: null,
    prompt: null,
    completion: null,
    isError: false,
    errorMessage: null,
  }));
}
