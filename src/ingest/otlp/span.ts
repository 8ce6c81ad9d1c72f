/**
 * Loose OTLP Span / Resource / InstrumentationScope objects → canonical spans, shared by the
 * OTLP decoders: the JSON decoder hands over what JSON.parse produced, a protobuf decoder will
 * hand over its decoded messages (ids as bytes, 64-bit ints as Long-like objects). Field names
 * in lowerCamelCase or snake_case; null means absent; unknown fields are ignored.
 *
 * Every function throws an OtlpValueError with a path relative to the object it was given.
 */
import type {
  CanonicalSpan,
  InstrumentationScope,
  KeyValue,
  Resource,
  SpanEvent,
  SpanLink,
  SpanSource,
  SpanStatus,
} from '../../model/span.js';
import { convertKeyValues, NO_KEY_VALUES } from './any-value.js';
import { normalizeParentSpanId, normalizeSpanId, normalizeTraceId } from './ids.js';
import { toUint32, toUint64 } from './numbers.js';
import { at, describe, isLoose, keyOf, type Loose, OtlpValueError } from './value-error.js';

/** What every span of a request shares besides its resource and scope. */
export interface SpanContext {
  readonly tenantId: string;
  readonly receivedAtMs: number;
  readonly source: SpanSource;
}

const SPAN_KINDS: ReadonlyMap<string, number> = new Map([
  ['SPAN_KIND_UNSPECIFIED', 0],
  ['SPAN_KIND_INTERNAL', 1],
  ['SPAN_KIND_SERVER', 2],
  ['SPAN_KIND_CLIENT', 3],
  ['SPAN_KIND_PRODUCER', 4],
  ['SPAN_KIND_CONSUMER', 5],
]);

const STATUS_CODES: ReadonlyMap<string, number> = new Map([
  ['STATUS_CODE_UNSET', 0],
  ['STATUS_CODE_OK', 1],
  ['STATUS_CODE_ERROR', 2],
]);

const NO_EVENTS: readonly SpanEvent[] = Object.freeze([]);
const NO_LINKS: readonly SpanLink[] = Object.freeze([]);
const UNSET_STATUS: SpanStatus = Object.freeze({ code: 0, message: '' });

/** An OTLP enum given as its number or its name; absent is 0. */
function enumValue(value: unknown, names: ReadonlyMap<string, number>, max: number, what: string): number {
  if (value == null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  if (typeof value === 'string') {
    const code = names.get(value);
    if (code !== undefined) return code;
  }
  throw new OtlpValueError(`expected a ${what} (0..${max} or its name), got ${describe(value)}`);
}

/** SpanKind: 0..5 or SPAN_KIND_*; absent is 0 (unspecified). Throws with an empty path. */
export function toSpanKind(value: unknown): number {
  return enumValue(value, SPAN_KINDS, 5, 'span kind');
}

/** StatusCode: 0..2 or STATUS_CODE_*; absent is 0 (unset). Throws with an empty path. */
export function toStatusCode(value: unknown): number {
  return enumValue(value, STATUS_CODES, 2, 'status code');
}

export function optionalString(o: Loose, value: unknown, camel: string, snake: string): string {
  if (value == null) return '';
  if (typeof value !== 'string') throw new OtlpValueError(`expected a string, got ${describe(value)}`, keyOf(o, camel, snake));
  return value;
}

export function uint32Field(o: Loose, value: unknown, camel: string, snake: string): number {
  if (value == null) return 0;
  try {
    return toUint32(value);
  } catch (error) {
    throw at(error, keyOf(o, camel, snake));
  }
}

/** The dropped_attributes_count every OTLP message with attributes carries; absent is 0. */
export function droppedAttributes(o: Loose): number {
  return uint32Field(o, o.droppedAttributesCount ?? o.dropped_attributes_count, 'droppedAttributesCount', 'dropped_attributes_count');
}

/**
 * The latest time a canonical span can carry: OTLP times are uint64 nanoseconds, but the raw
 * topic stores them as Avro longs (int64), so times from the year 2262 on are rejected here
 * rather than failing at append.
 */
const MAX_TIME_UNIX_NANO = 0x7fff_ffff_ffff_ffffn;

/** A fixed64 time field (start, end, event time). */
export function timeField(o: Loose, value: unknown, camel: string, snake: string): bigint {
  let time: bigint;
  try {
    time = toUint64(value);
  } catch (error) {
    throw at(error, keyOf(o, camel, snake));
  }
  if (time > MAX_TIME_UNIX_NANO) {
    throw new OtlpValueError(`later than the latest supported time (2^63-1 ns, in the year 2262), got ${time}`, keyOf(o, camel, snake));
  }
  return time;
}

export function attributesField(value: unknown): readonly KeyValue[] {
  try {
    return convertKeyValues(value);
  } catch (error) {
    throw at(error, '.attributes');
  }
}

/** A required trace or span id (span or link): absent or empty is an error. */
export function requiredId(o: Loose, value: unknown, camel: string, snake: string, normalize: (input: unknown) => string, missing = 'missing or empty'): string {
  let id: string;
  try {
    id = normalize(value);
  } catch (error) {
    throw at(error, keyOf(o, camel, snake));
  }
  if (id === '') throw new OtlpValueError(missing, keyOf(o, camel, snake));
  return id;
}

/** A Resource message; `schemaUrl` comes from the enclosing ResourceSpans. Absent is empty. */
export function convertResource(input: unknown, schemaUrl: string): Resource {
  if (input == null) return { attributes: NO_KEY_VALUES, droppedAttributesCount: 0, schemaUrl };
  if (!isLoose(input)) throw new OtlpValueError(`expected an object, got ${describe(input)}`);
  return {
    attributes: attributesField(input.attributes),
    droppedAttributesCount: droppedAttributes(input),
    schemaUrl,
  };
}

/** An InstrumentationScope message; `schemaUrl` comes from the enclosing ScopeSpans. */
export function convertScope(input: unknown, schemaUrl: string): InstrumentationScope {
  if (input == null) {
    return { name: '', version: '', attributes: NO_KEY_VALUES, droppedAttributesCount: 0, schemaUrl };
  }
  if (!isLoose(input)) throw new OtlpValueError(`expected an object, got ${describe(input)}`);
  return {
    name: optionalString(input, input.name, 'name', 'name'),
    version: optionalString(input, input.version, 'version', 'version'),
    attributes: attributesField(input.attributes),
    droppedAttributesCount: droppedAttributes(input),
    schemaUrl,
  };
}

function convertEvent(input: unknown): SpanEvent {
  if (!isLoose(input)) throw new OtlpValueError(`expected an event object, got ${describe(input)}`);
  const time = input.timeUnixNano ?? input.time_unix_nano;
  return {
    // Absent is 0, as protobuf cannot tell the two apart.
    timeUnixNano: time == null ? 0n : timeField(input, time, 'timeUnixNano', 'time_unix_nano'),
    name: optionalString(input, input.name, 'name', 'name'),
    attributes: attributesField(input.attributes),
    droppedAttributesCount: droppedAttributes(input),
  };
}

function convertLink(input: unknown): SpanLink {
  if (!isLoose(input)) throw new OtlpValueError(`expected a link object, got ${describe(input)}`);
  return {
    traceId: requiredId(input, input.traceId ?? input.trace_id, 'traceId', 'trace_id', normalizeTraceId),
    spanId: requiredId(input, input.spanId ?? input.span_id, 'spanId', 'span_id', normalizeSpanId),
    traceState: optionalString(input, input.traceState ?? input.trace_state, 'traceState', 'trace_state'),
    attributes: attributesField(input.attributes),
    droppedAttributesCount: droppedAttributes(input),
    flags: uint32Field(input, input.flags, 'flags', 'flags'),
  };
}

function listField<T>(value: unknown, camel: string, convert: (input: unknown) => T, none: readonly T[]): readonly T[] {
  if (value == null) return none;
  if (!Array.isArray(value)) throw new OtlpValueError(`expected an array, got ${describe(value)}`, `.${camel}`);
  if (value.length === 0) return none;
  const out: T[] = new Array<T>(value.length);
  let i = 0;
  try {
    for (; i < value.length; i++) out[i] = convert(value[i]);
  } catch (error) {
    throw at(error, `.${camel}[${i}]`);
  }
  return out;
}

function convertStatus(value: unknown): SpanStatus {
  if (value == null) return UNSET_STATUS;
  if (!isLoose(value)) throw new OtlpValueError(`expected an object, got ${describe(value)}`, '.status');
  let code: number;
  try {
    code = toStatusCode(value.code);
  } catch (error) {
    throw at(error, '.status.code');
  }
  const message = value.message;
  if (message == null || message === '') return code === 0 ? UNSET_STATUS : { code, message: '' };
  if (typeof message !== 'string') throw new OtlpValueError(`expected a string, got ${describe(message)}`, '.status.message');
  return { code, message };
}

/**
 * One Span message → a canonical span.
 *
 * Required: traceId and spanId (non-empty, valid), name (present; "" is allowed, as OTLP
 * calls it an unknown name), startTimeUnixNano (present and non-zero: protobuf cannot tell
 * absent from 0). An absent or zero endTimeUnixNano becomes the start time; an end before
 * the start is an error.
 */
export function convertSpan(
  input: unknown,
  resource: Resource,
  scope: InstrumentationScope,
  context: SpanContext,
): CanonicalSpan {
  if (!isLoose(input)) throw new OtlpValueError(`expected a span object, got ${describe(input)}`);
  const s = input;

  const traceId = requiredId(s, s.traceId ?? s.trace_id, 'traceId', 'trace_id', normalizeTraceId);
  const spanId = requiredId(s, s.spanId ?? s.span_id, 'spanId', 'span_id', normalizeSpanId);
  let parentSpanId: string;
  try {
    parentSpanId = normalizeParentSpanId(s.parentSpanId ?? s.parent_span_id);
  } catch (error) {
    throw at(error, keyOf(s, 'parentSpanId', 'parent_span_id'));
  }

  const name = s.name;
  if (name == null) throw new OtlpValueError('missing: OTLP requires a span name', '.name');
  if (typeof name !== 'string') throw new OtlpValueError(`expected a string, got ${describe(name)}`, '.name');

  const startRaw = s.startTimeUnixNano ?? s.start_time_unix_nano;
  if (startRaw == null) throw new OtlpValueError('missing', keyOf(s, 'startTimeUnixNano', 'start_time_unix_nano'));
  const start = timeField(s, startRaw, 'startTimeUnixNano', 'start_time_unix_nano');
  if (start === 0n) throw new OtlpValueError('zero: OTLP requires a start time', keyOf(s, 'startTimeUnixNano', 'start_time_unix_nano'));
  const endRaw = s.endTimeUnixNano ?? s.end_time_unix_nano;
  let end = endRaw == null ? start : timeField(s, endRaw, 'endTimeUnixNano', 'end_time_unix_nano');
  if (end === 0n) end = start;
  if (end < start) {
    throw new OtlpValueError(
      `before the start time (${end} < ${start})`,
      keyOf(s, 'endTimeUnixNano', 'end_time_unix_nano'),
    );
  }

  let kind: number;
  try {
    kind = toSpanKind(s.kind);
  } catch (error) {
    throw at(error, '.kind');
  }

  return {
    tenantId: context.tenantId,
    traceId,
    spanId,
    parentSpanId,
    traceState: optionalString(s, s.traceState ?? s.trace_state, 'traceState', 'trace_state'),
    flags: uint32Field(s, s.flags, 'flags', 'flags'),
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: attributesField(s.attributes),
    droppedAttributesCount: droppedAttributes(s),
    events: listField(s.events, 'events', convertEvent, NO_EVENTS),
    droppedEventsCount: uint32Field(s, s.droppedEventsCount ?? s.dropped_events_count, 'droppedEventsCount', 'dropped_events_count'),
    links: listField(s.links, 'links', convertLink, NO_LINKS),
    droppedLinksCount: uint32Field(s, s.droppedLinksCount ?? s.dropped_links_count, 'droppedLinksCount', 'dropped_links_count'),
    status: convertStatus(s.status),
    resource,
    scope,
    source: context.source,
    receivedAtMs: context.receivedAtMs,
  };
}
