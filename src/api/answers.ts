/**
 * The shapes the API answers with, as zod schemas: the routes declare them as their
 * response (src/http/route.ts), and the OpenAPI document shows them (named ones under
 * components.schemas). They follow present.ts and the routes.
 */
import { z } from 'zod';
import { EXPORT_PROFILES } from '../audit/export.js';

export const dateTime = z.iso.datetime();
/**
 * An instant a caller asked for, echoed back: any time a Date holds, so a year past 9999 is
 * written as ISO-8601's expanded form (`+275760-09-13T00:00:00.000Z`), which `date-time` does not take.
 */
export const requestedInstant = z.string().describe('ISO-8601 time; years past 9999 in the expanded form, e.g. +275760-09-13T00:00:00.000Z');
const strings = z.array(z.string());
/** Any JSON object (attributes, settings, evidence data). */
export const openObject = z.record(z.string(), z.unknown());

/** The run-level verdict: the probability the run failed (src/detectors/failure-score.ts). */
export const failureScore = z.number().min(0).max(1).describe('probability that the run failed, from its standing detections (docs/detectors.md#failure-score)');

export const feedbackAnswer = z
  .object({
    id: z.string(),
    detection_id: z.string().nullable(),
    trace_id: z.string(),
    detector: z.string().nullable(),
    feedback_type: z.enum(['true_positive', 'false_positive', 'missed']),
    comment: z.string(),
    created_at: dateTime,
  })
  .meta({ id: 'Feedback' });

export const detectionAnswer = z
  .object({
    id: z.string(),
    trace_id: z.string(),
    revision: z.int(),
    detection_type: z.string(),
    detector: z.object({ id: z.string(), version: z.int() }),
    pipeline_version: z.string(),
    title: z.string(),
    description: z.string(),
    confidence: z.number(),
    confidence_tier: z.enum(['high', 'likely', 'possible', 'low']),
    severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
    evidence: z.array(z.object({ description: z.string(), span_ids: strings, data: z.unknown() })),
    affected_span_ids: strings,
    agent: z.string().nullable(),
    suggested_fix: z.string(),
    live: z.boolean(),
    primary: z.boolean(),
    subsumed_by: z.string().nullable(),
    detected_at: dateTime,
    feedback: z.array(feedbackAnswer),
  })
  .meta({ id: 'Detection' });

export const traceMetricsAnswer = z
  .object({
    duration_ms: z.number(),
    critical_path_ms: z.number().nullable(),
    critical_path_span_ids: strings,
    span_count: z.int(),
    llm_call_count: z.int(),
    tool_call_count: z.int(),
    agent_count: z.int(),
    input_tokens: z.int(),
    output_tokens: z.int(),
    cached_input_tokens: z.int(),
    cost_usd: z.number().nullable(),
    unpriced_models: strings,
    price_table: z.string().nullable(),
    error_count: z.int(),
    error_rate: z.number(),
    tool_error_count: z.int().nullable(),
    tool_error_rate: z.number().nullable(),
    retry_count: z.int().nullable(),
    retry_rate: z.number().nullable(),
    blast_radius: z.number().nullable(),
    files_written: strings,
    agents: strings,
    models: strings,
  })
  .meta({ id: 'TraceMetrics' });

/** A node of the span tree: a span, or the synthetic root holding orphans and cycle cuts. */
export const spanNodeAnswer: z.ZodType<unknown> = z
  .union([
    z.object({
      span_id: z.string(),
      parent_span_id: z.string().nullable(),
      name: z.string(),
      kind: z.int(),
      start_time: dateTime,
      end_time: dateTime,
      start_time_unix_nano: z.string().regex(/^[0-9]+$/),
      end_time_unix_nano: z.string().regex(/^[0-9]+$/),
      duration_ms: z.number(),
      status: z.object({ code: z.int(), message: z.string() }),
      operation: z.string().nullable(),
      agent: z.string().nullable(),
      model: z.string().nullable(),
      tool: z.string().nullable(),
      input_tokens: z.int().nullable(),
      output_tokens: z.int().nullable(),
      attributes: openObject,
      events: z.array(z.object({ name: z.string(), time: dateTime, attributes: openObject })),
      links: z.array(z.object({ trace_id: z.string(), span_id: z.string(), attributes: openObject })),
      resource: openObject,
      scope: z.object({ name: z.string(), version: z.string() }),
      orphan: z.boolean(),
      cycle: z.boolean(),
      get children() {
        return z.array(spanNodeAnswer);
      },
    }),
    z.object({
      span_id: z.null(),
      name: z.string(),
      synthetic: z.literal(true).describe('present (true) only on the synthetic root'),
      get children() {
        return z.array(spanNodeAnswer);
      },
    }),
  ])
  .meta({ id: 'SpanNode' });

export const traceSummaryFields = {
  trace_id: z.string(),
  revision: z.int(),
  pipeline_version: z.string(),
  service_name: z.string(),
  root_name: z.string(),
  start_time_unix_nano: z.string(),
  end_time_unix_nano: z.string(),
  has_error: z.boolean(),
  span_count: z.int(),
  close_reason: z.string(),
  truncated: z.boolean(),
  orphan_span_ids: strings,
  cycle_span_ids: strings,
  closed_at: dateTime,
  digest: z.string(),
};

export const tenantAnswer = z.object({ tenant_id: z.string(), name: z.string(), created_at: dateTime });
export const apiKeyAnswer = z.object({ key_id: z.string(), created_at: dateTime, revoked_at: dateTime.nullable() });

export const settingsAnswer = z.object({
  tenant_id: z.string(),
  baseline_sigma: z.number(),
  baseline_min_samples: z.int(),
  defaults: z.object({ baseline_sigma: z.number(), baseline_min_samples: z.int() }),
});

/** An audit export package (src/audit/export.ts): the fields a reader checks first; the rest as the package has them. */
export const auditExportAnswer = z.looseObject({
  format: z.string(),
  version: z.union([z.int(), z.string()]),
  profile: z.enum(EXPORT_PROFILES),
});
