/**
 * Flat span ingest routes (in the style of Agenta's):
 *
 *   POST /api/v1/spans/ingest                      tenant from the credential
 *   POST /api/v1/tenants/:tenantId/spans/ingest    tenant in the path (checked against the credential)
 *
 * Body: see spans.ts. Answer: 202 `{count, links}`, where `count` is the number of spans
 * accepted and `links` the `{trace_id, span_id}` of each, in the order sent, as Agenta's
 * ingest answers. Unlike Agenta's fire-and-forget worker, tracefold answers only once
 * the spans are durable in the log, so an accepted span is never lost; 202 still says
 * "accepted, not yet analysed": the trace appears once its window closes (inactivity, or
 * analyze).
 *
 * A request is accepted or rejected as a whole: a span without a usable id rejects it with
 * a 400 naming the field, and nothing of it is appended, so a producer can fix and re-send
 * without creating half a trace. Re-sent spans (same trace and span id) replace the earlier
 * copy in the trace stage.
 */
import type { FastifyInstance } from 'fastify';
import type { IngestContext } from '../../http/context.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { tenantParams } from '../../http/validate.js';
import { ERRORS_INGEST, flatIngestAnswer, flatSpansRequest } from '../contract.js';
import { errors } from '../../model/errors.js';
import { appendRaw, spanRecord } from '../append-raw.js';
import { checkSpanKeyParts } from '../key-parts.js';
import { admitIngest } from '../../http/limits/index.js';
import type { CanonicalSpan } from '../../model/span.js';
import { decodeFlatSpans, FlatSpanError } from './spans.js';


export interface FlatIngestAnswer {
  readonly count: number;
  readonly links: { trace_id: string; span_id: string }[];
}

/** How a compatibility route adapts flat ingest to its product's attribute namespace. */
export interface FlatIngestOptions {
  readonly unsupportedPrefix?: string;
  readonly referencesAttribute?: string;
  /** Rewrites each decoded span before it is appended (attribute namespace rules). */
  readonly transform?: (span: CanonicalSpan) => CanonicalSpan;
}

/** Decodes a flat-span body, appends its spans durably and answers `{count, links}`. */
export async function ingestFlatBody(ctx: IngestContext, tenantId: string, body: unknown, options: FlatIngestOptions = {}): Promise<FlatIngestAnswer> {
  if (body === undefined || body === null) throw errors.invalidRequest('body: expected {"spans": [...]} or {"traces": {...}}');
  let spans;
  try {
    spans = decodeFlatSpans(body, {
      tenantId,
      receivedAtMs: Date.now(),
      ...(options.unsupportedPrefix === undefined ? {} : { unsupportedPrefix: options.unsupportedPrefix }),
      ...(options.referencesAttribute === undefined ? {} : { referencesAttribute: options.referencesAttribute }),
    });
  } catch (error) {
    if (error instanceof FlatSpanError) throw errors.invalidRequest(error.message);
    throw error;
  }
  if (options.transform !== undefined) spans = spans.map(options.transform);
  checkSpanKeyParts(spans, (message) => errors.invalidRequest(`body: ${message}`));
  admitIngest(ctx, tenantId, spans.length);
  const records = await Promise.all(spans.map((span) => spanRecord(ctx.codecs, span)));
  await appendRaw(ctx.log, records);
  return { count: spans.length, links: spans.map((s) => ({ trace_id: s.traceId, span_id: s.spanId })) };
}

export const flatSpanOperations = {
  ingestFlatSpans: defineOperation({
    method: 'post',
    path: '/api/v1/spans/ingest',
    operationId: 'ingestFlatSpans',
    summary: 'Flat span ingest (tenant from the credential)',
    description: 'Accepted or rejected as a whole: a span without a usable id rejects the request with a 400 naming the field.',
    tags: ['ingest'],
    security: 'tenant',
    body: { schema: flatSpansRequest },
    response: { status: 202, description: 'durable in the log; analysed once the window closes', schema: flatIngestAnswer },
    errors: ERRORS_INGEST,
  }),
  ingestTenantFlatSpans: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/spans/ingest',
    operationId: 'ingestTenantFlatSpans',
    summary: 'Flat span ingest for the tenant in the path',
    tags: ['ingest'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: flatSpansRequest },
    response: { status: 202, description: 'durable in the log; analysed once the window closes', schema: flatIngestAnswer },
    errors: ERRORS_INGEST,
  }),
};

export function flatSpanRoutes(ctx: IngestContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    route(flatSpanOperations.ingestFlatSpans, async ({ tenantId, body }) => ingestFlatBody(ctx, tenantId, body));
    route(flatSpanOperations.ingestTenantFlatSpans, async ({ tenantId, body }) => ingestFlatBody(ctx, tenantId, body));
  };
}
