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
 */
import { toPlain, type AnyValue, type CanonicalSpan, type SpanEvent } from '../model/span.js';

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

/** The body of an event: the log record's body, or (span events) a `body` or `content` attribute. */
function bodyOf(event: SpanEvent): Record<string, unknown> {
  const body = plainOf(attribute(event, LOG_RECORD_KEYS.body) ?? attribute(event, 'body'));
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  const content = body ?? plainOf(attribute(event, 'content') ?? attribute(event, 'gen_ai.event.content'));
  return content === undefined ? {} : { content };
}

function messages(events: readonly SpanEvent[], side: 'prompt' | 'completion'): string | null {
  const list: unknown[] = [];
  let carried: string | null = null;
  for (const event of events) {
    if (side === 'prompt' && ROLE_EVENTS[event.name] !== undefined) {
      const body = bodyOf(event);
      list.push({ role: typeof body.role === 'string' ? body.role : ROLE_EVENTS[event.name], ...body });
    } else if (side === 'completion' && event.name === 'gen_ai.choice') {
      const body = bodyOf(event);
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
