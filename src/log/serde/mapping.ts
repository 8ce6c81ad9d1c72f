/**
 * Mapping between the camelCase model types and the snake_case Avro records of schemas/.
 *
 * Every Avro long is a bigint on this side (long.ts). Model fields that are bigint pass
 * through; model fields that are numbers are converted and checked to be safe integers,
 * so no value is ever silently rounded. Decoded bytes are copied into plain Uint8Arrays
 * so a span never keeps the whole record buffer it was read from alive.
 */
import type {
  AnyValue,
  CanonicalSpan,
  InstrumentationScope,
  KeyValue,
  RawEvent,
  Resource,
  SpanEvent,
  SpanLink,
  SpanSource,
  WindowMarker,
} from '../../model/span.js';
import type { CloseReason, Detection, Evidence, Withdrawal, FeedbackRecord, TenantRegistryEvent, TraceMetrics, TraceRecord } from '../../model/outputs.js';
import type { SessionMode, SessionRecord, SessionState } from '../../model/session.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord, RunningStats, TenantStageEvent } from '../../model/tenant-records.js';
import { SerdeError } from './errors.js';

/** How a model type maps to its Avro record and back. */
export interface RecordMapping<T, A> {
  toAvro(value: T): A;
  fromAvro(record: A): T;
}

// ---------------------------------------------------------------------------------------
// Enums

/**
 * Every enum of schemas/ has a default, so a reader whose schema lacks a symbol that a newer
 * writer added reads that default instead of failing. For the enums tracefold acts on, the
 * default is `unknown`, which no version writes: such a value is refused here with a
 * SerdeError naming the field, and the record is set aside (dead-lettered) like any other
 * it cannot read, never misread as another kind.
 */
type OrUnknown<T extends string> = T | 'unknown';

function known<T extends string>(value: OrUnknown<T>, field: string): T {
  if (value === 'unknown') throw new SerdeError(`${field}: a symbol this version does not know (written with a newer schema)`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Numbers

function longFromNumber(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value)) throw new SerdeError(`${field}: ${value} is not an integer within ±(2^53 - 1)`);
  return BigInt(value);
}

function numberFromLong(value: bigint, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new SerdeError(`${field}: ${value} does not fit a JavaScript number exactly`);
  return n;
}

function present<T>(value: T | null, field: string, what: string): T {
  if (value === null) throw new SerdeError(`${what} has no ${field}`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Canonical span

const ARRAY_VALUE = 'dev.tracefold.v1.ArrayValue';
const KEY_VALUE_LIST = 'dev.tracefold.v1.KeyValueList';

/** avsc wraps the branches of the AnyValue union as {branchName: value}; null is OTLP's empty value. */
type AvroAnyValueBranch =
  | null
  | { string: string }
  | { boolean: boolean }
  | { long: bigint }
  | { double: number }
  | { bytes: Buffer }
  | { [ARRAY_VALUE]: { values: AvroAnyValue[] } }
  | { [KEY_VALUE_LIST]: { entries: AvroKeyValue[] } };

export interface AvroAnyValue {
  value: AvroAnyValueBranch;
}

export interface AvroKeyValue {
  key: string;
  value: AvroAnyValue;
}

export interface AvroSpanEvent {
  time_unix_nano: bigint;
  name: string;
  attributes: AvroKeyValue[];
  dropped_attributes_count: bigint;
}

export interface AvroSpanLink {
  trace_id: string;
  span_id: string;
  trace_state: string;
  attributes: AvroKeyValue[];
  dropped_attributes_count: bigint;
  flags: bigint;
}

export interface AvroResource {
  attributes: AvroKeyValue[];
  dropped_attributes_count: bigint;
  schema_url: string;
}

export interface AvroScope {
  name: string;
  version: string;
  attributes: AvroKeyValue[];
  dropped_attributes_count: bigint;
  schema_url: string;
}

type AvroSpanSource = 'otlp_json' | 'otlp_proto' | 'session_events' | 'flat_spans' | 'otlp_logs';

export interface AvroCanonicalSpan {
  tenant_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  trace_state: string;
  flags: bigint;
  name: string;
  kind: number;
  start_time_unix_nano: bigint;
  end_time_unix_nano: bigint;
  attributes: AvroKeyValue[];
  dropped_attributes_count: bigint;
  events: AvroSpanEvent[];
  dropped_events_count: bigint;
  links: AvroSpanLink[];
  dropped_links_count: bigint;
  status: { code: number; message: string };
  resource: AvroResource;
  scope: AvroScope;
  source: OrUnknown<AvroSpanSource>;
  received_at_ms: bigint;
}

// Avro enum symbols cannot contain dashes.
const SOURCE_TO_AVRO: Readonly<Record<SpanSource, AvroSpanSource>> = {
  'otlp-json': 'otlp_json',
  'otlp-proto': 'otlp_proto',
  'session-events': 'session_events',
  'flat-spans': 'flat_spans',
  'otlp-logs': 'otlp_logs',
};
const SOURCE_FROM_AVRO: Readonly<Record<AvroSpanSource, SpanSource>> = {
  otlp_json: 'otlp-json',
  otlp_proto: 'otlp-proto',
  session_events: 'session-events',
  flat_spans: 'flat-spans',
  otlp_logs: 'otlp-logs',
};

function sourceToAvro(source: SpanSource): AvroSpanSource {
  const symbol = SOURCE_TO_AVRO[source] as AvroSpanSource | undefined;
  if (symbol === undefined) throw new SerdeError(`source: ${JSON.stringify(source)} is not a span source`);
  return symbol;
}

const EMPTY: AnyValue = Object.freeze({ type: 'empty' });

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function anyValueToAvro(value: AnyValue): AvroAnyValue {
  switch (value.type) {
    case 'empty':
      return { value: null };
    case 'string':
      return { value: { string: value.value } };
    case 'bool':
      return { value: { boolean: value.value } };
    case 'int':
      return { value: { long: value.value } };
    case 'double':
      return { value: { double: value.value } };
    case 'bytes':
      return { value: { bytes: asBuffer(value.value) } };
    case 'array':
      return { value: { [ARRAY_VALUE]: { values: value.values.map(anyValueToAvro) } } };
    case 'kvlist':
      return { value: { [KEY_VALUE_LIST]: { entries: keyValuesToAvro(value.values) } } };
  }
}

export function anyValueFromAvro(record: AvroAnyValue): AnyValue {
  const branch = record.value;
  if (branch === null) return EMPTY;
  if ('string' in branch) return { type: 'string', value: branch.string };
  if ('boolean' in branch) return { type: 'bool', value: branch.boolean };
  if ('long' in branch) return { type: 'int', value: branch.long };
  if ('double' in branch) return { type: 'double', value: branch.double };
  if ('bytes' in branch) return { type: 'bytes', value: new Uint8Array(branch.bytes) };
  if (ARRAY_VALUE in branch) return { type: 'array', values: branch[ARRAY_VALUE].values.map(anyValueFromAvro) };
  if (KEY_VALUE_LIST in branch) return { type: 'kvlist', values: keyValuesFromAvro(branch[KEY_VALUE_LIST].entries) };
  throw new SerdeError(`AnyValue has an unknown branch: ${Object.keys(branch).join(', ')}`);
}

function keyValuesToAvro(values: readonly KeyValue[]): AvroKeyValue[] {
  return values.map((kv) => ({ key: kv.key, value: anyValueToAvro(kv.value) }));
}

function keyValuesFromAvro(values: readonly AvroKeyValue[]): KeyValue[] {
  return values.map((kv) => ({ key: kv.key, value: anyValueFromAvro(kv.value) }));
}

function eventToAvro(event: SpanEvent): AvroSpanEvent {
  return {
    time_unix_nano: event.timeUnixNano,
    name: event.name,
    attributes: keyValuesToAvro(event.attributes),
    dropped_attributes_count: longFromNumber(event.droppedAttributesCount, 'events.dropped_attributes_count'),
  };
}

function eventFromAvro(event: AvroSpanEvent): SpanEvent {
  return {
    timeUnixNano: event.time_unix_nano,
    name: event.name,
    attributes: keyValuesFromAvro(event.attributes),
    droppedAttributesCount: numberFromLong(event.dropped_attributes_count, 'events.dropped_attributes_count'),
  };
}

function linkToAvro(link: SpanLink): AvroSpanLink {
  return {
    trace_id: link.traceId,
    span_id: link.spanId,
    trace_state: link.traceState,
    attributes: keyValuesToAvro(link.attributes),
    dropped_attributes_count: longFromNumber(link.droppedAttributesCount, 'links.dropped_attributes_count'),
    flags: longFromNumber(link.flags, 'links.flags'),
  };
}

function linkFromAvro(link: AvroSpanLink): SpanLink {
  return {
    traceId: link.trace_id,
    spanId: link.span_id,
    traceState: link.trace_state,
    attributes: keyValuesFromAvro(link.attributes),
    droppedAttributesCount: numberFromLong(link.dropped_attributes_count, 'links.dropped_attributes_count'),
    flags: numberFromLong(link.flags, 'links.flags'),
  };
}

function resourceToAvro(resource: Resource): AvroResource {
  return {
    attributes: keyValuesToAvro(resource.attributes),
    dropped_attributes_count: longFromNumber(resource.droppedAttributesCount, 'resource.dropped_attributes_count'),
    schema_url: resource.schemaUrl,
  };
}

function resourceFromAvro(resource: AvroResource): Resource {
  return {
    attributes: keyValuesFromAvro(resource.attributes),
    droppedAttributesCount: numberFromLong(resource.dropped_attributes_count, 'resource.dropped_attributes_count'),
    schemaUrl: resource.schema_url,
  };
}

function scopeToAvro(scope: InstrumentationScope): AvroScope {
  return {
    name: scope.name,
    version: scope.version,
    attributes: keyValuesToAvro(scope.attributes),
    dropped_attributes_count: longFromNumber(scope.droppedAttributesCount, 'scope.dropped_attributes_count'),
    schema_url: scope.schemaUrl,
  };
}

function scopeFromAvro(scope: AvroScope): InstrumentationScope {
  return {
    name: scope.name,
    version: scope.version,
    attributes: keyValuesFromAvro(scope.attributes),
    droppedAttributesCount: numberFromLong(scope.dropped_attributes_count, 'scope.dropped_attributes_count'),
    schemaUrl: scope.schema_url,
  };
}

export function spanToAvro(span: CanonicalSpan): AvroCanonicalSpan {
  return {
    tenant_id: span.tenantId,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    trace_state: span.traceState,
    flags: longFromNumber(span.flags, 'flags'),
    name: span.name,
    kind: span.kind,
    start_time_unix_nano: span.startTimeUnixNano,
    end_time_unix_nano: span.endTimeUnixNano,
    attributes: keyValuesToAvro(span.attributes),
    dropped_attributes_count: longFromNumber(span.droppedAttributesCount, 'dropped_attributes_count'),
    events: span.events.map(eventToAvro),
    dropped_events_count: longFromNumber(span.droppedEventsCount, 'dropped_events_count'),
    links: span.links.map(linkToAvro),
    dropped_links_count: longFromNumber(span.droppedLinksCount, 'dropped_links_count'),
    status: { code: span.status.code, message: span.status.message },
    resource: resourceToAvro(span.resource),
    scope: scopeToAvro(span.scope),
    source: sourceToAvro(span.source),
    received_at_ms: longFromNumber(span.receivedAtMs, 'received_at_ms'),
  };
}

export function spanFromAvro(span: AvroCanonicalSpan): CanonicalSpan {
  return {
    tenantId: span.tenant_id,
    traceId: span.trace_id,
    spanId: span.span_id,
    parentSpanId: span.parent_span_id,
    traceState: span.trace_state,
    flags: numberFromLong(span.flags, 'flags'),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.start_time_unix_nano,
    endTimeUnixNano: span.end_time_unix_nano,
    attributes: keyValuesFromAvro(span.attributes),
    droppedAttributesCount: numberFromLong(span.dropped_attributes_count, 'dropped_attributes_count'),
    events: span.events.map(eventFromAvro),
    droppedEventsCount: numberFromLong(span.dropped_events_count, 'dropped_events_count'),
    links: span.links.map(linkFromAvro),
    droppedLinksCount: numberFromLong(span.dropped_links_count, 'dropped_links_count'),
    status: { code: span.status.code, message: span.status.message },
    resource: resourceFromAvro(span.resource),
    scope: scopeFromAvro(span.scope),
    source: SOURCE_FROM_AVRO[known(span.source, 'source')],
    receivedAtMs: numberFromLong(span.received_at_ms, 'received_at_ms'),
  };
}

// ---------------------------------------------------------------------------------------
// Raw events

export interface AvroWindowMarker {
  tenant_id: string;
  trace_id: string;
  kind: OrUnknown<WindowMarker['kind']>;
  request_id: string;
  received_at_ms: bigint;
}

export interface AvroRawEvent {
  type: OrUnknown<RawEvent['type']>;
  span: AvroCanonicalSpan | null;
  marker: AvroWindowMarker | null;
}

export const rawEventMapping: RecordMapping<RawEvent, AvroRawEvent> = {
  toAvro(event) {
    if (event.type === 'span') return { type: 'span', span: spanToAvro(event.span), marker: null };
    const m = event.marker;
    return {
      type: 'marker',
      span: null,
      marker: {
        tenant_id: m.tenantId,
        trace_id: m.traceId,
        kind: m.kind,
        request_id: m.requestId,
        received_at_ms: longFromNumber(m.receivedAtMs, 'marker.received_at_ms'),
      },
    };
  },
  fromAvro(record) {
    if (known(record.type, 'type') === 'span') return { type: 'span', span: spanFromAvro(present(record.span, 'span', 'raw event of type span')) };
    const m = present(record.marker, 'marker', 'raw event of type marker');
    return {
      type: 'marker',
      marker: {
        tenantId: m.tenant_id,
        traceId: m.trace_id,
        kind: known(m.kind, 'marker.kind'),
        requestId: m.request_id,
        receivedAtMs: numberFromLong(m.received_at_ms, 'marker.received_at_ms'),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------
// Trace stage outputs

export interface AvroTraceRecord {
  tenant_id: string;
  trace_id: string;
  revision: number;
  pipeline_version: string;
  close_reason: OrUnknown<CloseReason>;
  close_request_id: string;
  closed_at_ms: bigint;
  service_name: string;
  root_name: string;
  start_time_unix_nano: bigint;
  end_time_unix_nano: bigint;
  has_error: boolean;
  digest: string;
  spans: AvroCanonicalSpan[];
  truncated: boolean;
  orphan_span_ids: readonly string[];
  cycle_span_ids: readonly string[];
  detection_ids: readonly string[];
}

export const traceRecordMapping: RecordMapping<TraceRecord, AvroTraceRecord> = {
  toAvro: (t) => ({
    tenant_id: t.tenantId,
    trace_id: t.traceId,
    revision: t.revision,
    pipeline_version: t.pipelineVersion,
    close_reason: t.closeReason,
    close_request_id: t.closeRequestId,
    closed_at_ms: longFromNumber(t.closedAtMs, 'closed_at_ms'),
    service_name: t.serviceName,
    root_name: t.rootName,
    start_time_unix_nano: t.startTimeUnixNano,
    end_time_unix_nano: t.endTimeUnixNano,
    has_error: t.hasError,
    digest: t.digest,
    spans: t.spans.map(spanToAvro),
    truncated: t.truncated,
    orphan_span_ids: t.orphanSpanIds,
    cycle_span_ids: t.cycleSpanIds,
    detection_ids: t.detectionIds,
  }),
  fromAvro: (r) => ({
    tenantId: r.tenant_id,
    traceId: r.trace_id,
    revision: r.revision,
    pipelineVersion: r.pipeline_version,
    closeReason: known(r.close_reason, 'close_reason'),
    closeRequestId: r.close_request_id,
    closedAtMs: numberFromLong(r.closed_at_ms, 'closed_at_ms'),
    serviceName: r.service_name,
    rootName: r.root_name,
    startTimeUnixNano: r.start_time_unix_nano,
    endTimeUnixNano: r.end_time_unix_nano,
    hasError: r.has_error,
    digest: r.digest,
    spans: r.spans.map(spanFromAvro),
    truncated: r.truncated,
    orphanSpanIds: r.orphan_span_ids,
    cycleSpanIds: r.cycle_span_ids,
    detectionIds: r.detection_ids,
  }),
};

export interface AvroEvidence {
  description: string;
  span_ids: readonly string[];
  data_json: string;
}

export interface AvroDetection {
  id: string;
  tenant_id: string;
  trace_id: string;
  revision: number;
  pipeline_version: string;
  detector_id: string;
  detector_version: number;
  detection_type: string;
  title: string;
  description: string;
  confidence: number;
  confidence_tier: Detection['confidenceTier'];
  severity: Detection['severity'];
  evidence: AvroEvidence[];
  affected_span_ids: readonly string[];
  agent: string | null;
  suggested_fix: string;
  live: boolean;
  primary: boolean;
  detected_at_ms: bigint;
  subsumed_by: string | null;
  withdrawn: AvroWithdrawal | null;
}

export interface AvroWithdrawal {
  reason: OrUnknown<Withdrawal['reason']>;
  revision: number;
  replay_id: string | null;
  at_ms: bigint;
}

export const detectionMapping: RecordMapping<Detection, AvroDetection> = {
  toAvro: (d) => ({
    id: d.id,
    tenant_id: d.tenantId,
    trace_id: d.traceId,
    revision: d.revision,
    pipeline_version: d.pipelineVersion,
    detector_id: d.detectorId,
    detector_version: d.detectorVersion,
    detection_type: d.detectionType,
    title: d.title,
    description: d.description,
    confidence: d.confidence,
    confidence_tier: d.confidenceTier,
    severity: d.severity,
    evidence: d.evidence.map((e) => ({ description: e.description, span_ids: e.spanIds, data_json: e.dataJson })),
    affected_span_ids: d.affectedSpanIds,
    agent: d.agent,
    suggested_fix: d.suggestedFix,
    live: d.live,
    primary: d.primary,
    detected_at_ms: longFromNumber(d.detectedAtMs, 'detected_at_ms'),
    subsumed_by: d.subsumedBy,
    withdrawn:
      d.withdrawn === undefined
        ? null
        : { reason: d.withdrawn.reason, revision: d.withdrawn.revision, replay_id: d.withdrawn.replayId, at_ms: longFromNumber(d.withdrawn.atMs, 'withdrawn.at_ms') },
  }),
  fromAvro: (r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    traceId: r.trace_id,
    revision: r.revision,
    pipelineVersion: r.pipeline_version,
    detectorId: r.detector_id,
    detectorVersion: r.detector_version,
    detectionType: r.detection_type,
    title: r.title,
    description: r.description,
    confidence: r.confidence,
    confidenceTier: r.confidence_tier,
    severity: r.severity,
    evidence: r.evidence.map((e): Evidence => ({ description: e.description, spanIds: e.span_ids, dataJson: e.data_json })),
    affectedSpanIds: r.affected_span_ids,
    agent: r.agent,
    suggestedFix: r.suggested_fix,
    live: r.live,
    primary: r.primary,
    detectedAtMs: numberFromLong(r.detected_at_ms, 'detected_at_ms'),
    subsumedBy: r.subsumed_by,
    ...(r.withdrawn === null
      ? {}
      : {
          withdrawn: {
            reason: known(r.withdrawn.reason, 'withdrawn.reason'),
            revision: r.withdrawn.revision,
            replayId: r.withdrawn.replay_id,
            atMs: numberFromLong(r.withdrawn.at_ms, 'withdrawn.at_ms'),
          },
        }),
  }),
};

export interface AvroTraceMetrics {
  id: string;
  tenant_id: string;
  trace_id: string;
  revision: number;
  pipeline_version: string;
  service_name: string;
  start_time_unix_nano: bigint;
  duration_ms: number;
  span_count: number;
  error_count: number;
  input_tokens: bigint;
  output_tokens: bigint;
  llm_call_count: number;
  tool_call_count: number;
  agents: readonly string[];
  models: readonly string[];
  critical_path_ms: number;
  critical_path_span_ids: readonly string[];
  agent_count: number;
  cached_input_tokens: bigint;
  cost_usd: number | null;
  unpriced_models: readonly string[];
  price_table: string;
  error_rate: number;
  tool_error_count: number;
  tool_error_rate: number;
  retry_count: number;
  retry_rate: number;
  blast_radius: number;
  files_written: readonly string[];
}

export const traceMetricsMapping: RecordMapping<TraceMetrics, AvroTraceMetrics> = {
  toAvro: (m) => ({
    id: m.id,
    tenant_id: m.tenantId,
    trace_id: m.traceId,
    revision: m.revision,
    pipeline_version: m.pipelineVersion,
    service_name: m.serviceName,
    start_time_unix_nano: m.startTimeUnixNano,
    duration_ms: m.durationMs,
    span_count: m.spanCount,
    error_count: m.errorCount,
    input_tokens: longFromNumber(m.inputTokens, 'input_tokens'),
    output_tokens: longFromNumber(m.outputTokens, 'output_tokens'),
    llm_call_count: m.llmCallCount,
    tool_call_count: m.toolCallCount,
    agents: m.agents,
    models: m.models,
    critical_path_ms: m.criticalPathMs,
    critical_path_span_ids: m.criticalPathSpanIds,
    agent_count: m.agentCount,
    cached_input_tokens: longFromNumber(m.cachedInputTokens, 'cached_input_tokens'),
    cost_usd: m.costUsd,
    unpriced_models: m.unpricedModels,
    price_table: m.priceTable,
    error_rate: m.errorRate,
    tool_error_count: m.toolErrorCount,
    tool_error_rate: m.toolErrorRate,
    retry_count: m.retryCount,
    retry_rate: m.retryRate,
    blast_radius: m.blastRadius,
    files_written: m.filesWritten,
  }),
  fromAvro: (r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    traceId: r.trace_id,
    revision: r.revision,
    pipelineVersion: r.pipeline_version,
    serviceName: r.service_name,
    startTimeUnixNano: r.start_time_unix_nano,
    durationMs: r.duration_ms,
    spanCount: r.span_count,
    errorCount: r.error_count,
    inputTokens: numberFromLong(r.input_tokens, 'input_tokens'),
    outputTokens: numberFromLong(r.output_tokens, 'output_tokens'),
    llmCallCount: r.llm_call_count,
    toolCallCount: r.tool_call_count,
    agents: r.agents,
    models: r.models,
    criticalPathMs: r.critical_path_ms,
    criticalPathSpanIds: r.critical_path_span_ids,
    agentCount: r.agent_count,
    cachedInputTokens: numberFromLong(r.cached_input_tokens, 'cached_input_tokens'),
    costUsd: r.cost_usd,
    unpricedModels: r.unpriced_models,
    priceTable: r.price_table,
    errorRate: r.error_rate,
    toolErrorCount: r.tool_error_count,
    toolErrorRate: r.tool_error_rate,
    retryCount: r.retry_count,
    retryRate: r.retry_rate,
    blastRadius: r.blast_radius,
    filesWritten: r.files_written,
  }),
};

// ---------------------------------------------------------------------------------------
// Tenant stage and API inputs

export interface AvroFeedbackRecord {
  id: string;
  tenant_id: string;
  detection_id: string;
  trace_id: string;
  feedback_type: OrUnknown<FeedbackRecord['feedbackType']>;
  comment: string;
  created_at_ms: bigint;
  detector_id: string;
}

export const feedbackMapping: RecordMapping<FeedbackRecord, AvroFeedbackRecord> = {
  toAvro: (f) => ({
    id: f.id,
    tenant_id: f.tenantId,
    detection_id: f.detectionId,
    trace_id: f.traceId,
    feedback_type: f.feedbackType,
    comment: f.comment,
    created_at_ms: longFromNumber(f.createdAtMs, 'created_at_ms'),
    detector_id: f.detectorId,
  }),
  fromAvro: (r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    detectionId: r.detection_id,
    traceId: r.trace_id,
    feedbackType: known(r.feedback_type, 'feedback_type'),
    comment: r.comment,
    createdAtMs: numberFromLong(r.created_at_ms, 'created_at_ms'),
    detectorId: r.detector_id,
  }),
};

export interface AvroTenantRegistryEvent {
  type: OrUnknown<TenantRegistryEvent['type']>;
  tenant_id: string;
  at_ms: bigint;
  name: string | null;
  key_id: string | null;
  secret_hash: string | null;
  baseline_sigma: number | null;
  baseline_min_samples: bigint | null;
}

export const tenantRegistryEventMapping: RecordMapping<TenantRegistryEvent, AvroTenantRegistryEvent> = {
  toAvro(e) {
    const common = { tenant_id: e.tenantId, at_ms: longFromNumber(e.atMs, 'at_ms'), baseline_sigma: null, baseline_min_samples: null };
    switch (e.type) {
      case 'tenant_created':
        return { type: e.type, ...common, name: e.name, key_id: null, secret_hash: null };
      case 'api_key_created':
        return { type: e.type, ...common, name: null, key_id: e.keyId, secret_hash: e.secretHash };
      case 'api_key_revoked':
        return { type: e.type, ...common, name: null, key_id: e.keyId, secret_hash: null };
      case 'tenant_settings_changed':
        return {
          type: e.type,
          ...common,
          name: null,
          key_id: null,
          secret_hash: null,
          baseline_sigma: e.baselineSigma,
          baseline_min_samples: e.baselineMinSamples === null ? null : longFromNumber(e.baselineMinSamples, 'baseline_min_samples'),
        };
    }
  },
  fromAvro(r) {
    const atMs = numberFromLong(r.at_ms, 'at_ms');
    const type = known(r.type, 'type');
    const what = `tenant event of type ${type}`;
    switch (type) {
      case 'tenant_created':
        return { type, tenantId: r.tenant_id, name: present(r.name, 'name', what), atMs };
      case 'api_key_created':
        return {
          type,
          tenantId: r.tenant_id,
          keyId: present(r.key_id, 'key_id', what),
          secretHash: present(r.secret_hash, 'secret_hash', what),
          atMs,
        };
      case 'api_key_revoked':
        return { type, tenantId: r.tenant_id, keyId: present(r.key_id, 'key_id', what), atMs };
      case 'tenant_settings_changed':
        return {
          type,
          tenantId: r.tenant_id,
          atMs,
          baselineSigma: r.baseline_sigma,
          baselineMinSamples: r.baseline_min_samples === null ? null : numberFromLong(r.baseline_min_samples, 'baseline_min_samples'),
        };
    }
  },
};

// ---------------------------------------------------------------------------------------
// Session registry

export interface AvroSessionRecord {
  tenant_id: string;
  session_id: string;
  trace_id: string;
  root_span_id: string;
  state: OrUnknown<SessionState>;
  mode: OrUnknown<SessionMode>;
  status: string;
  event_count: bigint;
  started_at_ms: bigint;
  ended_at_ms: bigint | null;
  updated_at_ms: bigint;
  session_json: string;
  event_ids: string[];
  repeated_event_count: bigint;
}

export const sessionRecordMapping: RecordMapping<SessionRecord, AvroSessionRecord> = {
  toAvro: (s) => ({
    tenant_id: s.tenantId,
    session_id: s.sessionId,
    trace_id: s.traceId,
    root_span_id: s.rootSpanId,
    state: s.state,
    mode: s.mode,
    status: s.status,
    event_count: longFromNumber(s.eventCount, 'event_count'),
    started_at_ms: longFromNumber(s.startedAtMs, 'started_at_ms'),
    ended_at_ms: s.endedAtMs === null ? null : longFromNumber(s.endedAtMs, 'ended_at_ms'),
    updated_at_ms: longFromNumber(s.updatedAtMs, 'updated_at_ms'),
    session_json: s.sessionJson,
    event_ids: [...s.eventIds],
    repeated_event_count: longFromNumber(s.repeatedEventCount, 'repeated_event_count'),
  }),
  fromAvro: (r) => ({
    tenantId: r.tenant_id,
    sessionId: r.session_id,
    traceId: r.trace_id,
    rootSpanId: r.root_span_id,
    state: known(r.state, 'state'),
    mode: known(r.mode, 'mode'),
    status: r.status,
    eventCount: numberFromLong(r.event_count, 'event_count'),
    startedAtMs: numberFromLong(r.started_at_ms, 'started_at_ms'),
    endedAtMs: r.ended_at_ms === null ? null : numberFromLong(r.ended_at_ms, 'ended_at_ms'),
    updatedAtMs: numberFromLong(r.updated_at_ms, 'updated_at_ms'),
    sessionJson: r.session_json,
    eventIds: r.event_ids,
    repeatedEventCount: numberFromLong(r.repeated_event_count, 'repeated_event_count'),
  }),
};

export interface AvroTenantStageEvent {
  tenant_id: string;
  type: OrUnknown<TenantStageEvent['type']>;
  subject_id: string;
  at_ms: bigint;
  payload_json: string;
}

export const tenantStageEventMapping: RecordMapping<TenantStageEvent, AvroTenantStageEvent> = {
  toAvro: (e) => ({ tenant_id: e.tenantId, type: e.type, subject_id: e.subjectId, at_ms: longFromNumber(e.atMs, 'at_ms'), payload_json: e.payloadJson }),
  fromAvro: (r) => ({ tenantId: r.tenant_id, type: known(r.type, 'type'), subjectId: r.subject_id, atMs: numberFromLong(r.at_ms, 'at_ms'), payloadJson: r.payload_json }),
};

export interface AvroAuditRecord {
  tenant_id: string;
  seq: bigint;
  type: OrUnknown<AuditRecord['type']>;
  subject_id: string;
  at_ms: bigint;
  payload_json: string;
  payload_digest: string;
  prev_hash: string;
  hash: string;
}

export const auditRecordMapping: RecordMapping<AuditRecord, AvroAuditRecord> = {
  toAvro: (a) => ({
    tenant_id: a.tenantId,
    seq: longFromNumber(a.seq, 'seq'),
    type: a.type,
    subject_id: a.subjectId,
    at_ms: longFromNumber(a.atMs, 'at_ms'),
    payload_json: a.payloadJson,
    payload_digest: a.payloadDigest,
    prev_hash: a.prevHash,
    hash: a.hash,
  }),
  fromAvro: (r) => ({
    tenantId: r.tenant_id,
    seq: numberFromLong(r.seq, 'seq'),
    type: known(r.type, 'type'),
    subjectId: r.subject_id,
    atMs: numberFromLong(r.at_ms, 'at_ms'),
    payloadJson: r.payload_json,
    payloadDigest: r.payload_digest,
    prevHash: r.prev_hash,
    hash: r.hash,
  }),
};

export interface AvroCalibrationRecord {
  tenant_id: string;
  detector_id: string;
  true_positives: bigint;
  false_positives: bigint;
  missed: bigint;
  precision: number | null;
  confidence_shift: number;
  updated_at_ms: bigint;
}

export const calibrationMapping: RecordMapping<CalibrationRecord, AvroCalibrationRecord> = {
  toAvro: (c) => ({
    tenant_id: c.tenantId,
    detector_id: c.detectorId,
    true_positives: longFromNumber(c.truePositives, 'true_positives'),
    false_positives: longFromNumber(c.falsePositives, 'false_positives'),
    missed: longFromNumber(c.missed, 'missed'),
    precision: c.precision,
    confidence_shift: c.confidenceShift,
    updated_at_ms: longFromNumber(c.updatedAtMs, 'updated_at_ms'),
  }),
  fromAvro: (r) => ({
    tenantId: r.tenant_id,
    detectorId: r.detector_id,
    truePositives: numberFromLong(r.true_positives, 'true_positives'),
    falsePositives: numberFromLong(r.false_positives, 'false_positives'),
    missed: numberFromLong(r.missed, 'missed'),
    precision: r.precision,
    confidenceShift: r.confidence_shift,
    updatedAtMs: numberFromLong(r.updated_at_ms, 'updated_at_ms'),
  }),
};

export interface AvroBaselineRecord {
  tenant_id: string;
  service_name: string;
  agent: string;
  metrics: Record<string, { count: bigint; mean: number; m2: number }>;
  updated_at_ms: bigint;
}

export const baselineMapping: RecordMapping<BaselineRecord, AvroBaselineRecord> = {
  toAvro: (b) => ({
    tenant_id: b.tenantId,
    service_name: b.serviceName,
    agent: b.agent,
    metrics: Object.fromEntries(Object.entries(b.metrics).map(([k, v]) => [k, { count: longFromNumber(v.count, `metrics.${k}.count`), mean: v.mean, m2: v.m2 }])),
    updated_at_ms: longFromNumber(b.updatedAtMs, 'updated_at_ms'),
  }),
  fromAvro: (r) => ({
    tenantId: r.tenant_id,
    serviceName: r.service_name,
    agent: r.agent,
    metrics: Object.fromEntries(
      Object.entries(r.metrics).map(([k, v]): [string, RunningStats] => [k, { count: numberFromLong(v.count, `metrics.${k}.count`), mean: v.mean, m2: v.m2 }]),
    ),
    updatedAtMs: numberFromLong(r.updated_at_ms, 'updated_at_ms'),
  }),
};
