/**
 * Cognipeer Console's tracing API on its own paths, tenant from the credential
 * (`Authorization: Bearer <tracefold API key or token>`), answering in its shapes
 * (`{success, ...}`, camelCase):
 *
 *   POST /api/client/v1/tracing/sessions                          a whole session          202 {success, sessionId, eventsStored, traceId}
 *   POST /api/client/v1/tracing/sessions/stream/:sessionId/start  start streaming          201 (200 if it was open or has ended: reopened) {success, sessionId, status, traceId}
 *   POST /api/client/v1/tracing/sessions/stream/:sessionId/events append {event}/{events}  202 {success, sessionId, totalEvents, eventsStored}
 *   POST /api/client/v1/tracing/sessions/stream/:sessionId/end    end                      200 {success, sessionId, status, durationMs, traceId}
 *   POST /api/client/v1/traces                                    OTLP/HTTP JSON (or protobuf) 200 {success, sessionsIngested, spansProcessed, eventsStored}
 *
 * The sessions are tracefold's session service (src/ingest/sessions), shared with its own
 * paths. Differences from tracefold's paths, so each keeps Cognipeer Console's status codes
 * (400, 401, 404, 413, 429):
 * - starting a session that has ended opens it again (200), where tracefold's own path
 *   answers 409: Cognipeer Console has no 409, and its own document starts streaming a session id
 *   its batch example has just sent. The trace goes on: its closed revision stays, the new
 *   events make the next revision;
 * - the body limit is Cognipeer Console's `TRACING_MAX_BODY_SIZE_MB` (default 10), 413 above it;
 * - `totalEvents` counts an event id sent again once (as tracefold's own paths do).
 *
 * On /api/client/v1/traces, each trace is a session: `sessionsIngested` counts the distinct
 * trace ids accepted, `spansProcessed` the spans accepted, `eventsStored` those that are not
 * a trace's root (a span with a parent becomes an event; the root is the session). Spans
 * that fail validation are listed in `rejected` beside the counts; a request with none valid
 * is a 400 naming the first fields.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ERRORS_INGEST, otlpJsonRequest } from '../../../ingest/contract.js';
import { ingestOtlp, isProtobuf, otlpContentTypes, protobufResponse, type IngestOutcome } from '../../../ingest/routes.js';
import { PROTOBUF_CONTENT_TYPE } from '../../../ingest/otlp/proto.js';
import type { SessionService } from '../../../ingest/sessions/routes.js';
import { batchSchema, endSchema, eventsSchema, sessionParams, startSchema } from '../../../ingest/sessions/schema.js';
import type { IngestContext } from '../../../http/context.js';
import { defineOperation, routesOf } from '../../../http/route.js';

const BODY_LIMIT_SETTING = 'TRACING_MAX_BODY_SIZE_MB';
const PREFIX = '/api/client/v1';

/** Cognipeer Console's OTLP answer. */
export function cognipeerOtlpAnswer(outcome: IngestOutcome) {
  return {
    success: true as const,
    sessionsIngested: new Set(outcome.acceptedSpans.map((s) => s.traceId)).size,
    spansProcessed: outcome.accepted,
    eventsStored: outcome.acceptedSpans.filter((s) => s.parentSpanId !== '').length,
    ...(outcome.rejected.length === 0 ? {} : { rejected: outcome.rejected }),
  };
}

const TAG = 'sessions (compatible paths)';
/** The seed's answers: `success` and the fields it names, camelCase. */
const seedAnswer = <S extends z.ZodRawShape>(shape: S) => z.object({ success: z.literal(true), ...shape });

export const cognipeerOperations = {
  sendSessionCompat: defineOperation({
    method: 'post',
    path: `${PREFIX}/tracing/sessions`,
    operationId: 'sendSessionCompat',
    summary: 'Send a whole session (compatible path)',
    tags: [TAG],
    security: 'tenant',
    body: { schema: batchSchema },
    response: { status: 202, description: 'accepted', schema: seedAnswer({ sessionId: z.string(), eventsStored: z.int(), traceId: z.string() }) },
    errors: ERRORS_INGEST,
  }),
  startSessionCompat: defineOperation({
    method: 'post',
    path: `${PREFIX}/tracing/sessions/stream/:sessionId/start`,
    operationId: 'startSessionCompat',
    summary: 'Stream: start a session (compatible path)',
    description: "Starting a session that has ended opens it again (200) on this path: the seed has no 409; the new events make the trace's next revision.",
    tags: [TAG],
    security: 'tenant',
    params: sessionParams,
    body: { schema: startSchema, required: false },
    response: {
      status: 201,
      also: [200],
      description: 'started (200: it was open, or has ended and is open again)',
      schema: seedAnswer({ sessionId: z.string(), status: z.string(), traceId: z.string() }),
    },
    errors: ERRORS_INGEST,
  }),
  appendSessionEventsCompat: defineOperation({
    method: 'post',
    path: `${PREFIX}/tracing/sessions/stream/:sessionId/events`,
    operationId: 'appendSessionEventsCompat',
    summary: 'Stream: append events (compatible path)',
    tags: [TAG],
    security: 'tenant',
    params: sessionParams,
    body: { schema: eventsSchema },
    response: { status: 202, description: 'accepted', schema: seedAnswer({ sessionId: z.string(), totalEvents: z.int(), eventsStored: z.int() }) },
    errors: ERRORS_INGEST,
  }),
  endSessionCompat: defineOperation({
    method: 'post',
    path: `${PREFIX}/tracing/sessions/stream/:sessionId/end`,
    operationId: 'endSessionCompat',
    summary: 'Stream: end a session (compatible path)',
    tags: [TAG],
    security: 'tenant',
    params: sessionParams,
    body: { schema: endSchema, required: false },
    response: {
      status: 200,
      description: 'ended',
      schema: seedAnswer({ sessionId: z.string(), status: z.string(), durationMs: z.number().nullable(), traceId: z.string() }),
    },
    errors: ERRORS_INGEST,
  }),
  sendOtlpCompat: defineOperation({
    method: 'post',
    path: `${PREFIX}/traces`,
    operationId: 'sendOtlpCompat',
    summary: "OTLP/HTTP JSON ingest answering in the seed's shape (compatible path)",
    description:
      'Each trace is a session: sessionsIngested counts distinct trace ids, spansProcessed the spans accepted, eventsStored the spans with a parent. Body limit TRACING_MAX_BODY_SIZE_MB.',
    tags: [TAG],
    security: 'tenant',
    body: { schema: otlpJsonRequest, protobuf: true },
    response: {
      status: 200,
      description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)',
      protobuf: true,
      schema: seedAnswer({
        sessionsIngested: z.int(),
        spansProcessed: z.int(),
        eventsStored: z.int(),
        rejected: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
      }),
    },
    errors: ERRORS_INGEST,
  }),
};

export function cognipeerRoutes(ctx: IngestContext, sessions: SessionService) {
  const limit = ctx.config.tracingMaxBodyBytes;
  const options = { bodyLimit: limit, config: { bodyLimitSetting: BODY_LIMIT_SETTING } };
  const ops = cognipeerOperations;

  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    route(
      ops.sendSessionCompat,
      async ({ tenantId, body }) => {
        const a = await sessions.batch(tenantId, body);
        return { success: true as const, sessionId: a.sessionId, eventsStored: a.eventsStored, traceId: a.traceId };
      },
      options,
    );
    route(
      ops.startSessionCompat,
      async ({ tenantId, params: { sessionId }, body }, _request, reply) => {
        const { answer: a, created } = await sessions.start(tenantId, sessionId, body, { reopenEnded: true });
        if (!created) void reply.code(200);
        return { success: true as const, sessionId: a.sessionId, status: a.status, traceId: a.traceId };
      },
      options,
    );
    route(
      ops.appendSessionEventsCompat,
      async ({ tenantId, params: { sessionId }, body }) => {
        const a = await sessions.events(tenantId, sessionId, body);
        return { success: true as const, sessionId: a.sessionId, totalEvents: a.totalEvents, eventsStored: a.eventsStored };
      },
      options,
    );
    route(
      ops.endSessionCompat,
      async ({ tenantId, params: { sessionId }, body }) => {
        const a = await sessions.end(tenantId, sessionId, body);
        return { success: true as const, sessionId: a.sessionId, status: a.status, durationMs: a.durationMs, traceId: a.traceId };
      },
      options,
    );

    await app.register(async (otlp) => {
      otlpContentTypes(otlp, limit);
      routesOf(otlp, ctx)(
        ops.sendOtlpCompat,
        async ({ tenantId }, request, reply) => {
          const outcome = await ingestOtlp(ctx, request, tenantId);
          if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
          return cognipeerOtlpAnswer(outcome);
        },
        options,
      );
    });
  };
}
