/**
 * Loose OTLP LogRecord objects → canonical spans of source `otlp-logs`, for
 * POST /v1/logs. Producers following the GenAI semantic conventions send prompts,
 * completions and tool messages as log records (events) carrying the trace and span id of
 * the call they belong to; tracefold keeps each one on the raw topic as a zero-length span
 * whose parent is that span, so it travels with its trace (same key, same window), and the
 * trace stage folds it back into its span as an event (src/semantic/genai-events.ts).
 *
 * A record without a trace id or span id cannot be joined to a span and is rejected alone,
 * naming the field. The record's own span id is derived from its content, so a record sent
 * twice replaces itself instead of appearing twice.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, CanonicalSpan, InstrumentationScope, KeyValue, Resource } from '../../model/span.js';
import { LOG_RECORD_KEYS } from '../../semantic/genai-events.js';
import { convertAnyValue } from './any-value.js';
import { normalizeSpanId, normalizeTraceId } from './ids.js';
import type { DecodeContext, DecodeResult, ExportSignal } from './request.js';
import { decodeExportRequest } from './request.js';
import { attributesField, droppedAttributes, optionalString, requiredId, timeField, uint32Field, type SpanContext } from './span.js';
import { at, describe, isLoose, type Loose, OtlpValueError } from './value-error.js';


/** The span name of a record that names no event. */
export const UNNAMED_LOG_RECORD = 'log';

const NOT_JOINED = 'missing or empty: tracefold joins a log record to the span it names, so a record needs its trace and span ids';

/** A time field, absent read as 0. */
function time(o: Loose, camel: string, snake: string): bigint {
  const raw = o[camel] ?? o[snake];
  return raw == null ? 0n : timeField(o, raw, camel, snake);
}

function text(o: Loose, camel: string, snake: string): string {
  return optionalString(o, o[camel] ?? o[snake], camel, snake);
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

/**
 * One LogRecord message → a span standing for it: parent the record's span, start and end
 * its time (else its observed time, else when ingest received it), name its event name
 * (`event_name`, else the `event.name` attribute, else "log"), attributes its own plus its
 * body, severity and event name under LOG_RECORD_KEYS.
 */
export function convertLogRecord(input: unknown, resource: Resource, scope: InstrumentationScope, context: SpanContext): CanonicalSpan {
  if (!isLoose(input)) throw new OtlpValueError(`expected a log record object, got ${describe(input)}`);
  const r = input;
  const traceId = requiredId(r, r.traceId ?? r.trace_id, 'traceId', 'trace_id', normalizeTraceId, NOT_JOINED);
  const parentSpanId = requiredId(r, r.spanId ?? r.span_id, 'spanId', 'span_id', normalizeSpanId, NOT_JOINED);
  const when = time(r, 'timeUnixNano', 'time_unix_nano') || time(r, 'observedTimeUnixNano', 'observed_time_unix_nano') || BigInt(context.receivedAtMs) * 1_000_000n;

  const attributes = attributesField(r.attributes);
  let body: AnyValue | null = null;
  if (r.body != null) {
    try {
      body = convertAnyValue(r.body);
    } catch (error) {
      throw at(error, '.body');
    }
  }
  const named = text(r, 'eventName', 'event_name');
  const attributeName = attributes.find((kv) => kv.key === LOG_RECORD_KEYS.eventName)?.value;
  const eventName = named !== '' ? named : attributeName?.type === 'string' && attributeName.value !== '' ? attributeName.value : UNNAMED_LOG_RECORD;
  const severityText = text(r, 'severityText', 'severity_text');
  let severityNumber = 0;
  const severityRaw = r.severityNumber ?? r.severity_number;
  if (typeof severityRaw === 'string' && /^SEVERITY_NUMBER_/.test(severityRaw)) severityNumber = severityOf(severityRaw);
  else severityNumber = uint32Field(r, severityRaw, 'severityNumber', 'severity_number');

  const own: KeyValue[] = [];
  if (attributeName === undefined) own.push({ key: LOG_RECORD_KEYS.eventName, value: { type: 'string', value: eventName } });
  if (body !== null && body.type !== 'empty') own.push({ key: LOG_RECORD_KEYS.body, value: body });
  if (severityText !== '') own.push({ key: LOG_RECORD_KEYS.severityText, value: { type: 'string', value: severityText } });
  if (severityNumber > 0) own.push({ key: LOG_RECORD_KEYS.severityNumber, value: { type: 'int', value: BigInt(severityNumber) } });
  const all = [...attributes, ...own];

  const spanId = createHash('sha256').update(stable([traceId, parentSpanId, when, eventName, all])).digest('hex').slice(0, 16);
  return {
    tenantId: context.tenantId,
    traceId,
    spanId,
    parentSpanId,
    traceState: '',
    flags: 0,
    name: eventName,
    kind: 0,
    startTimeUnixNano: when,
    endTimeUnixNano: when,
    attributes: all,
    droppedAttributesCount: droppedAttributes(r),
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    resource,
    scope,
    source: 'otlp-logs',
    receivedAtMs: context.receivedAtMs,
  };
}

const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** SEVERITY_NUMBER_<LEVEL>[2-4] → 1..24; an unknown name is 0 (unspecified). */
function severityOf(name: string): number {
  const m = /^SEVERITY_NUMBER_([A-Z]+)([2-4])?$/.exec(name);
  const level = m === null ? -1 : SEVERITIES.indexOf(m[1]!);
  return level < 0 ? 0 : level * 4 + Number(m![2] ?? 1);
}

/** The logs export: ResourceLogs, ScopeLogs, LogRecord. */
export const LOGS: ExportSignal<CanonicalSpan> = {
  item: 'log record',
  request: 'ExportLogsServiceRequest',
  resourceKeys: ['resourceLogs', 'resource_logs'],
  scopeKeys: ['scopeLogs', 'scope_logs'],
  itemKeys: ['logRecords', 'log_records'],
  convert: convertLogRecord,
};

/** Decodes one ExportLogsServiceRequest (JSON or decoded protobuf) into spans standing for its records. */
export function decodeLogsRequest(body: unknown, ctx: DecodeContext): DecodeResult {
  const { items, rejected } = decodeExportRequest(body, ctx, 'otlp-logs', LOGS);
  return { spans: items, rejected };
}
