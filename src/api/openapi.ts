/**
 * The OpenAPI 3.1 description of every HTTP route, served at GET /docs.
 *
 * One catalogue (`operations` below) holds an entry per route. Request parameters and bodies
 * are the zod schemas the routes validate with, converted by zod's own JSON Schema output
 * (draft 2020-12, which OpenAPI 3.1 uses), so the document cannot drift from validation.
 * Responses are written here as JSON Schema, after the shapes of present.ts and the routes.
 *
 * Adding a route: add one `Operation` to `operations`. test/unit/api/openapi.test.ts fails
 * while a route Fastify serves has no entry, or an entry names a route that does not exist.
 */
import { z } from 'zod';
import { EXPORT_PROFILES } from '../audit/export.js';
import * as sessionSchemas from '../ingest/sessions/schema.js';
import * as authApi from './routes/auth-routes.js';
import * as replayApi from './routes/replay-routes.js';
import * as rollupApi from './routes/rollup-routes.js';
import * as tenantApi from './routes/tenant-routes.js';
import * as traceApi from './routes/trace-routes.js';
import { agentaOperations } from './routes/compat/agenta-openapi.js';
import { ingestTokenBody, tokenParams } from './routes/compat/agent-strace-routes.js';
import { tenantParams, traceParams } from '../http/validate.js';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

/**
 * Who may call: `none` (open), `tenant` (bearer API key or JWT of the tenant), `admin`
 * (the admin token, when the server has one configured), `agenta` (the tenant's API key as
 * `Authorization: ApiKey <key>`, or the bearer forms).
 */
export type Security = 'none' | 'tenant' | 'admin' | 'agenta' | 'url-token';

/** Error statuses an operation documents; each answers with the `Error` body. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 503;

export interface Operation {
  readonly method: HttpMethod;
  /** As registered with Fastify (`:param` segments). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly security: Security;
  /** An object schema holding every `:param` of the path. */
  readonly params?: z.ZodType;
  /** An object schema: each property is a query parameter. */
  readonly query?: z.ZodType;
  readonly body?: {
    readonly schema: z.ZodType | JsonSchema;
    /** Absent means required. */
    readonly required?: boolean;
    /** Also accepted as an OTLP ExportTraceServiceRequest in protobuf. */
    readonly protobuf?: boolean;
    readonly examples?: Record<string, unknown>;
  };
  readonly response: {
    readonly status: number;
    readonly description: string;
    /** A JSON body; absent for a non-JSON answer (see `contentType`). */
    readonly schema?: JsonSchema;
    readonly contentType?: string;
    /** Further success statuses with the same body (e.g. 200 for a repeated start). */
    readonly also?: readonly number[];
    readonly headers?: Record<string, { description: string; schema: JsonSchema }>;
  };
  readonly errors: readonly ErrorStatus[];
}

// ---- JSON Schema shorthands for the response shapes

const str: JsonSchema = { type: 'string' };
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
const int: JsonSchema = { type: 'integer' };
const num: JsonSchema = { type: 'number' };
const bool: JsonSchema = { type: 'boolean' };
const any: JsonSchema = {};
const strings: JsonSchema = { type: 'array', items: str };
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const array = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const ref = (name: keyof typeof schemas): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
/** An object whose listed properties are all present (`optional` names the exceptions). */
const object = (properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
});

/** Shared response shapes (components.schemas). */
const schemas = {
  Error: object({
    error: { type: 'string', description: 'machine-readable code, e.g. INVALID_REQUEST, NOT_FOUND, RATE_LIMITED' },
    message: { type: 'string', description: 'what went wrong; for 400s each problem names its field (`body.name: ...`)' },
  }),
  Feedback: object({
    id: str,
    detection_id: nullable(str),
    trace_id: str,
    detector: nullable(str),
    feedback_type: { type: 'string', enum: ['true_positive', 'false_positive', 'missed'] },
    comment: str,
    created_at: dateTime,
  }),
  Detection: object({
    id: str,
    trace_id: str,
    revision: int,
    detection_type: str,
    detector: object({ id: str, version: int }),
    pipeline_version: str,
    title: str,
    description: str,
    confidence: num,
    confidence_tier: { type: 'string', enum: ['high', 'likely', 'possible', 'low'] },
    severity: { type: 'string', enum: ['critical', 'high', 'medium', 'low', 'info'] },
    evidence: array(object({ description: str, span_ids: strings, data: any })),
    affected_span_ids: strings,
    agent: nullable(str),
    suggested_fix: str,
    live: bool,
    primary: bool,
    subsumed_by: nullable(str),
    detected_at: dateTime,
    feedback: array({ $ref: '#/components/schemas/Feedback' }),
  }),
  TraceMetrics: object({
    duration_ms: num,
    critical_path_ms: nullable(num),
    critical_path_span_ids: strings,
    span_count: int,
    llm_call_count: int,
    tool_call_count: int,
    agent_count: int,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int,
    cost_usd: nullable(num),
    unpriced_models: strings,
    price_table: nullable(str),
    error_count: int,
    error_rate: num,
    tool_error_count: nullable(int),
    tool_error_rate: nullable(num),
    retry_count: nullable(int),
    retry_rate: nullable(num),
    blast_radius: nullable(num),
    files_written: strings,
    agents: strings,
    models: strings,
  }),
  /** A node of the span tree: a span, or the synthetic root holding orphans and cycle cuts. */
  SpanNode: {
    type: 'object',
    properties: {
      span_id: nullable(str),
      parent_span_id: nullable(str),
      name: str,
      synthetic: { type: 'boolean', description: 'present (true) only on the synthetic root' },
      kind: int,
      start_time: dateTime,
      end_time: dateTime,
      start_time_unix_nano: { type: 'string', pattern: '^[0-9]+$' },
      end_time_unix_nano: { type: 'string', pattern: '^[0-9]+$' },
      duration_ms: num,
      status: object({ code: int, message: str }),
      operation: nullable(str),
      agent: nullable(str),
      model: nullable(str),
      tool: nullable(str),
      input_tokens: nullable(int),
      output_tokens: nullable(int),
      attributes: { type: 'object' },
      events: array(object({ name: str, time: dateTime, attributes: { type: 'object' } })),
      links: array(object({ trace_id: str, span_id: str, attributes: { type: 'object' } })),
      resource: { type: 'object' },
      scope: object({ name: str, version: str }),
      orphan: bool,
      cycle: bool,
      children: array({ $ref: '#/components/schemas/SpanNode' }),
    },
    required: ['span_id', 'name', 'children'],
  },
  Session: object({
    session_id: str,
    trace_id: str,
    state: { type: 'string', enum: ['open', 'ended'] },
    status: str,
    events_stored: int,
    total_events: int,
    duration_ms: nullable(num),
  }),
  OtlpAnswer: object(
    {
      partialSuccess: object({ rejectedSpans: { type: 'string', description: 'a count, as OTLP/JSON writes int64' }, errorMessage: str }),
      accepted_spans: int,
      rejected_spans: int,
    },
    ['partialSuccess'],
  ),
  OtlpLogsAnswer: object(
    {
      partialSuccess: object({ rejectedLogRecords: { type: 'string', description: 'a count, as OTLP/JSON writes int64' }, errorMessage: str }),
      accepted_log_records: int,
      rejected_log_records: int,
    },
    ['partialSuccess'],
  ),
  TenantIngestAnswer: {
    allOf: [
      { $ref: '#/components/schemas/OtlpAnswer' },
      object({
        status: { type: 'string', const: 'accepted' },
        submitted: int,
        accepted: int,
        rejected: int,
        rejections: array(object({ path: str, reason: str })),
      }),
    ],
  },
  FlatIngestAnswer: object({ count: int, links: array(object({ trace_id: str, span_id: str })) }),
} satisfies Record<string, JsonSchema>;

const traceSummary: Record<string, JsonSchema> = {
  trace_id: str,
  revision: int,
  pipeline_version: str,
  service_name: str,
  root_name: str,
  start_time_unix_nano: str,
  end_time_unix_nano: str,
  has_error: bool,
  span_count: int,
  close_reason: str,
  truncated: bool,
  orphan_span_ids: strings,
  cycle_span_ids: strings,
  closed_at: dateTime,
  digest: str,
};

const tenantAnswer = object({ tenant_id: str, name: str, created_at: dateTime });
const apiKeyAnswer = object({ key_id: str, created_at: dateTime, revoked_at: nullable(dateTime) });

const settingsAnswer = object({
  tenant_id: str,
  baseline_sigma: num,
  baseline_min_samples: int,
  defaults: object({ baseline_sigma: num, baseline_min_samples: int }),
});

/** OTLP/JSON ExportTraceServiceRequest, loosely: the decoder reports bad spans one by one. */
const otlpLogsJsonRequest: JsonSchema = {
  type: 'object',
  description: 'An OTLP ExportLogsServiceRequest in its JSON encoding (opentelemetry-proto).',
  properties: {
    resourceLogs: array({
      type: 'object',
      properties: {
        resource: { type: 'object', properties: { attributes: array({ type: 'object' }) } },
        scopeLogs: array({
          type: 'object',
          properties: {
            scope: { type: 'object' },
            logRecords: array({
              type: 'object',
              properties: {
                timeUnixNano: { type: ['string', 'integer'] },
                observedTimeUnixNano: { type: ['string', 'integer'] },
                traceId: str,
                spanId: str,
                eventName: str,
                severityNumber: { type: ['integer', 'string'] },
                severityText: str,
                body: { type: 'object' },
                attributes: array({ type: 'object', properties: { key: str, value: { type: 'object' } } }),
              },
            }),
          },
        }),
      },
    }),
  },
};

const otlpJsonRequest: JsonSchema = {
  type: 'object',
  description: 'An OTLP ExportTraceServiceRequest in its JSON encoding (opentelemetry-proto).',
  properties: {
    resourceSpans: array({
      type: 'object',
      properties: {
        resource: { type: 'object', properties: { attributes: array({ type: 'object' }) } },
        scopeSpans: array({
          type: 'object',
          properties: {
            scope: { type: 'object' },
            spans: array({
              type: 'object',
              properties: {
                traceId: str,
                spanId: str,
                parentSpanId: str,
                name: str,
                kind: { type: ['integer', 'string'] },
                startTimeUnixNano: { type: ['string', 'integer'] },
                endTimeUnixNano: { type: ['string', 'integer'] },
                attributes: array({ type: 'object', properties: { key: str, value: { type: 'object' } } }),
                status: { type: 'object' },
              },
            }),
          },
        }),
      },
    }),
  },
};

/** Flat spans (src/ingest/flat/spans.ts): a list, a bare array, or traces keyed by id. */
const flatSpansRequest: JsonSchema = {
  description: 'Flat spans: {"spans": [...]}, a bare array of spans, or {"traces": {"<trace_id>": {"spans": {...}}}}.',
  anyOf: [
    object({ spans: array({ type: 'object', properties: { trace_id: str, span_id: str, parent_id: nullable(str), name: str } }) }),
    array({ type: 'object' }),
    object({ traces: { type: 'object', additionalProperties: { type: 'object' } } }),
  ],
};

const SESSION_TAG = 'sessions';
const SEED_SESSION_TAG = 'sessions (compatible paths)';
const diffCounts = object({
  added: int,
  removed: int,
  changed: int,
  unchanged: int,
  examples: object({ added: strings, removed: strings, changed: strings }),
});
const replayAnswer = object({
  replay_id: str,
  state: { type: 'string', enum: ['running', 'finished', 'cancelled', 'failed'] },
  created_at: dateTime,
  ended_at: nullable(dateTime),
  pipeline_version: str,
  settings: { type: 'object' },
  scope: object({ tenants: nullable(strings), from: nullable(dateTime), to: nullable(dateTime) }),
  records_read: int,
  records_total: int,
  records_per_second: nullable(int),
  eta_seconds: nullable(int),
  traces_replayed: int,
  error: nullable(str),
  promotions: array(
    object({
      tenant_id: str,
      promoted_at: dateTime,
      rolled_back_at: nullable(dateTime),
      traces: int,
      withdrawn: int,
      put: int,
      skipped: int,
      digest: str,
    }),
  ),
});
/** The run-level verdict: the probability the run failed (src/detectors/failure-score.ts). */
const score: JsonSchema = { type: 'number', minimum: 0, maximum: 1, description: 'probability that the run failed, from its standing detections (docs/detectors.md#failure-score)' };
const ERRORS_TENANT: readonly ErrorStatus[] = [400, 401, 404];
const metricsAnswer = object({ partialSuccess: object({ rejectedDataPoints: str, errorMessage: str }) });
const ERRORS_INGEST: readonly ErrorStatus[] = [400, 401, 404, 413, 415, 429, 503];

const seedAnswer = (properties: Record<string, JsonSchema>): JsonSchema => object({ success: { type: 'boolean', const: true }, ...properties });

/** Every HTTP route, in the order of the README's API table. */
export const operations: readonly Operation[] = [
  // ---- ingest
  {
    method: 'post',
    path: '/v1/traces',
    operationId: 'exportTraces',
    summary: 'OTLP/HTTP trace export (tenant from the credential)',
    description:
      'The OpenTelemetry default path. Protobuf or JSON, optionally gzip- or deflate-compressed. Invalid spans are reported (partial success), the rest accepted; the answer comes once the append is durable.',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: otlpJsonRequest, protobuf: true },
    response: { status: 200, description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)', schema: ref('OtlpAnswer') },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/v1/logs',
    operationId: 'exportLogs',
    summary: 'OTLP/HTTP logs export: GenAI events and other log records, joined to the spans they name',
    description:
      'Protobuf or JSON, optionally gzip- or deflate-compressed. Each record must carry the trace and span id of its span; one without them is refused alone (partial success). Records show as events of their span once its trace closes.',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: otlpLogsJsonRequest, protobuf: true },
    response: { status: 200, description: 'accepted (a protobuf request gets a protobuf ExportLogsServiceResponse)', schema: ref('OtlpLogsAnswer') },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/traces/ingest',
    operationId: 'ingestTenantTraces',
    summary: 'OTLP trace ingest for the tenant in the path',
    tags: ['ingest'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: otlpJsonRequest, protobuf: true },
    response: {
      status: 202,
      description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)',
      schema: ref('TenantIngestAnswer'),
    },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/v1/traces/ingest',
    operationId: 'ingestTracesForCaller',
    summary: 'OTLP trace ingest for the tenant of the credential, answered as the tenant path is',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: otlpJsonRequest, protobuf: true },
    response: {
      status: 202,
      description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)',
      schema: ref('TenantIngestAnswer'),
    },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/v1/spans/ingest',
    operationId: 'ingestFlatSpans',
    summary: 'Flat span ingest (tenant from the credential)',
    description: 'Accepted or rejected as a whole: a span without a usable id rejects the request with a 400 naming the field.',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: flatSpansRequest },
    response: { status: 202, description: 'durable in the log; analysed once the window closes', schema: ref('FlatIngestAnswer') },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/spans/ingest',
    operationId: 'ingestTenantFlatSpans',
    summary: 'Flat span ingest for the tenant in the path',
    tags: ['ingest'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: flatSpansRequest },
    response: { status: 202, description: 'durable in the log; analysed once the window closes', schema: ref('FlatIngestAnswer') },
    errors: ERRORS_INGEST,
  },

  // ---- sessions (tracefold's paths)
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions',
    operationId: 'sendSession',
    summary: 'Send a whole session (batch); re-sending replaces it',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantParams,
    body: { schema: sessionSchemas.batchSchema },
    response: { status: 202, description: 'the session and its events are durable; the trace closes at once', schema: ref('Session') },
    errors: ERRORS_INGEST,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId',
    operationId: 'getSession',
    summary: "A session's registry record",
    tags: [SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.tenantSessionParams,
    response: {
      status: 200,
      description: 'the session',
      schema: object({
        session_id: str,
        trace_id: str,
        root_span_id: str,
        state: { type: 'string', enum: ['open', 'ended'] },
        mode: { type: 'string', enum: ['batch', 'stream'] },
        status: str,
        total_events: int,
        started_at: dateTime,
        ended_at: nullable(dateTime),
        updated_at: dateTime,
      }),
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/start',
    operationId: 'startSession',
    summary: 'Stream: start a session',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.tenantSessionParams,
    body: { schema: sessionSchemas.startSchema, required: false },
    response: { status: 201, also: [200], description: 'started (200: it was already open)', schema: ref('Session') },
    errors: [...ERRORS_INGEST, 409],
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/events',
    operationId: 'appendSessionEvents',
    summary: 'Stream: append {event} or {events: [...]}',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.tenantSessionParams,
    body: { schema: sessionSchemas.eventsSchema },
    response: { status: 202, description: 'the events are durable', schema: ref('Session') },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/end',
    operationId: 'endSession',
    summary: 'Stream: end a session; its trace closes',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.tenantSessionParams,
    body: { schema: sessionSchemas.endSchema, required: false },
    response: { status: 200, description: 'ended', schema: ref('Session') },
    errors: ERRORS_INGEST,
  },

  // ---- sessions (Cognipeer Console's paths and answer shapes; tenant from the credential)
  {
    method: 'post',
    path: '/api/client/v1/tracing/sessions',
    operationId: 'sendSessionCompat',
    summary: 'Send a whole session (compatible path)',
    tags: [SEED_SESSION_TAG],
    security: 'tenant',
    body: { schema: sessionSchemas.batchSchema },
    response: { status: 202, description: 'accepted', schema: seedAnswer({ sessionId: str, eventsStored: int, traceId: str }) },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/client/v1/tracing/sessions/stream/:sessionId/start',
    operationId: 'startSessionCompat',
    summary: 'Stream: start a session (compatible path)',
    tags: [SEED_SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.sessionParams,
    body: { schema: sessionSchemas.startSchema, required: false },
    description: 'Starting a session that has ended opens it again (200) on this path: the seed has no 409; the new events make the trace\'s next revision.',
    response: { status: 201, also: [200], description: 'started (200: it was open, or has ended and is open again)', schema: seedAnswer({ sessionId: str, status: str, traceId: str }) },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/client/v1/tracing/sessions/stream/:sessionId/events',
    operationId: 'appendSessionEventsCompat',
    summary: 'Stream: append events (compatible path)',
    tags: [SEED_SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.sessionParams,
    body: { schema: sessionSchemas.eventsSchema },
    response: { status: 202, description: 'accepted', schema: seedAnswer({ sessionId: str, totalEvents: int, eventsStored: int }) },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/client/v1/tracing/sessions/stream/:sessionId/end',
    operationId: 'endSessionCompat',
    summary: 'Stream: end a session (compatible path)',
    tags: [SEED_SESSION_TAG],
    security: 'tenant',
    params: sessionSchemas.sessionParams,
    body: { schema: sessionSchemas.endSchema, required: false },
    response: { status: 200, description: 'ended', schema: seedAnswer({ sessionId: str, status: str, durationMs: nullable(num), traceId: str }) },
    errors: ERRORS_INGEST,
  },
  {
    method: 'post',
    path: '/api/client/v1/traces',
    operationId: 'sendOtlpCompat',
    summary: 'OTLP/HTTP JSON ingest answering in the seed\'s shape (compatible path)',
    description: 'Each trace is a session: sessionsIngested counts distinct trace ids, spansProcessed the spans accepted, eventsStored the spans with a parent. Body limit TRACING_MAX_BODY_SIZE_MB.',
    tags: [SEED_SESSION_TAG],
    security: 'tenant',
    body: { schema: otlpJsonRequest, protobuf: true },
    response: {
      status: 200,
      description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)',
      schema: object({ success: { type: 'boolean', const: true }, sessionsIngested: int, spansProcessed: int, eventsStored: int, rejected: array(object({ path: str, reason: str })) }, ['rejected']),
    },
    errors: ERRORS_INGEST,
  },

  // ---- auth
  {
    method: 'post',
    path: '/api/v1/auth/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant and its first API key (shown once)',
    description: 'Needs the admin token as the bearer token when the server has one (TRACEFOLD_ADMIN_TOKEN); open otherwise.',
    tags: ['auth'],
    security: 'admin',
    body: { schema: authApi.createTenantBody },
    response: {
      status: 201,
      description: 'created',
      schema: object({ tenant_id: str, name: str, api_key: { type: 'string', description: 'tfk_…; stored hashed, not shown again' }, key_id: str, created_at: dateTime }),
    },
    errors: [400, 401, 503],
  },
  {
    method: 'post',
    path: '/api/v1/auth/token',
    operationId: 'issueToken',
    summary: 'Exchange an API key for a short-lived JWT',
    tags: ['auth'],
    security: 'none',
    body: { schema: authApi.tokenBody },
    response: {
      status: 200,
      description: 'a bearer token',
      schema: object({ access_token: str, token_type: { type: 'string', const: 'bearer' }, expires_in: int, tenant_id: str }),
    },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/api/v1/tenants',
    operationId: 'listTenants',
    summary: 'Every tenant (operator only)',
    description: 'Needs TRACEFOLD_ADMIN_TOKEN configured on the server and sent as the bearer token; 403 without one configured.',
    tags: ['auth'],
    security: 'admin',
    response: { status: 200, description: 'the tenants', schema: object({ items: array(tenantAnswer) }) },
    errors: [401, 403],
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId',
    operationId: 'getTenant',
    summary: 'The tenant of the credential',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the tenant', schema: tenantAnswer },
    errors: ERRORS_TENANT,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/api-keys',
    operationId: 'createApiKey',
    summary: 'Issue another API key (shown once)',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 201, description: 'the new key', schema: object({ key_id: str, api_key: str, created_at: dateTime, revoked_at: { type: 'null' } }) },
    errors: [...ERRORS_TENANT, 503],
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/api-keys',
    operationId: 'listApiKeys',
    summary: "The tenant's API keys (ids and dates, never secrets)",
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the keys', schema: object({ items: array(apiKeyAnswer) }) },
    errors: ERRORS_TENANT,
  },
  {
    method: 'delete',
    path: '/api/v1/tenants/:tenantId/api-keys/:keyId',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (and the tokens issued for it); revoking twice is harmless',
    tags: ['auth'],
    security: 'tenant',
    params: authApi.keyParams,
    response: { status: 200, description: 'the revoked key', schema: apiKeyAnswer },
    errors: [...ERRORS_TENANT, 503],
  },

  // ---- traces and detections
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces',
    operationId: 'listTraces',
    summary: 'Traces, newest first, with filters',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: traceApi.traceListQuery,
    response: {
      status: 200,
      description: 'a page of traces',
      schema: object({
        items: array(
          object({
            trace_id: str,
            revision: int,
            service_name: str,
            root_name: str,
            closed_at: nullable(dateTime),
            start_time: nullable(dateTime),
            duration_ms: nullable(num),
            span_count: int,
            has_error: bool,
            agents: strings,
            models: strings,
            cost_usd: nullable(num),
            failure_count: int,
            failure_score: score,
            detection_types: strings,
            max_severity: nullable(str),
          }),
        ),
        next_cursor: nullable(str),
      }),
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces/:traceId',
    operationId: 'getTrace',
    summary: 'A trace: summary, metrics, detections and the span tree',
    tags: ['traces'],
    security: 'tenant',
    params: traceParams,
    query: traceApi.traceDetailQuery,
    response: {
      status: 200,
      description: 'the trace (its latest revision, or the one asked for)',
      schema: object({
        ...traceSummary,
        metrics: nullable(ref('TraceMetrics')),
        failure_score: score,
        detections: array(ref('Detection')),
        spans: array(ref('SpanNode')),
      }),
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/traces/:traceId/analyze',
    operationId: 'analyzeTrace',
    summary: "Close the trace's window now and answer with its detections",
    tags: ['traces'],
    security: 'tenant',
    params: traceParams,
    response: {
      status: 200,
      description: 'the analysis',
      schema: object({
        trace_id: str,
        revision: int,
        has_failures: bool,
        failure_count: int,
        failure_score: score,
        primary_failure: nullable(ref('Detection')),
        all_detections: array(ref('Detection')),
        detection_time_ms: num,
      }),
    },
    errors: [...ERRORS_TENANT, 503],
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/detections',
    operationId: 'listDetections',
    summary: 'Detections, newest first',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: traceApi.detectionListQuery,
    response: {
      status: 200,
      description: 'a page of detections',
      schema: array(ref('Detection')),
      headers: { 'x-next-cursor': { description: 'pass as `cursor` for the next page; absent on the last page', schema: str } },
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/feedback',
    operationId: 'recordFeedback',
    summary: 'A verdict on a detection, or a missed detection on a trace',
    description:
      'true_positive / false_positive name a detection (`detection_id`); `missed` names a trace (`trace_id`) and the detector that should have fired.',
    tags: ['feedback'],
    security: 'tenant',
    params: tenantParams,
    body: {
      schema: traceApi.feedbackBody,
      examples: {
        verdict: { value: { feedback_type: 'false_positive', detection_id: 'd0c5e1', comment: 'expected retry' } },
        missed: { value: { feedback_type: 'missed', trace_id: 'run-001', detector: 'tool_failure', comment: '' } },
      },
    },
    response: { status: 201, description: 'recorded', schema: ref('Feedback') },
    errors: [...ERRORS_TENANT, 503],
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/feedback/stats',
    operationId: 'feedbackStats',
    summary: 'Feedback counts and calibration per detector',
    tags: ['feedback'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'per-detector statistics',
      schema: object({
        tenant_id: str,
        detectors: array(
          object({
            detector: str,
            true_positives: int,
            false_positives: int,
            missed: int,
            precision: nullable(num),
            confidence_shift: num,
            updated_at: dateTime,
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  },

  // ---- replays
  {
    method: 'post',
    path: '/api/v1/replays',
    operationId: 'startReplay',
    summary: 'Re-run the raw topic (all, a time range, some tenants) through detectors with other settings, beside live processing',
    description:
      'The run has its own consumer group and state; nothing it finds reaches the output topics, baselines or the audit chain. ' +
      '`settings` is detector settings as in TRACEFOLD_DETECTORS (default: the server\'s). At most two runs go at once (409 beyond). Needs the admin token when the server has one.',
    tags: ['replays'],
    security: 'admin',
    body: { schema: replayApi.startReplayBody, required: false },
    response: { status: 201, description: 'the run, started', schema: replayAnswer },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/replays',
    operationId: 'listReplays',
    summary: 'Every replay run, newest first',
    tags: ['replays'],
    security: 'admin',
    response: { status: 200, description: 'the runs', schema: object({ items: array(replayAnswer) }) },
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/api/v1/replays/:replayId',
    operationId: 'getReplay',
    summary: 'A replay run: state, progress, rate and ETA',
    tags: ['replays'],
    security: 'admin',
    params: replayApi.replayParams,
    response: { status: 200, description: 'the run', schema: replayAnswer },
    errors: [400, 401, 404],
  },
  {
    method: 'get',
    path: '/api/v1/replays/:replayId/diff',
    operationId: 'replayDiff',
    summary: "A replay's detections against the ones in force: added, removed and changed per tenant and detector, with example trace ids",
    description: 'Matched by detector, detection type and affected spans. Anomaly detections (baselines) are left out.',
    tags: ['replays'],
    security: 'admin',
    params: replayApi.replayParams,
    response: {
      status: 200,
      description: 'the diff so far (complete once the run finished)',
      schema: object({ traces: int, traces_changed: int, total: diffCounts, by_tenant: { type: 'object', additionalProperties: { type: 'object', additionalProperties: diffCounts } } }),
    },
    errors: [400, 401, 404],
  },
  {
    method: 'post',
    path: '/api/v1/replays/:replayId/promote',
    operationId: 'promoteReplay',
    summary: "Put a finished replay's detections in force, for some of its tenants or all",
    description:
      'Per tenant: a withdrawal on tracefold.detections.v1 for each detection in force the run no longer finds, the run\'s record for each it adds or changes, ' +
      'and one replay_promoted fact in the audit chain with the digest of the change, all in one unit. Baselines and rollups do not move. ' +
      'Traces that closed again since the run analyzed them are skipped. 409 when the run has not finished or is promoted already for a named tenant.',
    tags: ['replays'],
    security: 'admin',
    params: replayApi.replayParams,
    body: { schema: replayApi.promoteReplayBody, required: false },
    response: { status: 200, description: 'the run, with its promotions', schema: replayAnswer },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/replays/:replayId/rollback',
    operationId: 'rollbackReplay',
    summary: "Undo a replay's promotion: what it replaced is in force again",
    description:
      'Withdraws the detections the promotion added and writes again the ones it withdrew or changed, with one replay_rolled_back fact in the audit chain. ' +
      '409 when the run is not promoted for the tenants named, or another run was promoted for one of them since.',
    tags: ['replays'],
    security: 'admin',
    params: replayApi.replayParams,
    body: { schema: replayApi.promoteReplayBody, required: false },
    response: { status: 200, description: 'the run, with its promotions', schema: replayAnswer },
    errors: [400, 401, 404, 409],
  },
  {
    method: 'delete',
    path: '/api/v1/replays/:replayId',
    operationId: 'cancelReplay',
    summary: 'Cancel a running replay (its state stays, for its diff so far), or remove an ended one with its state',
    description: 'An ended run (finished, cancelled or failed) is removed: its record, its state and what its promotions replaced; the answer is the run as it was. 409 while one of its promotions is in force.',
    tags: ['replays'],
    security: 'admin',
    params: replayApi.replayParams,
    response: { status: 200, description: 'the run, cancelled; or as it was, removed', schema: replayAnswer },
    errors: [400, 401, 404, 409],
  },

  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/metrics/rollups',
    operationId: 'metricRollups',
    summary: 'Runs, tokens, cost, error rates and duration percentiles per minute or hour, by service, agent or model',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: rollupApi.rollupQuery,
    response: {
      status: 200,
      description: 'buckets overlapping [from, to), oldest first',
      schema: object({
        tenant_id: str,
        granularity: str,
        group_by: str,
        from: dateTime,
        to: dateTime,
        items: array(
          object({
            bucket_start: dateTime,
            group: str,
            runs: int,
            spans: int,
            input_tokens: int,
            output_tokens: int,
            cost_usd: nullable(num),
            unpriced_runs: int,
            error_rate: nullable(num),
            span_error_rate: nullable(num),
            p50_duration_ms: nullable(num),
            p95_duration_ms: nullable(num),
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  },

  // ---- the tenant stage's views
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/audit/verify',
    operationId: 'verifyAudit',
    summary: "Verify the tenant's audit hash chain",
    tags: ['audit'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'the verification',
      schema: object({
        tenant_id: str,
        ok: bool,
        checked: int,
        head: nullable(object({ seq: int, hash: str })),
        first_broken: nullable(object({ seq: int, index: int, reason: str })),
      }),
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/audit/export',
    operationId: 'exportAudit',
    summary: 'Export the audit records as a verifiable package',
    tags: ['audit'],
    security: 'tenant',
    params: tenantParams,
    query: tenantApi.exportQuery,
    response: {
      status: 200,
      description: 'the export package',
      schema: {
        type: 'object',
        properties: { format: str, version: { type: ['integer', 'string'] }, profile: { type: 'string', enum: [...EXPORT_PROFILES] } },
        required: ['format', 'version', 'profile'],
      },
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/baselines',
    operationId: 'listBaselines',
    summary: 'Baselines per service and agent',
    tags: ['baselines'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'the baselines',
      schema: object({
        tenant_id: str,
        sigma_threshold: num,
        min_samples: int,
        baselines: array(
          object({
            service: str,
            agent: nullable(str),
            updated_at: dateTime,
            metrics: { type: 'object', additionalProperties: object({ samples: int, mean: num, stddev: num }) },
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/settings',
    operationId: 'getSettings',
    summary: "The tenant's settings, with the server's defaults",
    tags: ['settings'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the settings in force', schema: settingsAnswer },
    errors: ERRORS_TENANT,
  },
  {
    method: 'put',
    path: '/api/v1/tenants/:tenantId/settings',
    operationId: 'putSettings',
    summary: "Replace the tenant's settings (absent or null: the default)",
    tags: ['settings'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: tenantApi.settingsBody },
    response: { status: 200, description: 'the settings in force', schema: settingsAnswer },
    errors: [...ERRORS_TENANT, 503],
  },
  {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces/:traceId/anomalies',
    operationId: 'traceAnomalies',
    summary: "The trace's metrics that stand out from their baseline",
    tags: ['baselines'],
    security: 'tenant',
    params: traceParams,
    response: {
      status: 200,
      description: 'the anomalies',
      schema: object({
        trace_id: str,
        anomalous: bool,
        anomalies: array(
          object({ detection_id: str, metric: str, value: num, mean: num, sigma: num, z_score: nullable(num), scope: object({ service: str, agent: nullable(str) }) }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  },

  // ---- operations
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'the process runs', schema: object({ status: { type: 'string', const: 'ok' }, roles: strings }) },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: "Readiness: the log's connectivity and the views' lag",
    tags: ['operations'],
    security: 'none',
    response: {
      status: 200,
      description: 'ready',
      schema: object({
        status: { type: 'string', enum: ['ready', 'not_ready'] },
        roles: strings,
        log: object({ kind: str, healthy: bool }),
        view_lag: nullable(int),
      }),
    },
    // 503 answers with the same shape as 200 (status not_ready), not the Error body.
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'Prometheus text exposition format', contentType: 'text/plain' },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'openapi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'OpenAPI 3.1', schema: { type: 'object' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/docs/openapi.json',
    operationId: 'openapiJson',
    summary: 'This OpenAPI document (same as /docs)',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'OpenAPI 3.1', schema: { type: 'object' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/',
    operationId: 'webUi',
    summary: 'The web UI (README: Web UI); 503 when dist/ui is not built',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'the UI page, with a strict Content-Security-Policy', contentType: 'text/html' },
    errors: [],
  },
  {
    method: 'get',
    path: '/ui/app.js',
    operationId: 'webUiScript',
    summary: "The web UI's script bundle",
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'JavaScript module', contentType: 'text/javascript' },
    errors: [],
  },
  {
    method: 'get',
    path: '/ui/app.css',
    operationId: 'webUiStyles',
    summary: "The web UI's style sheet",
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'CSS', contentType: 'text/css' },
    errors: [],
  },
  {
    method: 'post',
    path: '/api/v1/tenants/:tenantId/ingest-tokens',
    operationId: 'createIngestToken',
    summary: 'An ingest token for a stream URL (agent-strace watch --stream-to), for clients that cannot send headers',
    description: 'Append-only, through /api/agent-strace/{token} paths only, until it expires (ttl_seconds, 60 to 604800, default 3600) or its API key is revoked.',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: ingestTokenBody, required: false },
    response: { status: 201, description: 'created', schema: object({ token: str, scope: { type: 'string', const: 'ingest' }, expires_at: dateTime, stream_path: str }) },
    errors: ERRORS_TENANT,
  },
  {
    method: 'post',
    path: '/api/agent-strace/:token',
    operationId: 'agentStraceStream',
    summary: 'agent-strace NDJSON events (watch --stream-to URL)',
    tags: ['agent-strace (compatible paths)'],
    security: 'url-token',
    params: tokenParams,
    body: { schema: { type: 'string', description: 'application/x-ndjson, or OTLP JSON / protobuf' } },
    response: { status: 202, description: 'accepted', schema: ref('FlatIngestAnswer') },
    errors: [400, 401, 413, 415, 429, 503],
  },
  {
    method: 'post',
    path: '/api/agent-strace/:token/v1/traces',
    operationId: 'agentStraceOtlp',
    summary: 'agent-strace OTLP (watch --stream-to URL --stream-otlp), or NDJSON',
    tags: ['agent-strace (compatible paths)'],
    security: 'url-token',
    params: tokenParams,
    body: { schema: { type: 'string', description: 'application/x-ndjson, or OTLP JSON / protobuf' } },
    response: { status: 200, description: 'accepted', schema: ref('OtlpAnswer') },
    errors: [400, 401, 413, 415, 429, 503],
  },
  {
    method: 'post',
    path: '/api/agent-strace/:token/v1/traces/v1/traces',
    operationId: 'agentStraceOtlpDoubled',
    summary: 'agent-strace OTLP when the URL given already ends in /v1/traces',
    tags: ['agent-strace (compatible paths)'],
    security: 'url-token',
    params: tokenParams,
    body: { schema: { type: 'string', description: 'application/x-ndjson, or OTLP JSON / protobuf' } },
    response: { status: 200, description: 'accepted', schema: ref('OtlpAnswer') },
    errors: [400, 401, 413, 415, 429, 503],
  },
  {
    method: 'post',
    path: '/api/agent-strace/:token/v1/metrics',
    operationId: 'agentStraceMetrics',
    summary: 'OTLP metrics through a stream URL: accepted, data points reported rejected (not kept)',
    tags: ['agent-strace (compatible paths)'],
    security: 'url-token',
    params: tokenParams,
    body: { schema: { type: 'string', description: 'application/x-ndjson, or OTLP JSON / protobuf' } },
    response: { status: 200, description: 'accepted', schema: metricsAnswer },
    errors: [400, 401, 413, 415, 429, 503],
  },
  {
    method: 'post',
    path: '/v1/metrics',
    operationId: 'otlpMetrics',
    summary: 'OTLP metrics: accepted, data points reported rejected (tracefold computes its own per-run metrics)',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: { type: 'object' }, protobuf: true },
    response: { status: 200, description: 'OTLP ExportMetricsServiceResponse (JSON)', schema: metricsAnswer },
    errors: [400, 401, 413, 415],
  },
  ...agentaOperations({ otlpJsonRequest, flatSpansRequest, flatAnswer: ref('FlatIngestAnswer'), otlpAnswer: ref('OtlpAnswer'), errorsIngest: ERRORS_INGEST }),
];

// ---- building the document

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'invalid request: the message names each field',
  401: 'missing or invalid credential',
  403: 'not allowed (e.g. listing tenants without TRACEFOLD_ADMIN_TOKEN configured)',
  404: 'not found (also a tenant the credential does not belong to)',
  405: 'method not supported on this path (the Allow header lists those that are)',
  409: 'conflict: the session has ended',
  413: 'request body (or its decompressed size) exceeds the limit',
  415: 'unsupported Content-Type or Content-Encoding',
  429: "over the tenant's ingest rate limit; see Retry-After",
  503: 'temporarily unavailable (log, ingest buffer, or a read-your-writes wait); retry after Retry-After',
};

/** OpenAPI wants `{name}` where Fastify has `:name`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function isZod(schema: z.ZodType | JsonSchema): schema is z.ZodType {
  return typeof schema === 'object' && '_zod' in schema;
}

/** The JSON Schema of what a zod schema accepts (defaults optional, transforms' input types). */
function inputSchema(schema: z.ZodType): JsonSchema {
  // Refinements have no JSON Schema form and are left out: the route still enforces them.
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  return json;
}

function objectProperties(op: Operation, what: 'params' | 'query', schema: z.ZodType) {
  const json = inputSchema(schema);
  if (json.type !== 'object' || typeof json.properties !== 'object' || json.properties === null) {
    throw new Error(`${op.operationId}: ${what} must be an object schema`);
  }
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(json.properties as Record<string, JsonSchema>).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
}

function parametersOf(op: Operation): JsonSchema[] {
  const inPath = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const pathProps = op.params === undefined ? [] : objectProperties(op, 'params', op.params);
  const documented = pathProps.map((p) => p.name);
  if ([...inPath].sort().join() !== [...documented].sort().join()) {
    throw new Error(`${op.operationId}: path parameters ${JSON.stringify(inPath)} differ from the params schema's ${JSON.stringify(documented)}`);
  }
  const query = op.query === undefined ? [] : objectProperties(op, 'query', op.query);
  return [
    ...pathProps.map((p) => ({ name: p.name, in: 'path', required: true, schema: p.schema })),
    ...query.map((p) => ({ name: p.name, in: 'query', required: p.required, schema: p.schema })),
  ];
}

function requestBodyOf(op: Operation): JsonSchema | undefined {
  if (op.body === undefined) return undefined;
  const schema = isZod(op.body.schema) ? inputSchema(op.body.schema) : op.body.schema;
  const content: Record<string, JsonSchema> = {
    'application/json': { schema, ...(op.body.examples === undefined ? {} : { examples: op.body.examples }) },
  };
  if (op.body.protobuf === true) {
    content['application/x-protobuf'] = {
      schema: { type: 'string', contentMediaType: 'application/x-protobuf', description: 'ExportTraceServiceRequest (opentelemetry-proto)' },
    };
  }
  return { required: op.body.required ?? true, content };
}

function responsesOf(op: Operation): Record<string, JsonSchema> {
  const r = op.response;
  const content =
    r.schema !== undefined
      ? { [r.contentType ?? 'application/json']: { schema: r.schema } }
      : { [r.contentType ?? 'application/octet-stream']: { schema: { type: 'string' } } };
  const success = { description: r.description, content, ...(r.headers === undefined ? {} : { headers: r.headers }) };
  const responses: Record<string, JsonSchema> = { [String(r.status)]: success };
  for (const status of r.also ?? []) responses[String(status)] = success;
  for (const status of op.errors) responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  return responses;
}

const SECURITY: Record<Security, JsonSchema[] | undefined> = {
  none: [],
  tenant: [{ bearer: [] }],
  // The admin token is only asked for when the server has one configured.
  admin: [{ admin: [] }, {}],
  agenta: [{ apiKey: [] }, { bearer: [] }],
  // An ingest token in the path (agent-strace streaming): no header.
  'url-token': [],
};

/** Builds the OpenAPI 3.1 document of `ops` (all routes by default). */
export function buildOpenApiDocument(ops: readonly Operation[] = operations, version = '0.1.0'): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const ids = new Set<string>();
  for (const op of ops) {
    if (ids.has(op.operationId)) throw new Error(`duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    const item = (paths[openApiPath(op.path)] ??= {});
    if (item[op.method] !== undefined) throw new Error(`${op.method.toUpperCase()} ${op.path} is listed twice`);
    const parameters = parametersOf(op);
    const requestBody = requestBodyOf(op);
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description === undefined ? {} : { description: op.description }),
      tags: [...op.tags],
      security: SECURITY[op.security],
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(requestBody === undefined ? {} : { requestBody }),
      responses: responsesOf(op),
    };
  }
  const errorResponses = Object.fromEntries(
    Object.entries<string>(ERROR_DESCRIPTIONS).map(([status, description]) => [
      `E${status}`,
      { description, content: { 'application/json': { schema: ref('Error') } } },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'tracefold',
      version,
      description: 'OTLP and session ingest, trace queries, failure detections, feedback, audit and baselines. Errors answer {error, message}.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [...new Set(ops.flatMap((op) => op.tags))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: errorResponses,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (tfk_…) or a JWT from POST /api/v1/auth/token.' },
        admin: { type: 'http', scheme: 'bearer', description: 'The admin token (TRACEFOLD_ADMIN_TOKEN), when the server has one.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Agenta\'s scheme on its paths: "ApiKey <tracefold API key>".' },
      },
    },
  };
}
