/**
 * Tenant-scoped reads and on-demand analysis:
 *   GET  /api/v1/tenants/:tenantId/traces/:traceId           the trace as a span tree
 *   POST /api/v1/tenants/:tenantId/traces/:traceId/analyze   close the window now, answer with detections
 *   GET  /api/v1/tenants/:tenantId/detections                detections, newest first
 *   POST /api/v1/tenants/:tenantId/feedback                  true/false positive verdicts
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { appendRaw, markerRecord } from '../../ingest/append-raw.js';
import { TOPICS } from '../../log/topics.js';
import { errors } from '../../model/errors.js';
import type { Detection, FeedbackRecord } from '../../model/outputs.js';
import { TRACE_STAGE_GROUP } from '../../stages/trace/trace-stage.js';
import { BASELINE_DETECTOR, tenantStageEvent, tenantStageRecord } from '../../stages/tenant/events.js';
import { detectorVersions } from '../../detectors/registry.js';
import type { AppContext } from '../../http/context.js';
import { presentDetection, presentFeedback, presentMetrics, presentTraceListItem, presentTraceSummary, spanTree, standingFailureScore } from '../present.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { booleanQuery, instantQuery, keyPartString, severityQuery, tenantParams, traceParams } from '../../http/validate.js';
import { dateTime, detectionAnswer, failureScore, feedbackAnswer, spanNodeAnswer, traceMetricsAnswer, traceSummaryFields } from '../answers.js';
import { traceSummaryOf } from '../../views/view-model.js';
import { appendAllAndWait } from '../../http/write-through.js';
import { numberedPageOf, numberedPageQuery, platformDetectionAnswer, platformDetection, platformTrace, readNumberedPage } from './numbered-pages.js';

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
  // Numbered pages, Pisama's paging: answered in its envelope (numbered-pages.ts).
  ...numberedPageQuery,
});
/** Detectors a missed verdict can name: the trace stage's and the tenant stage's. */
const DETECTOR_IDS = [...Object.keys(detectorVersions()), BASELINE_DETECTOR.id];

/** A verdict on a detection, or a trace that lacked a detection the caller expected. */
export const feedbackBody = z.discriminatedUnion('feedback_type', [
  z.object({
    feedback_type: z.enum(['true_positive', 'false_positive']),
    detection_id: keyPartString('detectionId'),
    comment: z.string().max(4000, 'must be at most 4000 characters').default(''),
  }),
  z.object({
    feedback_type: z.literal('missed'),
    trace_id: keyPartString('traceId'),
    detector: z.string().refine((id) => DETECTOR_IDS.includes(id), { message: `must be one of ${DETECTOR_IDS.join(', ')}` }),
    comment: z.string().max(4000, 'must be at most 4000 characters').default(''),
  }),
]);

const timeRange = {
  from: instantQuery.optional(),
  to: instantQuery.optional(),
};

export const traceListQuery = listQuery.extend({
  ...timeRange,
  service: keyPartString('serviceName').optional(),
  agent: keyPartString('agentName').optional(),
  model: keyPartString('modelName').optional(),
  status: z.enum(['ok', 'error']).optional(),
  has_failures: booleanQuery.optional(),
  detection_type: z.string().min(1).optional(),
  min_severity: severityQuery.optional(),
  min_failure_score: z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  name_contains: z.string().min(1).max(200, 'must be at most 200 characters').optional(),
  /** closed_at: newest first; failure_score: highest score first, then newest (cursors belong to one order). */
  sort: z.enum(['closed_at', 'failure_score']).default('closed_at'),
});

export const traceDetailQuery = z.object({ revision: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').optional() });

export const detectionListQuery = listQuery.extend({
  ...timeRange,
  type: z.string().min(1).optional(),
  severity: severityQuery.optional(),
  min_severity: severityQuery.optional(),
  min_confidence: z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  max_confidence: z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
  agent: keyPartString('agentName').optional(),
  trace_id: keyPartString('traceId').optional(),
});

/** Drops the keys whose value is undefined (the filters a query did not set). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const OUTPUT_TOPICS = [TOPICS.traces, TOPICS.detections, TOPICS.metrics];

/** Waits until the trace stage's committed position on `partition` passes `offset`. */
async function waitForTraceStage(ctx: AppContext, partition: number, offset: number): Promise<void> {
  const deadline = Date.now() + ctx.readYourWritesTimeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const committed = await ctx.log.committedOffsets(TRACE_STAGE_GROUP, TOPICS.raw);
    if ((committed.get(partition) ?? 0) > offset) return;
    if (Date.now() > deadline) throw errors.timeout('the trace stage did not reach the analysis request in time; retry');
    await new Promise((r) => setTimeout(r, delay));
  }
}

const ERRORS_TENANT = [400, 401, 404] as const;

const traceListItem = z.object({
  trace_id: z.string(),
  revision: z.int(),
  service_name: z.string(),
  root_name: z.string(),
  closed_at: dateTime.nullable(),
  start_time: dateTime.nullable(),
  duration_ms: z.number().nullable(),
  span_count: z.int(),
  has_error: z.boolean(),
  agents: z.array(z.string()),
  models: z.array(z.string()),
  cost_usd: z.number().nullable(),
  failure_count: z.int(),
  failure_score: failureScore,
  detection_types: z.array(z.string()),
  max_severity: z.string().nullable(),
});

export const traceOperations = {
  listTraces: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces',
    operationId: 'listTraces',
    summary: 'Traces, newest first, with filters',
    description: 'Paged by cursor (`limit`, `cursor`), or by number (`page`, `per_page`: answered in the Pisama platform envelope, `traces`).',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: traceListQuery,
    response: {
      status: 200,
      description: 'a page of traces',
      schema: z.union([
        z.object({ items: z.array(traceListItem), next_cursor: z.string().nullable() }),
        z.object({
          traces: z.array(traceListItem.extend({ id: z.string(), session_id: z.string(), detection_status: z.literal('complete') })),
          page: z.int(),
          per_page: z.int(),
          next_cursor: z.string().nullable(),
        }),
      ]),
    },
    errors: ERRORS_TENANT,
  }),
  getTrace: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces/:traceId',
    operationId: 'getTrace',
    summary: 'A trace: summary, metrics, detections and the span tree',
    tags: ['traces'],
    security: 'tenant',
    params: traceParams,
    query: traceDetailQuery,
    response: {
      status: 200,
      description: 'the trace (its latest revision, or the one asked for)',
      schema: z.object({
        ...traceSummaryFields,
        metrics: traceMetricsAnswer.nullable(),
        failure_score: failureScore,
        detections: z.array(detectionAnswer),
        spans: z.array(spanNodeAnswer),
      }),
    },
    errors: ERRORS_TENANT,
  }),
  analyzeTrace: defineOperation({
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
      schema: z.object({
        trace_id: z.string(),
        revision: z.int(),
        has_failures: z.boolean(),
        failure_count: z.int(),
        failure_score: failureScore,
        primary_failure: detectionAnswer.nullable(),
        all_detections: z.array(detectionAnswer),
        detection_time_ms: z.number(),
      }),
    },
    errors: [...ERRORS_TENANT, 503],
  }),
  listDetections: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/detections',
    operationId: 'listDetections',
    summary: 'Detections, newest first',
    description: 'Paged by cursor (`limit`, `cursor`; a plain array, the next cursor in `x-next-cursor`), or by number (`page`, `per_page`: the Pisama platform envelope and item shape).',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: detectionListQuery,
    response: {
      status: 200,
      description: 'a page of detections',
      schema: z.union([
        z.array(detectionAnswer),
        z.object({ items: z.array(platformDetectionAnswer), page: z.int(), per_page: z.int(), next_cursor: z.string().nullable() }),
      ]),
      headers: { 'x-next-cursor': { description: 'pass as `cursor` for the next page; absent on the last page', schema: { type: 'string' } } },
    },
    errors: ERRORS_TENANT,
  }),
  recordFeedback: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/feedback',
    operationId: 'recordFeedback',
    summary: 'A verdict on a detection, or a missed detection on a trace',
    description: 'true_positive / false_positive name a detection (`detection_id`); `missed` names a trace (`trace_id`) and the detector that should have fired.',
    tags: ['feedback'],
    security: 'tenant',
    params: tenantParams,
    body: {
      schema: feedbackBody,
      examples: {
        verdict: { value: { feedback_type: 'false_positive', detection_id: 'd0c5e1', comment: 'expected retry' } },
        missed: { value: { feedback_type: 'missed', trace_id: 'run-001', detector: 'tool_failure', comment: '' } },
      },
    },
    response: { status: 201, description: 'recorded', schema: feedbackAnswer },
    errors: [...ERRORS_TENANT, 503],
  }),
};

export function traceRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    const ops = traceOperations;

    route(ops.listTraces, async ({ params: { tenantId }, query: q }, request) => {
      const filter = defined({
        fromMs: q.from,
        toMs: q.to,
        service: q.service,
        agent: q.agent,
        model: q.model,
        status: q.status,
        hasFailures: q.has_failures,
        detectionType: q.detection_type,
        minSeverity: q.min_severity,
        minFailureScore: q.min_failure_score,
        nameContains: q.name_contains,
      });
      const numbered = numberedPageOf(q, request.query);
      if (numbered !== null) {
        const page = await readNumberedPage(numbered, (limit, cursor) => ctx.queries.listTraces(tenantId, limit, cursor, filter, q.sort));
        return { traces: page.items.map((t) => platformTrace(presentTraceListItem(t))), page: numbered.page, per_page: numbered.perPage, next_cursor: page.nextCursor };
      }
      const page = await ctx.queries.listTraces(tenantId, q.limit, q.cursor ?? null, filter, q.sort);
      return { items: page.items.map(presentTraceListItem), next_cursor: page.nextCursor };
    });

    route(ops.getTrace, async ({ params: { tenantId, traceId }, query: { revision } }) => {
      if (revision !== undefined) {
        const found = await ctx.queries.traceRevision(tenantId, traceId, revision);
        if (found === null) throw errors.notFound(`trace ${traceId} has no revision ${revision}`);
        return {
          ...presentTraceSummary(traceSummaryOf(found.body)),
          metrics: found.metrics === null ? null : presentMetrics(found.metrics),
          failure_score: standingFailureScore(found.detections),
          detections: found.detections.map((d) => presentDetection(d)),
          spans: spanTree(found.body.spans),
        };
      }
      const notFound = () => errors.notFound(`trace ${traceId} not found (it appears once its window closes, or after analyze)`);
      const summary = await ctx.queries.trace(tenantId, traceId);
      if (summary === null) throw notFound();
      const [body, metrics, detections] = await Promise.all([
        ctx.queries.traceBody(tenantId, traceId, summary.revision),
        ctx.queries.metrics(tenantId, traceId),
        ctx.queries.detectionsOfTrace(tenantId, traceId),
      ]);
      if (body === null) throw notFound();
      return {
        ...presentTraceSummary(summary),
        metrics: metrics === null ? null : presentMetrics(metrics),
        failure_score: standingFailureScore(detections),
        detections: detections.map((d) => presentDetection(d)),
        spans: spanTree(body.spans),
      };
    });

    route(ops.analyzeTrace, async ({ params: { tenantId, traceId } }) => {
      const started = performance.now();
      // The request is a marker in the trace's own partition: it closes the window after
      // every span appended before it, and a replay sees it at the same place.
      const marker = { tenantId, traceId, kind: 'analyze' as const, requestId: randomUUID(), receivedAtMs: Date.now() };
      const [appended] = await appendRaw(ctx.log, [await markerRecord(ctx.codecs, marker)]);
      await waitForTraceStage(ctx, appended!.partition, appended!.offset);
      await ctx.views.catchUp(OUTPUT_TOPICS, ctx.readYourWritesTimeoutMs);
      const summary = await ctx.queries.trace(tenantId, traceId);
      if (summary === null) throw errors.notFound(`trace ${traceId} not found: no spans were received for it`);
      const detections = await ctx.queries.detectionsOfTrace(tenantId, traceId);
      const presented = await Promise.all(detections.map(async (d) => presentDetection(d, await ctx.queries.feedbackOf(tenantId, d.id))));
      return {
        trace_id: traceId,
        revision: summary.revision,
        // Subsumed detections are listed but are not failures of their own.
        has_failures: detections.some((d) => d.subsumedBy === null),
        failure_count: detections.filter((d) => d.subsumedBy === null).length,
        failure_score: standingFailureScore(detections),
        primary_failure: presented.find((d) => d.primary) ?? null,
        all_detections: presented,
        detection_time_ms: Math.round((performance.now() - started) * 100) / 100,
      };
    });

    route(ops.listDetections, async ({ params: { tenantId }, query: q }, request, reply) => {
      const filter = defined({
        fromMs: q.from,
        toMs: q.to,
        type: q.type,
        severity: q.severity,
        minSeverity: q.min_severity,
        minConfidence: q.min_confidence,
        maxConfidence: q.max_confidence,
        agent: q.agent,
        traceId: q.trace_id,
      });
      const present = (items: readonly Detection[]) => Promise.all(items.map(async (d) => presentDetection(d, await ctx.queries.feedbackOf(tenantId, d.id))));
      const numbered = numberedPageOf(q, request.query);
      if (numbered !== null) {
        const page = await readNumberedPage(numbered, (limit, cursor) => ctx.queries.listDetections(tenantId, limit, cursor, filter));
        return { items: (await present(page.items)).map(platformDetection), page: numbered.page, per_page: numbered.perPage, next_cursor: page.nextCursor };
      }
      const page = await ctx.queries.listDetections(tenantId, q.limit, q.cursor ?? null, filter);
      // The answer is a plain array (as the walkthrough reads it); the cursor travels in a header.
      if (page.nextCursor !== null) void reply.header('x-next-cursor', page.nextCursor);
      return present(page.items);
    });

    route(ops.recordFeedback, async ({ params: { tenantId }, body }) => {
      let about: { detectionId: string; traceId: string; detectorId: string };
      if (body.feedback_type === 'missed') {
        if ((await ctx.queries.trace(tenantId, body.trace_id)) === null) throw errors.notFound(`body.trace_id: trace ${body.trace_id} not found`);
        about = { detectionId: '', traceId: body.trace_id, detectorId: body.detector };
      } else {
        const detection = await ctx.queries.detection(tenantId, body.detection_id);
        if (detection === null) throw errors.notFound(`body.detection_id: detection ${body.detection_id} not found`);
        about = { detectionId: detection.id, traceId: detection.traceId, detectorId: detection.detectorId };
      }
      const createdAtMs = Date.now();
      const feedback: FeedbackRecord = {
        id: createHash('sha256').update(`${tenantId}\u0000${about.detectionId || about.traceId}\u0000${randomUUID()}`).digest('hex').slice(0, 32),
        tenantId,
        ...about,
        feedbackType: body.feedback_type,
        comment: body.comment,
        createdAtMs,
      };
      // The record for the views and subscribers, and the tenant stage's input (audit chain,
      // calibration), are appended together or not at all.
      const event = tenantStageEvent(tenantId, 'feedback_recorded', feedback.id, createdAtMs, {
        id: feedback.id,
        detectionId: feedback.detectionId,
        traceId: feedback.traceId,
        detectorId: feedback.detectorId,
        feedbackType: feedback.feedbackType,
        comment: feedback.comment,
      });
      await appendAllAndWait(
        ctx,
        [
          { topic: TOPICS.feedback, records: [{ key: Buffer.from(tenantId), value: await ctx.codecs.feedback.encode(feedback), timestamp: createdAtMs }] },
          { topic: TOPICS.tenantEvents, records: [await tenantStageRecord(ctx.codecs, event)] },
        ],
        [TOPICS.feedback],
      );
      return presentFeedback(feedback);
    });
  };
}
