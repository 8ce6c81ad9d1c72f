/**
 * agent-strace streaming into tracefold.
 *
 * `agent-strace watch --stream-to URL` POSTs NDJSON to URL as given, and with `--stream-otlp`
 * OTLP JSON to URL + "/v1/traces"; neither can send a header. So the credential goes in
 * the URL's path (a query string would not survive "/v1/traces" being appended):
 *
 *   POST /api/agent-strace/:token                        NDJSON events            202 {count, links}
 *   POST /api/agent-strace/:token/v1/traces              OTLP JSON or protobuf    200 OTLP response
 *                                                        (or NDJSON: agent-strace's example URL ends in /v1/traces)
 *   POST /api/agent-strace/:token/v1/traces/v1/traces    OTLP, for a URL given with /v1/traces and --stream-otlp
 *   POST /api/agent-strace/:token/v1/metrics             OTLP metrics (see metricsAnswer)
 *   POST /v1/metrics                                     the same, credential in the header
 *
 * `:token` is an ingest token (POST /api/v1/tenants/:tenantId/ingest-tokens, api role): a
 * signed token that can only append spans, through these paths, until it expires (1 hour
 * by default, 7 days at most); it dies with the API key it was made from. API keys and
 * ordinary tokens are refused here, so a long-lived credential never sits in a URL, and an
 * ingest token is refused everywhere else. Fastify's request logging is off and route
 * labels (metrics) use the route pattern, so the token is not written to logs or metrics.
 * Risks, written down in the README: a URL is kept in shell history, process lists and
 * proxy logs; whoever has it can append spans to the tenant (not read anything) until it
 * expires or its key is revoked.
 *
 * The events go through the flat-span pipeline (agent-strace-events.ts); a batch with a
 * session_end closes that session's window at once.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { appendRaw, markerRecord } from '../../../ingest/append-raw.js';
import { ingestFlatBody } from '../../../ingest/flat/routes.js';
import { flatIngestAnswer, otlpAnswer } from '../../../ingest/contract.js';
import { ingestOtlp, isProtobuf, otlpContentTypes, otlpResponse, protobufResponse } from '../../../ingest/routes.js';
import { PROTOBUF_CONTENT_TYPE } from '../../../ingest/otlp/proto.js';
import { errors } from '../../../model/errors.js';
import type { AppContext, IngestContext } from '../../../http/context.js';
import { defineOperation, routesOf, type ErrorStatus, type JsonSchema } from '../../../http/route.js';
import { tenantParams } from '../../../http/validate.js';
import { parseNdjson, StraceEventError, straceEventsToSpans } from './agent-strace-events.js';

export const STREAM_PREFIX = '/api/agent-strace';
const NDJSON = 'application/x-ndjson';

export const tokenParams = z.object({ token: z.string().min(1, 'must not be empty').max(4096, 'must be at most 4096 characters') });
export const ingestTokenBody = z.object({
  ttl_seconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(60, 'must be at least 60')
    .max(7 * 86_400, 'must be at most 604800 (7 days)')
    .default(3600),
});

interface NdjsonBody {
  readonly ndjson: string;
}
const isNdjson = (body: unknown): body is NdjsonBody => typeof body === 'object' && body !== null && 'ndjson' in body;

async function ingestNdjson(ctx: IngestContext, tenantId: string, text: string) {
  let batch;
  try {
    batch = straceEventsToSpans(parseNdjson(text));
  } catch (error) {
    if (error instanceof StraceEventError) throw errors.invalidRequest(error.message);
    throw error;
  }
  const answer = await ingestFlatBody(ctx, tenantId, { spans: batch.spans });
  const receivedAtMs = Date.now();
  const markers = await Promise.all(
    [...new Set(batch.endedTraceIds)].map((traceId) =>
      markerRecord(ctx.codecs, { tenantId, traceId, kind: 'session_end', requestId: randomUUID(), receivedAtMs }),
    ),
  );
  await appendRaw(ctx.log, markers);
  return answer;
}

/** Counts an OTLP JSON metrics request's data points. */
function dataPoints(body: unknown): number {
  let count = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'dataPoints' || k === 'data_points') count += Array.isArray(child) ? child.length : 0;
        else walk(child);
      }
    }
  };
  walk(body);
  return count;
}

/**
 * tracefold computes its own per-run metrics from spans and keeps no OTLP metrics; the
 * request is accepted (200, so exporters do not retry it) and every data point is reported
 * as rejected in OTLP's partial success, with the reason: nothing is silently dropped.
 */
function metricsAnswer(request: FastifyRequest) {
  const body = request.body as { format: 'json' | 'protobuf'; bytes: Buffer } | undefined;
  let rejected = 0;
  if (body?.format === 'json' && body.bytes.length > 0) {
    try {
      rejected = dataPoints(JSON.parse(body.bytes.toString('utf8')));
    } catch (error) {
      throw errors.invalidRequest(`body: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return {
    partialSuccess: {
      rejectedDataPoints: String(rejected),
      errorMessage: 'tracefold keeps no OTLP metrics: it computes per-run metrics from spans (GET /api/v1/tenants/{tenantId}/traces/{traceId}, metrics rollups)',
    },
  };
}

const TAG = 'agent-strace (compatible paths)';
/** A token in the path may be longer than the router takes (414), or than Node's request line limit (431). */
const ERRORS_URL_TOKEN: readonly ErrorStatus[] = [400, 401, 413, 414, 415, 429, 431, 503];
const streamBody: JsonSchema = { type: 'string', description: 'application/x-ndjson, or OTLP JSON / protobuf' };
const metricsAnswerSchema = z.object({ partialSuccess: z.object({ rejectedDataPoints: z.string(), errorMessage: z.string() }) });

/** OTLP (or NDJSON) through a stream URL; also served where the URL given already ended in /v1/traces. */
const streamOtlp = defineOperation({
  method: 'post',
  path: `${STREAM_PREFIX}/:token/v1/traces`,
  operationId: 'agentStraceOtlp',
  summary: 'agent-strace OTLP (watch --stream-to URL --stream-otlp), or NDJSON',
  description: 'NDJSON is answered as on the stream path (202 {count, links}).',
  tags: [TAG],
  security: 'url-token',
  params: tokenParams,
  body: { schema: streamBody },
  response: { status: 200, description: 'accepted', schema: otlpAnswer, protobuf: true },
  errors: ERRORS_URL_TOKEN,
});

export const agentStraceOperations = {
  createIngestToken: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/ingest-tokens',
    operationId: 'createIngestToken',
    summary: 'An ingest token for a stream URL (agent-strace watch --stream-to), for clients that cannot send headers',
    description: 'Append-only, through /api/agent-strace/{token} paths only, until it expires (ttl_seconds, 60 to 604800, default 3600) or its API key is revoked.',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: ingestTokenBody, required: false },
    response: {
      status: 201,
      description: 'created',
      schema: z.object({ token: z.string(), scope: z.literal('ingest'), expires_at: z.iso.datetime(), stream_path: z.string() }),
    },
    errors: [400, 401, 404],
  }),
  agentStraceStream: defineOperation({
    method: 'post',
    path: `${STREAM_PREFIX}/:token`,
    operationId: 'agentStraceStream',
    summary: 'agent-strace NDJSON events (watch --stream-to URL)',
    tags: [TAG],
    security: 'url-token',
    params: tokenParams,
    body: { schema: streamBody },
    response: { status: 202, description: 'accepted', schema: flatIngestAnswer },
    errors: ERRORS_URL_TOKEN,
  }),
  agentStraceOtlp: streamOtlp,
  agentStraceOtlpDoubled: defineOperation({
    ...streamOtlp,
    path: `${STREAM_PREFIX}/:token/v1/traces/v1/traces`,
    operationId: 'agentStraceOtlpDoubled',
    summary: 'agent-strace OTLP when the URL given already ends in /v1/traces',
  }),
  agentStraceMetrics: defineOperation({
    method: 'post',
    path: `${STREAM_PREFIX}/:token/v1/metrics`,
    operationId: 'agentStraceMetrics',
    summary: 'OTLP metrics through a stream URL: accepted, data points reported rejected (not kept)',
    tags: [TAG],
    security: 'url-token',
    params: tokenParams,
    body: { schema: streamBody },
    response: { status: 200, description: 'accepted', schema: metricsAnswerSchema },
    errors: ERRORS_URL_TOKEN,
  }),
  otlpMetrics: defineOperation({
    method: 'post',
    path: '/v1/metrics',
    operationId: 'otlpMetrics',
    summary: 'OTLP metrics: accepted, data points reported rejected (tracefold computes its own per-run metrics)',
    tags: ['ingest'],
    security: 'tenant',
    openIngest: true,
    body: { schema: { type: 'object' }, protobuf: true },
    response: { status: 200, description: 'OTLP ExportMetricsServiceResponse (JSON)', schema: metricsAnswerSchema },
    errors: [400, 401, 413, 415],
  }),
};

/** The stream paths and /v1/metrics (ingest role). */
export function agentStraceIngestRoutes(ctx: IngestContext) {
  const ops = agentStraceOperations;
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      otlpContentTypes(scope, ctx.config.maxBodyBytes);
      // NDJSON beside OTLP's content types, in this scope only.
      scope.addContentTypeParser(NDJSON, { parseAs: 'string' }, async (_request: FastifyRequest, text: string | Buffer) => ({ ndjson: String(text) }));
      const route = routesOf(scope, ctx);

      route(ops.agentStraceStream, async ({ tenantId, body }) => {
        if (!isNdjson(body)) throw errors.unsupportedMediaType(`send ${NDJSON} (agent-strace watch --stream-to); OTLP goes to ${STREAM_PREFIX}/{token}/v1/traces`);
        return ingestNdjson(ctx, tenantId, body.ndjson);
      });
      for (const op of [ops.agentStraceOtlp, ops.agentStraceOtlpDoubled]) {
        route(op, async ({ tenantId, body }, request, reply) => {
          if (isNdjson(body)) return reply.code(202).send(await ingestNdjson(ctx, tenantId, body.ndjson));
          const outcome = await ingestOtlp(ctx, request, tenantId);
          if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
          return otlpResponse(outcome);
        });
      }
      route(ops.agentStraceMetrics, async (_input, request) => metricsAnswer(request));
      route(ops.otlpMetrics, async (_input, request) => metricsAnswer(request));
    });
  };
}

/** Issuing ingest tokens (api role). */
export function agentStraceTokenRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    routesOf(app, ctx)(agentStraceOperations.createIngestToken, async ({ caller, body: { ttl_seconds: ttl } }) => {
      const { token, expiresAtMs } = ctx.tokens.issueIngest(caller, ttl);
      return {
        token,
        scope: 'ingest' as const,
        expires_at: new Date(expiresAtMs).toISOString(),
        stream_path: `${STREAM_PREFIX}/${token}`,
      };
    });
  };
}
