/**
 * Flat span ingest (POST /api/v1/spans/ingest), in the style of Agenta's structured span
 * ingest: spans as plain JSON objects, either
 *
 *   { "spans": [ { trace_id, span_id, parent_id, ... }, ... ] }       a flat list (or a bare array), or
 *   { "traces": { "<trace_id>": { "spans": { "<span_name>": {...} } } } }
 *                                                                      a tree: spans keyed by name
 *                                                                      (a list when siblings share one),
 *                                                                      children under each span's `spans`.
 *
 * Each span becomes a canonical span (source 'flat-spans'):
 *
 * - trace_id and span_id are required (in the tree, a span's trace id defaults to its trace's
 *   key and its parent to the enclosing span); hex ids are lowercased, other ids kept
 *   verbatim, as OTLP ingest does. A missing or invalid id rejects the request with the
 *   field's path: a span without identity cannot be placed, de-duplicated or linked.
 * - name / span_name (the tree key by default), kind / span_kind (SPAN_KIND_*, a number, or
 *   a short name such as "server"), start_time / end_time (ISO 8601 or epoch numbers, see
 *   time.ts), status (STATUS_CODE_* / "ok" / "error" / a number, or {code, message}),
 *   status_code / status_message.
 * - attributes: a JSON object, flat ("ag.type.span": "llm") or nested ({"ag": {...}}),
 *   converted by type (values.ts; nested objects become kvlists). An OTLP key/value list is
 *   accepted as well.
 * - events: [{ name, timestamp | time, attributes }]; links: a list of { trace_id, span_id,
 *   attributes } or an object of them by name (the name becomes the link's `link.name`);
 *   references: kept whole as the attribute `tracefold.references`.
 *
 * Lenient, as Agenta's adapter is: a field the adapter does not know, or a known field
 * whose value cannot be read (a kind it does not recognise, a time it cannot parse), is not
 * rejected but parked on the span as the attribute `tracefold.unsupported.<field>` with
 * the value as sent. A span without a usable start time takes its end time, or the time it
 * was received, and is marked `tracefold.time_inferred`.
 */
import type { CanonicalSpan, InstrumentationScope, KeyValue, Resource, SpanEvent, SpanLink, SpanStatus } from '../../model/span.js';
import { convertKeyValues } from '../otlp/any-value.js';
import { normalizeParentSpanId, normalizeSpanId, normalizeTraceId } from '../otlp/ids.js';
import { OtlpValueError } from '../otlp/value-error.js';
import { TimeError, toUnixNano } from './time.js';
import { boolAttr, jsonToAnyValue, jsonToKeyValues, stringAttr } from './values.js';

/** A problem that rejects the request, with the path of the field (`body.spans.2.span_id`). */
export class FlatSpanError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'FlatSpanError';
  }
}

export interface FlatContext {
  readonly tenantId: string;
  readonly receivedAtMs: number;
  /** Where parked fields go; `tracefold.unsupported.` unless a compatibility route says otherwise. */
  readonly unsupportedPrefix?: string;
  /** The attribute that keeps a span's `references`; `tracefold.references` by default. */
  readonly referencesAttribute?: string;
}

export const UNSUPPORTED_PREFIX = 'tracefold.unsupported.';
export const REFERENCES_ATTRIBUTE = 'tracefold.references';
export const TIME_INFERRED_ATTRIBUTE = 'tracefold.time_inferred';

const SCOPE: InstrumentationScope = Object.freeze({
  name: 'tracefold.flat-spans',
  version: '1',
  attributes: [],
  droppedAttributesCount: 0,
  schemaUrl: '',
});

/** Every spelling of a field this adapter reads; anything else is parked. */
const FIELDS = {
  traceId: ['trace_id', 'traceId'],
  spanId: ['span_id', 'spanId'],
  parentId: ['parent_id', 'parent_span_id', 'parentId', 'parentSpanId'],
  name: ['span_name', 'name', 'spanName'],
  kind: ['span_kind', 'kind', 'spanKind'],
  start: ['start_time', 'startTime', 'start_time_unix_nano', 'startTimeUnixNano'],
  end: ['end_time', 'endTime', 'end_time_unix_nano', 'endTimeUnixNano'],
  status: ['status'],
  statusCode: ['status_code', 'statusCode'],
  statusMessage: ['status_message', 'statusMessage'],
  attributes: ['attributes'],
  events: ['events'],
  links: ['links'],
  references: ['references'],
  resource: ['resource'],
  traceState: ['trace_state', 'traceState'],
  children: ['spans'],
} as const;

const KNOWN = new Set<string>(Object.values(FIELDS).flat());

const KINDS: Readonly<Record<string, number>> = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

const STATUS: Readonly<Record<string, number>> = { unset: 0, ok: 1, success: 1, error: 2, failed: 2, failure: 2 };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first spelling present (not null) of a field, with the key it was found under. */
function pick(span: Json, names: readonly string[]): { key: string; value: unknown } | undefined {
  for (const key of names) {
    const value = span[key];
    if (value !== undefined && value !== null) return { key, value };
  }
  return undefined;
}

function readKind(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 5 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const short = value.toLowerCase().replace(/^span_kind_/, '');
  return KINDS[short];
}

function readStatusCode(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 2 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  return STATUS[value.toLowerCase().replace(/^status_code_/, '')];
}

/** Collects the parked fields of one span. */
class Parked {
  readonly attributes: KeyValue[] = [];
  constructor(readonly prefix: string) {}
  add(field: string, value: unknown): void {
    this.attributes.push({ key: this.prefix + field, value: jsonToAnyValue(value) });
  }
}

function id(path: string, field: { key: string; value: unknown } | undefined, normalize: (v: unknown) => string, required: boolean): string {
  if (field === undefined) {
    if (required) throw new FlatSpanError(path, 'missing');
    return '';
  }
  let out: string;
  try {
    out = normalize(field.value);
  } catch (error) {
    if (error instanceof OtlpValueError) throw new FlatSpanError(`${path.replace(/\.[^.]+$/, '')}.${field.key}`, error.reason);
    throw error;
  }
  if (out === '' && required) throw new FlatSpanError(`${path.replace(/\.[^.]+$/, '')}.${field.key}`, 'empty');
  return out;
}

function readTime(field: { key: string; value: unknown } | undefined, parked: Parked): bigint | undefined {
  if (field === undefined) return undefined;
  try {
    return toUnixNano(field.value);
  } catch (error) {
    if (!(error instanceof TimeError)) throw error;
    parked.add(field.key, field.value);
    return undefined;
  }
}

function readAttributes(value: unknown, key: string, parked: Parked): KeyValue[] {
  if (isObject(value)) return jsonToKeyValues(value);
  if (Array.isArray(value)) {
    try {
      return [...convertKeyValues(value)];
    } catch (error) {
      if (!(error instanceof OtlpValueError)) throw error;
    }
  }
  parked.add(key, value);
  return [];
}

function readEvents(value: unknown, key: string, parked: Parked): SpanEvent[] {
  const prefix = parked.prefix;
  if (!Array.isArray(value)) {
    parked.add(key, value);
    return [];
  }
  const out: SpanEvent[] = [];
  for (const event of value) {
    if (!isObject(event)) {
      parked.add(key, value);
      return [];
    }
    const time = pick(event, ['timestamp', 'time', 'time_unix_nano', 'timeUnixNano']);
    let timeUnixNano = 0n;
    if (time !== undefined) {
      try {
        timeUnixNano = toUnixNano(time.value);
      } catch (error) {
        if (!(error instanceof TimeError)) throw error;
      }
    }
    const attributes = isObject(event.attributes) ? jsonToKeyValues(event.attributes) : [];
    const rest = Object.fromEntries(Object.entries(event).filter(([k]) => !['name', 'attributes', 'timestamp', 'time', 'time_unix_nano', 'timeUnixNano'].includes(k)));
    for (const [k, v] of Object.entries(rest)) attributes.push({ key: prefix + k, value: jsonToAnyValue(v) });
    out.push({ timeUnixNano, name: typeof event.name === 'string' ? event.name : '', attributes, droppedAttributesCount: 0 });
  }
  return out;
}

function readLink(path: string, link: unknown, name: string | null): SpanLink {
  if (!isObject(link)) throw new FlatSpanError(path, 'expected a link object with trace_id and span_id');
  const attributes = isObject(link.attributes) ? jsonToKeyValues(link.attributes) : [];
  if (name !== null) attributes.unshift(stringAttr('link.name', name));
  return {
    traceId: id(`${path}.trace_id`, pick(link, FIELDS.traceId), normalizeTraceId, true),
    spanId: id(`${path}.span_id`, pick(link, FIELDS.spanId), normalizeSpanId, true),
    traceState: typeof link.trace_state === 'string' ? link.trace_state : '',
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
  };
}

/** Links are identities too: a link without its ids is rejected like a span without them. */
function readLinks(path: string, value: unknown, parked: Parked, key: string): SpanLink[] {
  if (Array.isArray(value)) return value.map((link, i) => readLink(`${path}.${i}`, link, null));
  if (isObject(value)) return Object.entries(value).map(([name, link]) => readLink(`${path}.${name}`, link, name));
  parked.add(key, value);
  return [];
}

function readStatus(span: Json, parked: Parked): SpanStatus {
  let code: number | undefined;
  let message = '';
  const status = pick(span, FIELDS.status);
  if (status !== undefined) {
    if (isObject(status.value)) {
      code = readStatusCode(status.value.code);
      if (typeof status.value.message === 'string') message = status.value.message;
      if (code === undefined && status.value.code !== undefined) parked.add('status', status.value);
    } else {
      code = readStatusCode(status.value);
      if (code === undefined) parked.add(status.key, status.value);
    }
  }
  const statusCode = pick(span, FIELDS.statusCode);
  if (statusCode !== undefined) {
    const read = readStatusCode(statusCode.value);
    if (read === undefined) parked.add(statusCode.key, statusCode.value);
    else code = read;
  }
  const statusMessage = pick(span, FIELDS.statusMessage);
  if (statusMessage !== undefined) {
    if (typeof statusMessage.value === 'string') message = statusMessage.value;
    else parked.add(statusMessage.key, statusMessage.value);
  }
  return { code: code ?? 0, message };
}

function readResource(value: unknown): Resource {
  const attributes = isObject(value) ? (isObject(value.attributes) ? jsonToKeyValues(value.attributes) : jsonToKeyValues(value)) : [];
  return { attributes, droppedAttributesCount: 0, schemaUrl: '' };
}

interface Defaults {
  readonly traceId: string | null;
  readonly parentSpanId: string | null;
  readonly name: string | null;
  readonly resource: Resource;
}

/** One flat span (its children are read by the caller). */
export function convertFlatSpan(path: string, input: unknown, defaults: Defaults, context: FlatContext): CanonicalSpan {
  if (!isObject(input)) throw new FlatSpanError(path, 'expected a span object');
  const span = input;
  const parked = new Parked(context.unsupportedPrefix ?? UNSUPPORTED_PREFIX);

  const traceField = pick(span, FIELDS.traceId);
  const traceId =
    traceField === undefined && defaults.traceId !== null ? defaults.traceId : id(`${path}.trace_id`, traceField, normalizeTraceId, true);
  const spanId = id(`${path}.span_id`, pick(span, FIELDS.spanId), normalizeSpanId, true);
  const parentField = pick(span, FIELDS.parentId);
  const parentSpanId = parentField === undefined ? (defaults.parentSpanId ?? '') : id(`${path}.parent_id`, parentField, normalizeParentSpanId, false);

  const nameField = pick(span, FIELDS.name);
  let name = defaults.name ?? '';
  if (nameField !== undefined) {
    if (typeof nameField.value === 'string') name = nameField.value;
    else parked.add(nameField.key, nameField.value);
  }

  const kindField = pick(span, FIELDS.kind);
  let kind = 0;
  if (kindField !== undefined) {
    const read = readKind(kindField.value);
    if (read === undefined) parked.add(kindField.key, kindField.value);
    else kind = read;
  }

  let start = readTime(pick(span, FIELDS.start), parked);
  let end = readTime(pick(span, FIELDS.end), parked);
  const inferred = start === undefined;
  start ??= end ?? BigInt(context.receivedAtMs) * 1_000_000n;
  end ??= start;
  if (end < start) {
    parked.add('end_time', pick(span, FIELDS.end)?.value);
    end = start;
  }

  const attributesField = pick(span, FIELDS.attributes);
  const attributes = attributesField === undefined ? [] : readAttributes(attributesField.value, attributesField.key, parked);
  const eventsField = pick(span, FIELDS.events);
  const events = eventsField === undefined ? [] : readEvents(eventsField.value, eventsField.key, parked);
  const linksField = pick(span, FIELDS.links);
  const links = linksField === undefined ? [] : readLinks(`${path}.${linksField.key}`, linksField.value, parked, linksField.key);
  const references = pick(span, FIELDS.references);
  if (references !== undefined) attributes.push({ key: context.referencesAttribute ?? REFERENCES_ATTRIBUTE, value: jsonToAnyValue(references.value) });
  const traceStateField = pick(span, FIELDS.traceState);
  let traceState = '';
  if (traceStateField !== undefined) {
    if (typeof traceStateField.value === 'string') traceState = traceStateField.value;
    else parked.add(traceStateField.key, traceStateField.value);
  }
  const resourceField = pick(span, FIELDS.resource);
  const status = readStatus(span, parked);

  for (const [key, value] of Object.entries(span)) if (!KNOWN.has(key) && value !== undefined) parked.add(key, value);
  if (inferred) attributes.push(boolAttr(TIME_INFERRED_ATTRIBUTE, true));
  attributes.push(...parked.attributes);

  return {
    tenantId: context.tenantId,
    traceId,
    spanId,
    parentSpanId,
    traceState,
    flags: 0,
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    links,
    droppedLinksCount: 0,
    status,
    resource: resourceField === undefined ? defaults.resource : readResource(resourceField.value),
    scope: SCOPE,
    source: 'flat-spans',
    receivedAtMs: context.receivedAtMs,
  };
}

/** Spans of a tree level: `{ name: span | span[] }`, each with its own children. */
function convertTree(path: string, level: unknown, defaults: Defaults, context: FlatContext, out: CanonicalSpan[]): void {
  if (!isObject(level)) throw new FlatSpanError(path, 'expected an object of spans keyed by span name');
  for (const [name, entry] of Object.entries(level)) {
    const list: unknown[] = Array.isArray(entry) ? entry : [entry];
    list.forEach((item, i) => {
      const itemPath = Array.isArray(entry) ? `${path}.${name}.${i}` : `${path}.${name}`;
      const span = convertFlatSpan(itemPath, item, { ...defaults, name }, context);
      out.push(span);
      const children = isObject(item) ? item.spans : undefined;
      if (children !== undefined && children !== null) {
        convertTree(`${itemPath}.spans`, children, { ...defaults, traceId: span.traceId, parentSpanId: span.spanId, name: null }, context, out);
      }
    });
  }
}

/**
 * The request body → canonical spans, in the order sent (a tree depth first, parents
 * before children). Throws a FlatSpanError naming the first span that cannot be accepted;
 * nothing of a rejected request is appended.
 */
export function decodeFlatSpans(body: unknown, context: FlatContext): CanonicalSpan[] {
  const out: CanonicalSpan[] = [];
  let resource: Resource = { attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  if (isObject(body) && body.resource !== undefined && body.resource !== null) resource = readResource(body.resource);
  const none: Defaults = { traceId: null, parentSpanId: null, name: null, resource };

  const list = Array.isArray(body) ? body : isObject(body) ? body.spans : undefined;
  const traces = isObject(body) ? body.traces : undefined;
  if (list === undefined && traces === undefined) throw new FlatSpanError('body', 'expected {"spans": [...]} or {"traces": {...}}');
  if (list !== undefined && list !== null) {
    const path = Array.isArray(body) ? 'body' : 'body.spans';
    if (Array.isArray(list)) list.forEach((span, i) => out.push(convertFlatSpan(`${path}.${i}`, span, none, context)));
    else if (isObject(list)) convertTree(path, list, none, context, out);
    else throw new FlatSpanError(path, 'expected a list of spans');
  }
  if (traces !== undefined && traces !== null) {
    if (!isObject(traces)) throw new FlatSpanError('body.traces', 'expected an object of traces keyed by trace id');
    for (const [traceKey, trace] of Object.entries(traces)) {
      const path = `body.traces.${traceKey}`;
      if (!isObject(trace)) throw new FlatSpanError(path, 'expected a trace object with spans');
      let traceId: string;
      try {
        traceId = normalizeTraceId(traceKey);
      } catch (error) {
        if (error instanceof OtlpValueError) throw new FlatSpanError(path, error.reason);
        throw error;
      }
      if (traceId === '') throw new FlatSpanError(path, 'empty trace id');
      convertTree(`${path}.spans`, trace.spans, { ...none, traceId }, context, out);
    }
  }
  return out;
}

