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
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ingestOtlp, isProtobuf, otlpContentTypes, protobufResponse, type IngestOutcome } from '../../../ingest/routes.js';
import { PROTOBUF_CONTENT_TYPE } from '../../../ingest/otlp/proto.js';
import type { SessionService } from '../../../ingest/sessions/routes.js';
import { sessionParams } from '../../../ingest/sessions/schema.js';
import { authenticate } from '../../../http/auth.js';
import type { AppContext } from '../../../http/context.js';
import { parseWith } from '../../../http/validate.js';

const BODY_LIMIT_SETTING = 'TRACING_MAX_BODY_SIZE_MB';
const PREFIX = '/api/client/v1';

/** Cognipeer Console's OTLP answer. */
export function cognipeerOtlpAnswer(outcome: IngestOutcome) {
  return {
    success: true,
    sessionsIngested: new Set(outcome.acceptedSpans.map((s) => s.traceId)).size,
    spansProcessed: outcome.accepted,
    eventsStored: outcome.acceptedSpans.filter((s) => s.parentSpanId !== '').length,
    ...(outcome.rejected.length === 0 ? {} : { rejected: outcome.rejected }),
  };
}

export function cognipeerRoutes(ctx: AppContext, sessions: SessionService) {
  const limit = ctx.config.tracingMaxBodyBytes;
  const options = { bodyLimit: limit, config: { bodyLimitSetting: BODY_LIMIT_SETTING } };
  const caller = async (request: FastifyRequest, withSession: boolean) => {
    const sessionId = withSession ? parseWith(sessionParams, request.params, 'params').sessionId : '';
    const { tenantId } = await authenticate(ctx, request);
    return { tenantId, sessionId };
  };

  return async (app: FastifyInstance) => {
    app.post(`${PREFIX}/tracing/sessions`, options, async (request, reply) => {
      const { tenantId } = await caller(request, false);
      const a = await sessions.batch(tenantId, request.body);
      return reply.code(202).send({ success: true, sessionId: a.sessionId, eventsStored: a.eventsStored, traceId: a.traceId });
    });
    app.post(`${PREFIX}/tracing/sessions/stream/:sessionId/start`, options, async (request, reply) => {
      const { tenantId, sessionId } = await caller(request, true);
      const { answer: a, created } = await sessions.start(tenantId, sessionId, request.body, { reopenEnded: true });
      return reply.code(created ? 201 : 200).send({ success: true, sessionId: a.sessionId, status: a.status, traceId: a.traceId });
    });
    app.post(`${PREFIX}/tracing/sessions/stream/:sessionId/events`, options, async (request, reply) => {
      const { tenantId, sessionId } = await caller(request, true);
      const a = await sessions.events(tenantId, sessionId, request.body);
      return reply.code(202).send({ success: true, sessionId: a.sessionId, totalEvents: a.totalEvents, eventsStored: a.eventsStored });
    });
    app.post(`${PREFIX}/tracing/sessions/stream/:sessionId/end`, options, async (request) => {
      const { tenantId, sessionId } = await caller(request, true);
      const a = await sessions.end(tenantId, sessionId, request.body);
      return { success: true, sessionId: a.sessionId, status: a.status, durationMs: a.durationMs, traceId: a.traceId };
    });

    await app.register(async (otlp) => {
      otlpContentTypes(otlp, limit);
      otlp.post(`${PREFIX}/traces`, options, async (request, reply) => {
        const { tenantId } = await caller(request, false);
        const outcome = await ingestOtlp(ctx, request, tenantId);
        if (isProtobuf(request)) return reply.code(200).type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
        return reply.code(200).send(cognipeerOtlpAnswer(outcome));
      });
    });
  };
}
