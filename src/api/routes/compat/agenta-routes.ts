/**
 * Agenta's tracing API on Agenta's own paths, beside tracefold's API. Each path
 * is served under `/api` (Agenta's documented host prefix: `$AGENTA_HOST/api/...`) and
 * without it (the endpoint table's relative form):
 *
 *   POST /api/tracing/spans/ingest     flat spans list or nested traces tree          202 {count, links}
 *   POST /api/traces/ingest            Trace / Traces records                         202 {count, links}
 *   POST /api/traces/                  the same                                       202 {count, links}
 *   PUT  /api/traces/:traceId          one trace, its id from the path                202 {count, links}
 *   POST /api/simple/traces/           one standalone trace, ids generated            202 {count, trace}
 *   GET  /api/simple/traces/:traceId   that trace back in the simple shape            200 {count, trace}
 *   GET  /api/traces/:traceId          a trace as Agenta's nested SpansTree           200 {count, traces}
 *   GET  /api/tracing/traces/:traceId  the same
 *   POST /api/otlp/v1/traces           OTLP/HTTP protobuf or JSON                     200 OTLP response
 *
 * Authentication: `Authorization: ApiKey <tracefold API key>` (Agenta's scheme), or tracefold's
 * `Bearer <api key or token>`. The tenant is the credential's.
 *
 * Ingest reuses tracefold's flat-span pipeline (src/ingest/flat): durable before the answer,
 * and whole-request rejection (400 naming the field) for a span without usable ids, where
 * Agenta's worker would drop it silently after a 202. Unknown fields are parked under
 * `ag.unsupported.*` (agenta-attributes.ts), `references` go to `ag.references`.
 *
 * Reads come from the views: a trace is there once its window closes (as Agenta warns, 202
 * is not persistence). A simple trace is complete when sent, so its window is closed at once
 * (an analyze marker after its span). PATCH and DELETE of simple traces answer 405: the log
 * is append-only; PUT /traces/:traceId re-sends spans, which replace the earlier copies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { appendRaw, markerRecord } from '../../../ingest/append-raw.js';
import { ingestFlatBody, type FlatIngestOptions } from '../../../ingest/flat/routes.js';
import { normalizeTraceId } from '../../../ingest/otlp/ids.js';
import { OtlpValueError } from '../../../ingest/otlp/value-error.js';
import { ERRORS_INGEST, flatIngestAnswer, flatSpansRequest, otlpAnswer, otlpJsonRequest } from '../../../ingest/contract.js';
import { ingestOtlp, isProtobuf, otlpContentTypes, otlpResponse, protobufResponse } from '../../../ingest/routes.js';
import { PROTOBUF_CONTENT_TYPE } from '../../../ingest/otlp/proto.js';
import { errors } from '../../../model/errors.js';
import type { CanonicalSpan } from '../../../model/span.js';
import { toPlain } from '../../../model/span.js';
import { assembleTrace } from '../../../stages/trace/assemble.js';
import type { AppContext, IngestContext } from '../../../http/context.js';
import { defineOperation, routesOf, type ErrorStatus, type JsonSchema } from '../../../http/route.js';
import { keyPartString } from '../../../http/validate.js';
import { AG_REFERENCES_ATTRIBUTE, AG_UNSUPPORTED_PREFIX, nestAttributes, normalizeAgSpan } from './agenta-attributes.js';

export const AGENTA_PREFIXES = ['/api', ''] as const;
const FLAT_OPTIONS: FlatIngestOptions = {
  unsupportedPrefix: AG_UNSUPPORTED_PREFIX,
  referencesAttribute: AG_REFERENCES_ATTRIBUTE,
  transform: normalizeAgSpan,
};

export const traceIdParams = z.object({ traceId: keyPartString('traceId') });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const linkSchema = z.looseObject({ trace_id: z.string().min(1, 'must not be empty'), span_id: z.string().min(1, 'must not be empty') });
const referenceSchema = z.looseObject({ id: z.string().optional(), slug: z.string().optional(), version: z.string().optional() });

/** The simple-trace body: `{trace: {...}}`; `data` is what the annotation or event holds. */
export const simpleTraceBody = z.object({
  trace: z.looseObject({
    origin: z.string().optional(),
    kind: z.string().optional(),
    channel: z.string().optional(),
    tags: z.record(z.string(), z.unknown()).optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    data: z.record(z.string(), z.unknown(), 'expected an object such as {"outputs": {...}}'),
    references: z.record(z.string(), referenceSchema).optional(),
    links: z.record(z.string(), linkSchema).optional(),
  }),
});

/** Records a trace id from a body field, or a 400 naming it. */
function traceIdOf(path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw errors.invalidRequest(`${path}: expected a trace id (32 hex characters)`);
  try {
    return normalizeTraceId(value);
  } catch (error) {
    if (error instanceof OtlpValueError) throw errors.invalidRequest(`${path}: ${error.reason}`);
    throw error;
  }
}

/**
 * Agenta's Trace / Traces records → the flat-span body: `{trace: {trace_id, spans}}`,
 * `{traces: [{trace_id, spans}, ...]}` or `{traces: {<trace_id>: {spans}}}`; a flat
 * `{spans: [...]}` passes through.
 */
function tracesBody(body: unknown): unknown {
  if (!isObject(body)) throw errors.invalidRequest('body: expected {"traces": ...} or {"trace": {"trace_id": ..., "spans": ...}}');
  if (body.trace !== undefined) {
    if (!isObject(body.trace)) throw errors.invalidRequest('body.trace: expected an object with trace_id and spans');
    return { traces: { [traceIdOf('body.trace.trace_id', body.trace.trace_id)]: { spans: body.trace.spans } } };
  }
  if (Array.isArray(body.traces)) {
    const traces: Json = {};
    body.traces.forEach((trace, i) => {
      if (!isObject(trace)) throw errors.invalidRequest(`body.traces.${i}: expected an object with trace_id and spans`);
      traces[traceIdOf(`body.traces.${i}.trace_id`, trace.trace_id)] = { spans: trace.spans };
    });
    return { traces };
  }
  return body;
}

/** PUT /traces/:traceId: `{trace: {spans}}` or `{spans}`; a body trace_id must match the path. */
function putBody(traceId: string, body: unknown): unknown {
  if (!isObject(body)) throw errors.invalidRequest('body: expected {"trace": {"spans": ...}} or {"spans": ...}');
  const trace = isObject(body.trace) ? body.trace : body;
  const where = isObject(body.trace) ? 'body.trace' : 'body';
  if (trace.trace_id !== undefined && traceIdOf(`${where}.trace_id`, trace.trace_id) !== traceId) {
    throw errors.invalidRequest(`${where}.trace_id: ${JSON.stringify(trace.trace_id)} differs from the trace id in the path (${traceId})`);
  }
  if (trace.spans === undefined || trace.spans === null) throw errors.invalidRequest(`${where}.spans: missing`);
  return { traces: { [traceId]: { spans: trace.spans } } };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The simple trace as one span: `ag.type.trace` annotation when it links elsewhere, invocation otherwise. */
function simpleTraceSpan(trace: z.infer<typeof simpleTraceBody>['trace'], traceId: string, spanId: string) {
  const { origin, kind, channel, tags, meta, data, references, links, ...rest } = trace;
  const type = links !== undefined && Object.keys(links).length > 0 ? 'annotation' : 'invocation';
  const now = new Date().toISOString();
  return {
    trace_id: traceId,
    span_id: spanId,
    span_name: type,
    span_kind: 'SPAN_KIND_INTERNAL',
    start_time: now,
    end_time: now,
    attributes: {
      ag: {
        type: { trace: type, span: 'task' },
        data,
        ...(tags === undefined ? {} : { tags }),
        meta: { ...meta, ...(origin === undefined ? {} : { origin }), ...(kind === undefined ? {} : { kind }), ...(channel === undefined ? {} : { channel }) },
      },
    },
    ...(references === undefined ? {} : { references }),
    ...(links === undefined ? {} : { links }),
    ...rest,
  };
}

const STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const nanosToIso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

function agentaSpan(span: CanonicalSpan) {
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_id: span.parentSpanId === '' ? null : span.parentSpanId,
    span_name: span.name,
    span_kind: KINDS[span.kind] ?? 'SPAN_KIND_UNSPECIFIED',
    start_time: nanosToIso(span.startTimeUnixNano),
    end_time: nanosToIso(span.endTimeUnixNano),
    status_code: STATUS[span.status.code] ?? 'STATUS_CODE_UNSET',
    ...(span.status.message === '' ? {} : { status_message: span.status.message }),
    attributes: nestAttributes(span.attributes),
    ...(span.events.length === 0
      ? {}
      : { events: span.events.map((e) => ({ name: e.name, timestamp: nanosToIso(e.timeUnixNano), attributes: nestAttributes(e.attributes) })) }),
    ...(span.links.length === 0
      ? {}
      : { links: span.links.map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: nestAttributes(l.attributes) })) }),
  };
}

/**
 * Agenta's SpansTree: spans keyed by span name under each parent's `spans` (a list when
 * siblings share a name). Spans whose parent the trace lacks sit at the top level.
 */
export function spansTree(spans: readonly CanonicalSpan[]): Json {
  const tree = assembleTrace(spans);
  const byId = new Map<string, CanonicalSpan>();
  for (const s of spans) if (!byId.has(s.spanId)) byId.set(s.spanId, s);
  const level = (ids: readonly string[]): Json => {
    const out: Json = {};
    for (const id of ids) {
      const span = byId.get(id)!;
      const children = tree.children.get(id) ?? [];
      const node = { ...agentaSpan(span), ...(children.length === 0 ? {} : { spans: level(children) }) };
      const existing = out[span.name];
      if (existing === undefined) out[span.name] = node;
      else if (Array.isArray(existing)) existing.push(node);
      else out[span.name] = [existing, node];
    }
    return out;
  };
  return level([...tree.roots, ...tree.syntheticChildren]);
}

async function traceSpans(ctx: AppContext, tenantId: string, traceId: string): Promise<readonly CanonicalSpan[]> {
  const notFound = () => errors.notFound(`trace ${traceId} not found (it appears once its window closes; ingest answers 202 before that)`);
  const summary = await ctx.queries.trace(tenantId, traceId);
  if (summary === null) throw notFound();
  const body = await ctx.queries.traceBody(tenantId, traceId, summary.revision);
  if (body === null) throw notFound();
  return body.spans;
}

/** The trace id of a path, normalized as ingest normalizes ids. */
const pathTraceId = (traceId: string) => traceIdOf('params.traceId', traceId);

/** The simple shape back from a simple trace's span. */
function simpleTraceOf(span: CanonicalSpan) {
  const attributes = nestAttributes(span.attributes);
  const ag: Json = isObject(attributes.ag) ? attributes.ag : {};
  const meta = isObject(ag.meta) ? { ...ag.meta } : {};
  const pickMeta = (key: string) => {
    const value = meta[key];
    delete meta[key];
    return value;
  };
  const origin = pickMeta('origin');
  const kind = pickMeta('kind');
  const channel = pickMeta('channel');
  const links = Object.fromEntries(
    span.links.map((l, i) => {
      const name = l.attributes.find((a) => a.key === 'link.name');
      return [name === undefined ? String(i) : String(toPlain(name.value)), { trace_id: l.traceId, span_id: l.spanId }];
    }),
  );
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    ...(origin === undefined ? {} : { origin }),
    ...(kind === undefined ? {} : { kind }),
    ...(channel === undefined ? {} : { channel }),
    ...(isObject(ag.tags) ? { tags: ag.tags } : {}),
    ...(Object.keys(meta).length === 0 ? {} : { meta }),
    data: ag.data ?? {},
    ...(isObject(ag.references) ? { references: ag.references } : {}),
    ...(span.links.length === 0 ? {} : { links }),
  };
}

const TAG = 'Agenta tracing (compatible paths)';
const tracesRequest: JsonSchema = {
  type: 'object',
  description: 'A Trace ({"trace": {"trace_id", "spans"}}) or Traces ({"traces": [...]} or {"traces": {"<trace_id>": {"spans"}}}); spans as in flat span ingest',
};
const simpleTraceAnswer = z.object({
  count: z.int(),
  trace: z.looseObject({ trace_id: z.string(), span_id: z.string() }),
});
const tracesAnswer = z.object({
  count: z.int(),
  traces: z.record(z.string(), z.unknown()).describe('by trace id: {spans: SpansTree}, spans keyed by span name, children under spans'),
});
const notAllowedAnswer = z.object({ error: z.literal('METHOD_NOT_ALLOWED'), message: z.string() });
const ERRORS_READ: readonly ErrorStatus[] = [400, 401, 404];
/** Whatever the path holds: a method that is not supported is refused the same way for any trace id. */
const anyTraceIdParams = z.object({ traceId: z.string() });

/** The operations of Agenta's paths under one prefix (`/api`, or none: the relative form). */
function agentaOperationsAt(prefix: (typeof AGENTA_PREFIXES)[number]) {
  const id = <N extends string>(name: N) => `agenta${name}${prefix === '' ? 'Relative' : ''}`;
  const accepted = { status: 202, description: 'durable in the log; analysed once the window closes', schema: flatIngestAnswer };
  const base = { tags: [TAG], security: 'agenta' } as const;
  return {
    ingestSpans: defineOperation({ ...base, method: 'post', path: `${prefix}/tracing/spans/ingest`, operationId: id('IngestSpans'), summary: 'Agenta structured span ingest (flat list or nested tree)', body: { schema: flatSpansRequest }, response: accepted, errors: ERRORS_INGEST }),
    ingestTraces: defineOperation({ ...base, method: 'post', path: `${prefix}/traces/ingest`, operationId: id('IngestTraces'), summary: 'Agenta Trace / Traces ingest', body: { schema: tracesRequest }, response: accepted, errors: ERRORS_INGEST }),
    createTraces: defineOperation({ ...base, method: 'post', path: `${prefix}/traces/`, operationId: id('CreateTraces'), summary: 'Agenta Trace / Traces create', body: { schema: tracesRequest }, response: accepted, errors: ERRORS_INGEST }),
    putTrace: defineOperation({ ...base, method: 'put', path: `${prefix}/traces/:traceId`, operationId: id('PutTrace'), summary: 'Agenta trace re-send: its spans replace the earlier copies', params: traceIdParams, body: { schema: tracesRequest }, response: accepted, errors: ERRORS_INGEST }),
    createSimpleTrace: defineOperation({ ...base, method: 'post', path: `${prefix}/simple/traces/`, operationId: id('CreateSimpleTrace'), summary: 'Agenta single-trace helper: ids generated, the trace closed at once', body: { schema: simpleTraceBody }, response: { status: 202, description: 'accepted: the created trace with its ids', schema: simpleTraceAnswer }, errors: ERRORS_INGEST }),
    getSimpleTrace: defineOperation({ ...base, method: 'get', path: `${prefix}/simple/traces/:traceId`, operationId: id('GetSimpleTrace'), summary: 'Agenta simple trace, read back', params: traceIdParams, response: { status: 200, description: 'the trace in the simple shape', schema: simpleTraceAnswer }, errors: ERRORS_READ }),
    // Refused before any credential is asked for: there is nothing to authorize.
    patchSimpleTrace: defineOperation({ tags: [TAG], security: 'none', method: 'patch', path: `${prefix}/simple/traces/:traceId`, operationId: id('PatchSimpleTrace'), summary: 'Not supported (append-only log): 405', params: anyTraceIdParams, response: { status: 405, description: 'not supported', schema: notAllowedAnswer, headers: { allow: { description: 'GET', schema: { type: 'string' } } } }, errors: [] }),
    deleteSimpleTrace: defineOperation({ tags: [TAG], security: 'none', method: 'delete', path: `${prefix}/simple/traces/:traceId`, operationId: id('DeleteSimpleTrace'), summary: 'Not supported (append-only log): 405', params: anyTraceIdParams, response: { status: 405, description: 'not supported', schema: notAllowedAnswer, headers: { allow: { description: 'GET', schema: { type: 'string' } } } }, errors: [] }),
    getTrace: defineOperation({ ...base, method: 'get', path: `${prefix}/traces/:traceId`, operationId: id('GetTrace'), summary: 'Agenta trace as a nested SpansTree, ag.* nested', params: traceIdParams, response: { status: 200, description: 'the trace', schema: tracesAnswer }, errors: ERRORS_READ }),
    getTracingTrace: defineOperation({ ...base, method: 'get', path: `${prefix}/tracing/traces/:traceId`, operationId: id('GetTracingTrace'), summary: 'Agenta trace as a nested SpansTree (same as GET /traces/{trace_id})', params: traceIdParams, response: { status: 200, description: 'the trace', schema: tracesAnswer }, errors: ERRORS_READ }),
    otlp: defineOperation({ ...base, method: 'post', path: `${prefix}/otlp/v1/traces`, operationId: id('Otlp'), summary: 'Agenta OTLP/HTTP endpoint (protobuf or JSON)', body: { schema: otlpJsonRequest, protobuf: true }, response: { status: 200, description: 'OTLP ExportTraceServiceResponse', schema: otlpAnswer, protobuf: true }, errors: ERRORS_INGEST }),
  };
}

export const agentaOperations = Object.fromEntries(AGENTA_PREFIXES.map((prefix) => [prefix, agentaOperationsAt(prefix)])) as Record<(typeof AGENTA_PREFIXES)[number], ReturnType<typeof agentaOperationsAt>>;

/** Agenta's ingest and OTLP paths (the ingest role). */
export function agentaIngestRoutes(ctx: IngestContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    for (const prefix of AGENTA_PREFIXES) {
      const ops = agentaOperations[prefix];
      route(ops.ingestSpans, async ({ tenantId, body }) => ingestFlatBody(ctx, tenantId, body, FLAT_OPTIONS));
      for (const op of [ops.ingestTraces, ops.createTraces]) {
        route(op, async ({ tenantId, body }) => ingestFlatBody(ctx, tenantId, tracesBody(body), FLAT_OPTIONS));
      }
      route(ops.putTrace, async ({ tenantId, params, body }) => ingestFlatBody(ctx, tenantId, putBody(pathTraceId(params.traceId), body), FLAT_OPTIONS));
      route(ops.createSimpleTrace, async ({ tenantId, body: { trace } }) => {
        const traceId = hex(16);
        const spanId = hex(8);
        await ingestFlatBody(ctx, tenantId, { spans: [simpleTraceSpan(trace, traceId, spanId)] }, FLAT_OPTIONS);
        // The trace is whole: close its window now rather than after the settle time.
        const marker = { tenantId, traceId, kind: 'analyze' as const, requestId: randomUUID(), receivedAtMs: Date.now() };
        await appendRaw(ctx.log, [await markerRecord(ctx.codecs, marker)]);
        const { links, references } = trace;
        return {
          count: 1,
          trace: { ...trace, trace_id: traceId, span_id: spanId, ...(links === undefined ? {} : { links }), ...(references === undefined ? {} : { references }) },
        };
      });
      for (const [op, method] of [[ops.patchSimpleTrace, 'PATCH'], [ops.deleteSimpleTrace, 'DELETE']] as const) {
        route(op, async (_input, _request, reply) => {
          void reply.header('allow', 'GET');
          return {
            error: 'METHOD_NOT_ALLOWED' as const,
            message: `${method} of a simple trace is not supported: tracefold's log is append-only; send a new simple trace, or PUT /traces/{trace_id} to re-send its spans`,
          };
        });
      }
    }

    // OTLP in its own scope: its content-type parsers replace the JSON parser for this path only.
    await app.register(async (otlp) => {
      otlpContentTypes(otlp, ctx.config.maxBodyBytes);
      const route = routesOf(otlp, ctx);
      for (const prefix of AGENTA_PREFIXES) {
        route(agentaOperations[prefix].otlp, async ({ tenantId }, request, reply) => {
          const outcome = await ingestOtlp(ctx, request, tenantId);
          if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
          return otlpResponse(outcome);
        });
      }
    });
  };
}

/** Agenta's read paths (the api role). */
export function agentaQueryRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    for (const prefix of AGENTA_PREFIXES) {
      const ops = agentaOperations[prefix];
      route(ops.getSimpleTrace, async ({ tenantId, params }) => {
        const spans = await traceSpans(ctx, tenantId, pathTraceId(params.traceId));
        const root = spans.find((s) => s.parentSpanId === '') ?? spans[0]!;
        return { count: 1, trace: simpleTraceOf(root) };
      });
      for (const op of [ops.getTrace, ops.getTracingTrace]) {
        route(op, async ({ tenantId, params }) => {
          const traceId = pathTraceId(params.traceId);
          return { count: 1, traces: { [traceId]: { spans: spansTree(await traceSpans(ctx, tenantId, traceId)) } } };
        });
      }
    }
  };
}
