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
import { ingestOtlp, isProtobuf, otlpContentTypes, otlpResponse, protobufResponse } from '../../../ingest/routes.js';
import { PROTOBUF_CONTENT_TYPE } from '../../../ingest/otlp/proto.js';
import { errors } from '../../../model/errors.js';
import { authenticate, authenticateForTenant, authenticateIngestToken, openIngestTenant } from '../../../http/auth.js';
import type { AppContext } from '../../../http/context.js';
import { parseWith, tenantParams } from '../../../http/validate.js';
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

async function tokenTenant(ctx: AppContext, request: FastifyRequest): Promise<string> {
  const { token } = parseWith(tokenParams, request.params, 'params');
  return (await authenticateIngestToken(ctx, token)).tenantId;
}

async function ingestNdjson(ctx: AppContext, tenantId: string, text: string) {
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

/** The stream paths and /v1/metrics (ingest role). */
export function agentStraceIngestRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      otlpContentTypes(scope, ctx.config.maxBodyBytes);
      // NDJSON beside OTLP's content types, in this scope only.
      scope.addContentTypeParser(NDJSON, { parseAs: 'string' }, async (_request: FastifyRequest, text: string | Buffer) => ({ ndjson: String(text) }));

      scope.post(`${STREAM_PREFIX}/:token`, async (request, reply) => {
        const tenantId = await tokenTenant(ctx, request);
        if (!isNdjson(request.body)) throw errors.unsupportedMediaType(`send ${NDJSON} (agent-strace watch --stream-to); OTLP goes to ${STREAM_PREFIX}/{token}/v1/traces`);
        return reply.code(202).send(await ingestNdjson(ctx, tenantId, request.body.ndjson));
      });
      for (const path of [`${STREAM_PREFIX}/:token/v1/traces`, `${STREAM_PREFIX}/:token/v1/traces/v1/traces`]) {
        scope.post(path, async (request, reply) => {
          const tenantId = await tokenTenant(ctx, request);
          if (isNdjson(request.body)) return reply.code(202).send(await ingestNdjson(ctx, tenantId, request.body.ndjson));
          const outcome = await ingestOtlp(ctx, request, tenantId);
          if (isProtobuf(request)) return reply.code(200).type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
          return reply.code(200).send(otlpResponse(outcome));
        });
      }
      scope.post(`${STREAM_PREFIX}/:token/v1/metrics`, async (request) => {
        await tokenTenant(ctx, request);
        return metricsAnswer(request);
      });
      scope.post('/v1/metrics', async (request) => {
        if (openIngestTenant(ctx, request) === null) await authenticate(ctx, request);
        return metricsAnswer(request);
      });
    });
  };
}

/** Issuing ingest tokens (api role). */
export function agentStraceTokenRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post('/api/v1/tenants/:tenantId/ingest-tokens', async (request, reply) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      const { ttl_seconds: ttl } = parseWith(ingestTokenBody, request.body ?? {}, 'body');
      const caller = await authenticateForTenant(ctx, request, tenantId);
      const { token, expiresAtMs } = ctx.tokens.issueIngest(caller, ttl);
      return reply.code(201).send({
        token,
        scope: 'ingest',
        expires_at: new Date(expiresAtMs).toISOString(),
        stream_path: `${STREAM_PREFIX}/${token}`,
      });
    });
  };
}
