/**
 * The canonical span: what tracefold.raw.v1 stores for every span a producer sent, at full
 * fidelity. Interpretation happens downstream, in
 * src/semantic, so a better interpretation can be replayed over old data.
 */
import { isDeepStrictEqual } from 'node:util';

/** OTLP AnyValue, every variant kept. `int` is a bigint: int64 values survive intact. */
export type AnyValue =
  | { readonly type: 'empty' }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'array'; readonly values: readonly AnyValue[] }
  | { readonly type: 'kvlist'; readonly values: readonly KeyValue[] };

export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

export interface SpanEvent {
  readonly timeUnixNano: bigint;
  readonly name: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly flags: number;
}

export interface SpanStatus {
  /** 0 unset, 1 ok, 2 error (OTLP StatusCode). */
  readonly code: number;
  readonly message: string;
}

export interface Resource {
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string;
}

/**
 * How a span reached tracefold. `otlp-logs`: an OTLP log record (a GenAI event, an
 * application log) carried as a span of its own whose parent is the span the record names;
 * the trace stage folds it into that span as an event (src/semantic/genai-events.ts).
 */
export type SpanSource = 'otlp-json' | 'otlp-proto' | 'session-events' | 'flat-spans' | 'otlp-logs';

export interface CanonicalSpan {
  readonly tenantId: string;
  /** Lowercase hex when the producer sent hex or base64 ids; verbatim otherwise. */
  readonly traceId: string;
  readonly spanId: string;
  /** Empty string when the span is a root. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly events: readonly SpanEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLink[];
  readonly droppedLinksCount: number;
  readonly status: SpanStatus;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly source: SpanSource;
  /** Wall-clock milliseconds when ingest accepted the span. */
  readonly receivedAtMs: number;
}

/**
 * A control record on the raw topic, ordered with the spans of its trace because it
 * shares their key. `analyze` asks the trace stage to close the window now (on-demand
 * analysis); `session_end` is the end of a session-events session; `session_reset` makes
 * the trace stage forget the spans it holds for the trace (a session re-sent as a whole
 * replaces its earlier event list), reopening a closed trace as a new revision.
 */
export type WindowMarkerKind = 'analyze' | 'session_end' | 'session_reset';

export interface WindowMarker {
  readonly tenantId: string;
  readonly traceId: string;
  readonly kind: WindowMarkerKind;
  readonly requestId: string;
  readonly receivedAtMs: number;
}

/** What tracefold.raw.v1 carries. */
export type RawEvent = { readonly type: 'span'; readonly span: CanonicalSpan } | { readonly type: 'marker'; readonly marker: WindowMarker };

/**
 * Whether two copies of a span say the same thing: every field equal except the route it
 * came by and the moment ingest accepted it, which differ between a span and its re-send.
 */
export function sameSpanContent(a: CanonicalSpan, b: CanonicalSpan): boolean {
  return isDeepStrictEqual({ ...a, source: null, receivedAtMs: 0 }, { ...b, source: null, receivedAtMs: 0 });
}

/** Attribute lookup helpers used by the semantic mapper and tests. */
export function findAttribute(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const kv of attributes) if (kv.key === key) return kv.value;
  return undefined;
}

/** The plain JavaScript value of an AnyValue (ints that fit become numbers). */
export function toPlain(value: AnyValue): unknown {
  switch (value.type) {
    case 'empty':
      return null;
    case 'string':
    case 'bool':
    case 'double':
      return value.value;
    case 'int':
      return value.value >= BigInt(Number.MIN_SAFE_INTEGER) && value.value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value.value)
        : value.value.toString();
    case 'bytes':
      return Buffer.from(value.value).toString('base64');
    case 'array':
      return value.values.map(toPlain);
    case 'kvlist':
      return Object.fromEntries(value.values.map((kv) => [kv.key, toPlain(kv.value)]));
  }
}
