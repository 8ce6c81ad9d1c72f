/**
 * The session-events API (seed 003): a session of an agent, sent whole or streamed, becomes
 * one trace (convert.ts).
 *
 * Tenant-scoped (tracefold's own paths; answers in snake_case):
 *   POST /api/v1/tenants/:tenantId/sessions                       batch: a whole session with its events
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/start      stream: create the session
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/events     stream: append {event} or {events: [...]}
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/end        stream: close the session
 *   GET  /api/v1/tenants/:tenantId/sessions/:sessionId            the session's registry record
 *
 * The seed's paths, tenant from the credential, answering in the seed's shapes
 * ({success, sessionId, ...}, camelCase):
 *   POST /api/client/v1/tracing/sessions
 *   POST /api/client/v1/tracing/sessions/stream/:sessionId/start | events | end
 *
 * Semantics:
 * - Batch is idempotent: it appends, as one append on the trace's key (so they stay in
 *   order), a session_reset marker (carrying a digest of the batch), the root span, the
 *   events' spans and a session_end marker. The same batch sent again changes nothing. A
 *   different batch for the session replaces its event list: the trace stage drops the
 *   spans the session's earlier batches brought (spans other routes sent to the same trace
 *   stay), takes the new ones and closes the window at once; after the trace closed, that
 *   is its next revision (the earlier one's detections are superseded), while it is still
 *   open, the spans are replaced within the revision.
 * - Streaming: start registers the session (open) and appends its root span; events append
 *   spans; end re-emits the root span with its end time and status and appends a
 *   session_end marker, so the window closes as soon as the trace stage reads it rather
 *   than after the inactivity gap. Events or end for a session that is unknown or already
 *   ended answer 404; start of an ended session answers 409 (re-send it as a batch to
 *   replace it); start of an open session answers it again (a retried start is harmless).
 * - Every write is durable before the answer: raw records first (the data), then the
 *   session registry (tracefold.sessions.v1) with read-your-writes, so a start followed at
 *   once by events finds the session. A failure between the two leaves data that a retry
 *   re-sends identically (span ids are deterministic), never a registered session whose
 *   data is missing.
 * - Status codes: batch and events 202 (accepted, analysed once the window closes), start
 *   201 (200 when the session was already open), end 200. 400s name the field's path; body
 *   size limits are the server's.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, authenticateForTenant } from '../../api/auth.js';
import type { AppContext } from '../../api/context.js';
import { parseWith, tenantParams } from '../../api/validate.js';
import { errors, TracefoldError } from '../../model/errors.js';
import { HEADER } from '../../model/record-keys.js';
import type { SessionRecord } from '../../model/session.js';
import type { WindowMarkerKind } from '../../model/span.js';
import { appendRaw, markerRecord, spanRecord } from '../append-raw.js';
import { checkSpanKeyParts } from '../key-parts.js';
import { admitIngest } from '../limits/index.js';
import { nanosToMs } from '../flat/time.js';
import {
  eventsToSpans,
  sessionRootSpan,
  sessionRootSpanId,
  SessionInputError,
  sessionTime,
  sessionTraceId,
  type SessionIdentity,
} from './convert.js';
import { findSession, SessionLocks, writeSession } from './registry.js';
import { batchSchema, endSchema, eventsSchema, sessionParams, startSchema, tenantSessionParams } from './schema.js';

/** What every session route answers, before it is shaped for its path family. */
export interface SessionAnswer {
  readonly sessionId: string;
  readonly traceId: string;
  readonly state: SessionRecord['state'];
  readonly status: string;
  /** Events accepted by this request. */
  readonly eventsStored: number;
  /** Events the session holds now. */
  readonly totalEvents: number;
  readonly durationMs: number | null;
}

const msToNs = (ms: number) => BigInt(ms) * 1_000_000n;

function answerOf(record: SessionRecord, eventsStored: number): SessionAnswer {
  return {
    sessionId: record.sessionId,
    traceId: record.traceId,
    state: record.state,
    status: record.status,
    eventsStored,
    totalEvents: record.eventCount,
    durationMs: record.endedAtMs === null ? null : Math.max(0, record.endedAtMs - record.startedAtMs),
  };
}

/** tracefold's own shape (snake_case, as the rest of the API). */
export function presentSession(a: SessionAnswer) {
  return {
    session_id: a.sessionId,
    trace_id: a.traceId,
    state: a.state,
    status: a.status,
    events_stored: a.eventsStored,
    total_events: a.totalEvents,
    duration_ms: a.durationMs,
  };
}

function presentRecord(r: SessionRecord) {
  return {
    session_id: r.sessionId,
    trace_id: r.traceId,
    root_span_id: r.rootSpanId,
    state: r.state,
    mode: r.mode,
    status: r.status,
    total_events: r.eventCount,
    started_at: new Date(r.startedAtMs).toISOString(),
    ended_at: r.endedAtMs === null ? null : new Date(r.endedAtMs).toISOString(),
    updated_at: new Date(r.updatedAtMs).toISOString(),
  };
}

/** Input problems found while converting become 400s naming the field. */
async function converting<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SessionInputError) throw errors.invalidRequest(error.message);
    throw error;
  }
}

/** A session span with a key part over its limit (key-parts.ts) is a 400 naming the field. */
const refuseSessionSpan = (message: string) => errors.invalidRequest(`body: ${message}`);

function notFound(sessionId: string, record: SessionRecord | null): TracefoldError {
  return record === null
    ? errors.notFound(`session ${sessionId} not found: start it first (POST .../${sessionId}/start)`)
    : errors.notFound(`session ${sessionId} has ended; it accepts no more events (re-send it as a batch to replace it)`);
}

function identityOf(record: SessionRecord): SessionIdentity {
  return {
    tenantId: record.tenantId,
    sessionId: record.sessionId,
    traceId: record.traceId,
    rootSpanId: record.rootSpanId,
    fields: JSON.parse(record.sessionJson) as Record<string, unknown>,
  };
}

function marker(tenantId: string, traceId: string, kind: WindowMarkerKind, requestId: string, receivedAtMs: number) {
  return { tenantId, traceId, kind, requestId, receivedAtMs };
}

export class SessionService {
  private readonly locks = new SessionLocks();

  constructor(private readonly ctx: AppContext) {}

  /** A whole session: replaces whatever the session's trace held, then closes it. */
  async batch(tenantId: string, body: unknown): Promise<SessionAnswer> {
    const { events, ...fields } = parseWith(batchSchema, body, 'body');
    const receivedAtMs = Date.now();
    return this.locks.run(tenantId, fields.sessionId, () =>
      converting(async () => {
        const { ctx } = this;
        const identity: SessionIdentity = {
          tenantId,
          sessionId: fields.sessionId,
          traceId: sessionTraceId(fields.sessionId, fields.traceId),
          rootSpanId: sessionRootSpanId(fields.sessionId, fields.rootSpanId),
          fields,
        };
        const startNs = sessionTime('body.startedAt', fields.startedAt) ?? msToNs(receivedAtMs);
        const spans = eventsToSpans(identity, events, { firstOrdinal: 0, baseNs: startNs, receivedAtMs, path: 'body.events' });
        checkSpanKeyParts(spans, refuseSessionSpan);
        admitIngest(ctx, tenantId, spans.length);
        const lastEnd = spans.reduce((max, s) => (s.endTimeUnixNano > max ? s.endTimeUnixNano : max), startNs);
        const endNs =
          sessionTime('body.endedAt', fields.endedAt) ??
          (fields.durationMs !== undefined ? startNs + BigInt(Math.round(fields.durationMs * 1e6)) : lastEnd);
        if (endNs < startNs) throw new SessionInputError('body.endedAt', 'before the session start');
        const status = fields.status ?? 'completed';
        const root = sessionRootSpan(identity, { startNs, endNs, state: 'ended', mode: 'batch', status, eventCount: events.length, receivedAtMs });
        checkSpanKeyParts([root], refuseSessionSpan);
        const requestId = randomUUID();
        const { codecs } = ctx;
        // The digest lets the trace stage recognise this batch if it is sent again; the
        // request id on every record lets it pass over a recognised re-send's records.
        const contentDigest = createHash('sha256').update(JSON.stringify({ ...fields, events })).digest('hex');
        const ofRequest = { [HEADER.requestId]: requestId };
        await appendRaw(ctx.log, [
          await markerRecord(codecs, marker(tenantId, identity.traceId, 'session_reset', requestId, receivedAtMs), {
            [HEADER.contentDigest]: contentDigest,
          }),
          await spanRecord(codecs, root, ofRequest),
          ...(await Promise.all(spans.map((span) => spanRecord(codecs, span, ofRequest)))),
          await markerRecord(codecs, marker(tenantId, identity.traceId, 'session_end', requestId, receivedAtMs)),
        ]);
        const record: SessionRecord = {
          tenantId,
          sessionId: identity.sessionId,
          traceId: identity.traceId,
          rootSpanId: identity.rootSpanId,
          state: 'ended',
          mode: 'batch',
          status,
          eventCount: events.length,
          startedAtMs: nanosToMs(startNs),
          endedAtMs: nanosToMs(endNs),
          updatedAtMs: receivedAtMs,
          sessionJson: JSON.stringify(fields),
        };
        await writeSession(ctx, record);
        return answerOf(record, events.length);
      }),
    );
  }

  async start(tenantId: string, sessionId: string, body: unknown): Promise<{ answer: SessionAnswer; created: boolean }> {
    const fields = parseWith(startSchema, body ?? {}, 'body');
    if (fields.sessionId !== undefined && fields.sessionId !== sessionId) {
      throw errors.invalidRequest(`body.sessionId: ${fields.sessionId} differs from the session id in the path (${sessionId})`);
    }
    const receivedAtMs = Date.now();
    return this.locks.run(tenantId, sessionId, () =>
      converting(async () => {
        const { ctx } = this;
        const existing = await findSession(ctx, tenantId, sessionId);
        if (existing?.state === 'open') return { answer: answerOf(existing, 0), created: false };
        if (existing !== null) {
          throw new TracefoldError(
            'SESSION_ENDED',
            409,
            `session ${sessionId} has ended and cannot be started again; re-send it as a batch to replace it, or use a new session id`,
          );
        }
        const identity: SessionIdentity = {
          tenantId,
          sessionId,
          traceId: sessionTraceId(sessionId, fields.traceId),
          rootSpanId: sessionRootSpanId(sessionId, fields.rootSpanId),
          fields: { ...fields, sessionId },
        };
        const startNs = sessionTime('body.startedAt', fields.startedAt) ?? msToNs(receivedAtMs);
        const status = fields.status ?? 'in_progress';
        // The root span is there from the start (a session that never ends still has its
        // root); end re-emits it with the same id, which replaces this copy.
        const root = sessionRootSpan(identity, { startNs, endNs: startNs, state: 'open', mode: 'stream', status, eventCount: 0, receivedAtMs });
        checkSpanKeyParts([root], refuseSessionSpan);
        await appendRaw(ctx.log, [await spanRecord(ctx.codecs, root)]);
        const record: SessionRecord = {
          tenantId,
          sessionId,
          traceId: identity.traceId,
          rootSpanId: identity.rootSpanId,
          state: 'open',
          mode: 'stream',
          status,
          eventCount: 0,
          startedAtMs: nanosToMs(startNs),
          endedAtMs: null,
          updatedAtMs: receivedAtMs,
          sessionJson: JSON.stringify(identity.fields),
        };
        await writeSession(ctx, record);
        return { answer: answerOf(record, 0), created: true };
      }),
    );
  }

  async events(tenantId: string, sessionId: string, body: unknown): Promise<SessionAnswer> {
    const parsed = parseWith(eventsSchema, body, 'body');
    const single = parsed.events === undefined;
    const list = parsed.events ?? (parsed.event === undefined ? [] : [parsed.event]);
    const receivedAtMs = Date.now();
    return this.locks.run(tenantId, sessionId, () =>
      converting(async () => {
        const { ctx } = this;
        const record = await findSession(ctx, tenantId, sessionId);
        if (record?.state !== 'open') throw notFound(sessionId, record);
        const spans = eventsToSpans(identityOf(record), list, {
          firstOrdinal: record.eventCount,
          baseNs: msToNs(receivedAtMs),
          receivedAtMs,
          path: single ? 'body.event' : 'body.events',
          single,
        });
        checkSpanKeyParts(spans, refuseSessionSpan);
        admitIngest(ctx, tenantId, spans.length);
        await appendRaw(ctx.log, await Promise.all(spans.map((span) => spanRecord(ctx.codecs, span))));
        const updated: SessionRecord = { ...record, eventCount: record.eventCount + list.length, updatedAtMs: receivedAtMs };
        await writeSession(ctx, updated);
        return answerOf(updated, list.length);
      }),
    );
  }

  async end(tenantId: string, sessionId: string, body: unknown): Promise<SessionAnswer> {
    const endFields = parseWith(endSchema, body ?? {}, 'body');
    const receivedAtMs = Date.now();
    return this.locks.run(tenantId, sessionId, () =>
      converting(async () => {
        const { ctx } = this;
        const record = await findSession(ctx, tenantId, sessionId);
        if (record?.state !== 'open') throw notFound(sessionId, record);
        const identity = identityOf(record);
        const startedAt = identity.fields.startedAt;
        const startNs =
          (typeof startedAt === 'string' || typeof startedAt === 'number' ? sessionTime('body.startedAt', startedAt) : undefined) ??
          msToNs(record.startedAtMs);
        const endNs =
          sessionTime('body.endedAt', endFields.endedAt) ??
          (endFields.durationMs !== undefined ? startNs + BigInt(Math.round(endFields.durationMs * 1e6)) : msToNs(receivedAtMs));
        if (endNs < startNs) throw new SessionInputError('body.endedAt', 'before the session start');
        const status = endFields.status ?? 'completed';
        const root = sessionRootSpan(identity, {
          startNs,
          endNs,
          state: 'ended',
          mode: 'stream',
          status,
          eventCount: record.eventCount,
          receivedAtMs,
          endFields,
        });
        checkSpanKeyParts([root], refuseSessionSpan);
        const { codecs } = ctx;
        await appendRaw(ctx.log, [
          await spanRecord(codecs, root),
          await markerRecord(codecs, marker(tenantId, record.traceId, 'session_end', randomUUID(), receivedAtMs)),
        ]);
        const ended: SessionRecord = { ...record, state: 'ended', status, endedAtMs: nanosToMs(endNs), updatedAtMs: receivedAtMs };
        await writeSession(ctx, ended);
        return { ...answerOf(ended, 0), durationMs: endFields.durationMs ?? Math.max(0, nanosToMs(endNs) - nanosToMs(startNs)) };
      }),
    );
  }

  async get(tenantId: string, sessionId: string): Promise<SessionRecord> {
    const record = await findSession(this.ctx, tenantId, sessionId);
    if (record === null) throw errors.notFound(`session ${sessionId} not found`);
    return record;
  }
}

export function sessionRoutes(ctx: AppContext) {
  const sessions = new SessionService(ctx);
  const scoped = async (request: FastifyRequest, withSession: boolean) => {
    const { tenantId, sessionId } = withSession
      ? parseWith(tenantSessionParams, request.params, 'params')
      : { ...parseWith(tenantParams, request.params, 'params'), sessionId: '' };
    await authenticateForTenant(ctx, request, tenantId);
    return { tenantId, sessionId };
  };
  const fromCredential = async (request: FastifyRequest, withSession: boolean) => {
    const sessionId = withSession ? parseWith(sessionParams, request.params, 'params').sessionId : '';
    const caller = await authenticate(ctx, request);
    return { tenantId: caller.tenantId, sessionId };
  };

  return async (app: FastifyInstance) => {
    // tracefold's tenant-scoped paths
    app.post('/api/v1/tenants/:tenantId/sessions', async (request, reply) => {
      const { tenantId } = await scoped(request, false);
      return reply.code(202).send(presentSession(await sessions.batch(tenantId, request.body)));
    });
    app.get('/api/v1/tenants/:tenantId/sessions/:sessionId', async (request) => {
      const { tenantId, sessionId } = await scoped(request, true);
      return presentRecord(await sessions.get(tenantId, sessionId));
    });
    app.post('/api/v1/tenants/:tenantId/sessions/:sessionId/start', async (request, reply) => {
      const { tenantId, sessionId } = await scoped(request, true);
      const { answer, created } = await sessions.start(tenantId, sessionId, request.body);
      return reply.code(created ? 201 : 200).send(presentSession(answer));
    });
    app.post('/api/v1/tenants/:tenantId/sessions/:sessionId/events', async (request, reply) => {
      const { tenantId, sessionId } = await scoped(request, true);
      return reply.code(202).send(presentSession(await sessions.events(tenantId, sessionId, request.body)));
    });
    app.post('/api/v1/tenants/:tenantId/sessions/:sessionId/end', async (request) => {
      const { tenantId, sessionId } = await scoped(request, true);
      return presentSession(await sessions.end(tenantId, sessionId, request.body));
    });

    // The seed's paths and answer shapes
    app.post('/api/client/v1/tracing/sessions', async (request, reply) => {
      const { tenantId } = await fromCredential(request, false);
      const a = await sessions.batch(tenantId, request.body);
      return reply.code(202).send({ success: true, sessionId: a.sessionId, eventsStored: a.eventsStored, traceId: a.traceId });
    });
    app.post('/api/client/v1/tracing/sessions/stream/:sessionId/start', async (request, reply) => {
      const { tenantId, sessionId } = await fromCredential(request, true);
      const { answer: a, created } = await sessions.start(tenantId, sessionId, request.body);
      return reply.code(created ? 201 : 200).send({ success: true, sessionId: a.sessionId, status: a.status, traceId: a.traceId });
    });
    app.post('/api/client/v1/tracing/sessions/stream/:sessionId/events', async (request, reply) => {
      const { tenantId, sessionId } = await fromCredential(request, true);
      const a = await sessions.events(tenantId, sessionId, request.body);
      return reply.code(202).send({ success: true, sessionId: a.sessionId, totalEvents: a.totalEvents, eventsStored: a.eventsStored });
    });
    app.post('/api/client/v1/tracing/sessions/stream/:sessionId/end', async (request) => {
      const { tenantId, sessionId } = await fromCredential(request, true);
      const a = await sessions.end(tenantId, sessionId, request.body);
      return { success: true, sessionId: a.sessionId, status: a.status, durationMs: a.durationMs, traceId: a.traceId };
    });
  };
}
