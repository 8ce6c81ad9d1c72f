/**
 * The session-events API (after Cognipeer Console's): a session of an agent, sent whole or streamed, becomes
 * one trace (convert.ts).
 *
 * Tenant-scoped (tracefold's own paths; answers in snake_case):
 *   POST /api/v1/tenants/:tenantId/sessions                       batch: a whole session with its events
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/start      stream: create the session
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/events     stream: append {event} or {events: [...]}
 *   POST /api/v1/tenants/:tenantId/sessions/:sessionId/end        stream: close the session
 *   GET  /api/v1/tenants/:tenantId/sessions/:sessionId            the session's registry record
 *
 * Cognipeer Console's own paths and answer shapes (/api/client/v1/tracing/...) are served by
 * src/api/routes/compat/cognipeer-routes.ts over the same SessionService.
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
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IngestContext } from '../../http/context.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { tenantParams } from '../../http/validate.js';
import { ERRORS_INGEST } from '../contract.js';
import { errors, TracefoldError } from '../../model/errors.js';
import { HEADER } from '../../model/record-keys.js';
import type { SessionRecord } from '../../model/session.js';
import type { WindowMarkerKind } from '../../model/span.js';
import { appendRaw, markerRecord, spanRecord } from '../append-raw.js';
import { checkSpanKeyParts } from '../key-parts.js';
import { admitIngest } from '../../http/limits/index.js';
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
import { batchSchema, endSchema, eventsSchema, startSchema, tenantSessionParams, type BatchSession, type EndSession, type SessionEvents, type StartSession } from './schema.js';

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

/** Most event-id digests a session record keeps (16 characters each: well under a 1 MB record). */
export const MAX_REMEMBERED_EVENT_IDS = 40_000;

/** What the registry keeps of an event id: 16 hex characters of its SHA-256. */
export function eventIdDigest(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
}

/**
 * Counts a request's events against the ids the session has received: an event whose id
 * was received before (in an earlier request or earlier in this one) is a repeat, counted
 * once. Events without an id are each new.
 */
function countEvents(known: readonly string[], events: readonly { id?: string | undefined }[]) {
  const seen = new Set(known);
  const ids = [...known];
  let repeated = 0;
  for (const event of events) {
    if (event.id === undefined) continue;
    const digest = eventIdDigest(event.id);
    if (seen.has(digest)) repeated++;
    else {
      seen.add(digest);
      if (ids.length < MAX_REMEMBERED_EVENT_IDS) ids.push(digest);
    }
  }
  return { ids, repeated, stored: events.length - repeated };
}

function answerOf(record: SessionRecord, eventsStored: number): SessionAnswer {
  return {
    sessionId: record.sessionId,
    traceId: record.traceId,
    state: record.state,
    status: record.status,
    eventsStored,
    totalEvents: distinctEvents(record),
    durationMs: record.endedAtMs === null ? null : Math.max(0, record.endedAtMs - record.startedAtMs),
  };
}

/** Events the session holds: received, less repeated ids. */
export function distinctEvents(record: SessionRecord): number {
  return record.eventCount - record.repeatedEventCount;
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
    total_events: distinctEvents(r),
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

  constructor(private readonly ctx: IngestContext) {}

  /** A whole session: replaces whatever the session's trace held, then closes it. */
  async batch(tenantId: string, body: BatchSession): Promise<SessionAnswer> {
    const { events, ...fields } = body;
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
        const counted = countEvents([], events);
        const root = sessionRootSpan(identity, { startNs, endNs, state: 'ended', mode: 'batch', status, eventCount: counted.stored, receivedAtMs });
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
          eventIds: counted.ids,
          repeatedEventCount: counted.repeated,
          startedAtMs: nanosToMs(startNs),
          endedAtMs: nanosToMs(endNs),
          updatedAtMs: receivedAtMs,
          sessionJson: JSON.stringify(fields),
        };
        await writeSession(ctx, record);
        return answerOf(record, counted.stored);
      }),
    );
  }

  /**
   * `reopenEnded`: a start of an ended session opens it again instead of refusing (409).
   * Its trace goes on: the closed revision stays, and the events sent from now on (late
   * spans of that trace) make its next revision, closed again by end.
   */
  async start(tenantId: string, sessionId: string, fields: StartSession, options: { reopenEnded?: boolean } = {}): Promise<{ answer: SessionAnswer; created: boolean }> {
    if (fields.sessionId !== undefined && fields.sessionId !== sessionId) {
      throw errors.invalidRequest(`body.sessionId: ${fields.sessionId} differs from the session id in the path (${sessionId})`);
    }
    const receivedAtMs = Date.now();
    return this.locks.run(tenantId, sessionId, () =>
      converting(async () => {
        const { ctx } = this;
        const existing = await findSession(ctx, tenantId, sessionId);
        if (existing?.state === 'open') return { answer: answerOf(existing, 0), created: false };
        if (existing !== null && options.reopenEnded === true) {
          if (fields.traceId !== undefined && sessionTraceId(sessionId, fields.traceId) !== existing.traceId) {
            throw errors.invalidRequest(`body.traceId: ${fields.traceId} differs from the trace of session ${sessionId} (${existing.traceId})`);
          }
          const reopened: SessionRecord = {
            ...existing,
            state: 'open',
            mode: 'stream',
            status: fields.status ?? 'in_progress',
            endedAtMs: null,
            updatedAtMs: receivedAtMs,
            sessionJson: JSON.stringify({ ...(JSON.parse(existing.sessionJson) as Record<string, unknown>), ...fields, sessionId }),
          };
          await writeSession(ctx, reopened);
          return { answer: answerOf(reopened, 0), created: false };
        }
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
          eventIds: [],
          repeatedEventCount: 0,
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

  async events(tenantId: string, sessionId: string, parsed: SessionEvents): Promise<SessionAnswer> {
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
        const counted = countEvents(record.eventIds, list);
        const updated: SessionRecord = {
          ...record,
          eventCount: record.eventCount + list.length,
          eventIds: counted.ids,
          repeatedEventCount: record.repeatedEventCount + counted.repeated,
          updatedAtMs: receivedAtMs,
        };
        await writeSession(ctx, updated);
        return answerOf(updated, counted.stored);
      }),
    );
  }

  async end(tenantId: string, sessionId: string, endFields: EndSession): Promise<SessionAnswer> {
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
          eventCount: distinctEvents(record),
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

const SESSION_TAG = 'sessions';
const sessionAnswer = z
  .object({
    session_id: z.string(),
    trace_id: z.string(),
    state: z.enum(['open', 'ended']),
    status: z.string(),
    events_stored: z.int(),
    total_events: z.int(),
    duration_ms: z.number().nullable(),
  })
  .meta({ id: 'Session' });
const ERRORS_TENANT = [400, 401, 404] as const;

export const sessionOperations = {
  sendSession: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions',
    operationId: 'sendSession',
    summary: 'Send a whole session (batch); re-sending replaces it',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantParams,
    body: { schema: batchSchema },
    response: { status: 202, description: 'the session and its events are durable; the trace closes at once', schema: sessionAnswer },
    errors: ERRORS_INGEST,
  }),
  getSession: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId',
    operationId: 'getSession',
    summary: "A session's registry record",
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantSessionParams,
    response: {
      status: 200,
      description: 'the session',
      schema: z.object({
        session_id: z.string(),
        trace_id: z.string(),
        root_span_id: z.string(),
        state: z.enum(['open', 'ended']),
        mode: z.enum(['batch', 'stream']),
        status: z.string(),
        total_events: z.int(),
        started_at: z.iso.datetime(),
        ended_at: z.iso.datetime().nullable(),
        updated_at: z.iso.datetime(),
      }),
    },
    errors: ERRORS_TENANT,
  }),
  startSession: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/start',
    operationId: 'startSession',
    summary: 'Stream: start a session',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantSessionParams,
    body: { schema: startSchema, required: false },
    response: { status: 201, also: [200], description: 'started (200: it was already open)', schema: sessionAnswer },
    errors: [...ERRORS_INGEST, 409],
  }),
  appendSessionEvents: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/events',
    operationId: 'appendSessionEvents',
    summary: 'Stream: append {event} or {events: [...]}',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantSessionParams,
    body: { schema: eventsSchema },
    response: { status: 202, description: 'the events are durable', schema: sessionAnswer },
    errors: ERRORS_INGEST,
  }),
  endSession: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/sessions/:sessionId/end',
    operationId: 'endSession',
    summary: 'Stream: end a session; its trace closes',
    tags: [SESSION_TAG],
    security: 'tenant',
    params: tenantSessionParams,
    body: { schema: endSchema, required: false },
    response: { status: 200, description: 'ended', schema: sessionAnswer },
    errors: ERRORS_INGEST,
  }),
};

/** tracefold's session paths; Cognipeer Console's are in src/api/routes/compat/cognipeer-routes.ts, over the same service. */
export function sessionRoutes(ctx: IngestContext, sessions = new SessionService(ctx)) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    const ops = sessionOperations;
    route(ops.sendSession, async ({ tenantId, body }) => presentSession(await sessions.batch(tenantId, body)));
    route(ops.getSession, async ({ params: { tenantId, sessionId } }) => presentRecord(await sessions.get(tenantId, sessionId)));
    route(ops.startSession, async ({ params: { tenantId, sessionId }, body }, _request, reply) => {
      const { answer, created } = await sessions.start(tenantId, sessionId, body);
      if (!created) void reply.code(200);
      return presentSession(answer);
    });
    route(ops.appendSessionEvents, async ({ params: { tenantId, sessionId }, body }) => presentSession(await sessions.events(tenantId, sessionId, body)));
    route(ops.endSession, async ({ params: { tenantId, sessionId }, body }) => presentSession(await sessions.end(tenantId, sessionId, body)));
  };
}
