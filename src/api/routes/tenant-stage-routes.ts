/**
 * What the tenant stage keeps, as the views hold it: the audit chain (verify, export),
 * baselines and the anomalies they found, the tenant's settings, and feedback statistics
 * per detector.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { verifyAuditChain } from '../../audit/chain.js';
import { AuditExportError, buildAuditExport, EXPORT_PROFILES } from '../../audit/export.js';
import { stddev } from '../../baselines/baseline.js';
import { errors } from '../../model/errors.js';
import type { TenantRegistryEvent, TenantSettings } from '../../model/outputs.js';
import { BASELINE_DETECTOR } from '../../stages/tenant/events.js';
import { recordTenantEvents } from '../tenant-writes.js';
import type { AppContext } from '../../http/context.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { instantQuery, tenantParams, traceParams } from '../../http/validate.js';
import { auditExportAnswer, dateTime, settingsAnswer } from '../answers.js';

/** A tenant's own settings: PUT replaces them; an absent or null value means the default. */
export const settingsBody = z.strictObject({
  baseline_sigma: z.number().min(0.5, 'must be at least 0.5').max(100, 'must be at most 100').nullable().optional(),
  baseline_min_samples: z.number().int('must be an integer').min(2, 'must be at least 2').max(1_000_000, 'must be at most 1000000').nullable().optional(),
});

export const exportQuery = z.object({
  format: z.enum(EXPORT_PROFILES, { message: `must be one of ${EXPORT_PROFILES.join(', ')}` }),
  from: instantQuery.optional(),
  to: instantQuery.optional(),
});

const ERRORS_TENANT = [400, 401, 404] as const;

export const tenantStageOperations = {
  verifyAudit: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/audit/verify',
    operationId: 'verifyAudit',
    summary: "Verify the tenant's audit hash chain",
    tags: ['audit'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'the verification',
      schema: z.object({
        tenant_id: z.string(),
        ok: z.boolean(),
        checked: z.int(),
        head: z.object({ seq: z.int(), hash: z.string() }).nullable(),
        first_broken: z.object({ seq: z.int(), index: z.int(), reason: z.string() }).nullable(),
      }),
    },
    errors: ERRORS_TENANT,
  }),
  exportAudit: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/audit/export',
    operationId: 'exportAudit',
    summary: 'Export the audit records as a verifiable package',
    tags: ['audit'],
    security: 'tenant',
    params: tenantParams,
    query: exportQuery,
    response: { status: 200, description: 'the export package', schema: auditExportAnswer },
    errors: ERRORS_TENANT,
  }),
  listBaselines: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/baselines',
    operationId: 'listBaselines',
    summary: 'Baselines per service and agent',
    tags: ['baselines'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'the baselines',
      schema: z.object({
        tenant_id: z.string(),
        sigma_threshold: z.number(),
        min_samples: z.int(),
        baselines: z.array(
          z.object({
            service: z.string(),
            agent: z.string().nullable(),
            updated_at: dateTime,
            metrics: z.record(z.string(), z.object({ samples: z.int(), mean: z.number(), stddev: z.number() })),
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  }),
  getSettings: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/settings',
    operationId: 'getSettings',
    summary: "The tenant's settings, with the server's defaults",
    tags: ['settings'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the settings in force', schema: settingsAnswer },
    errors: ERRORS_TENANT,
  }),
  putSettings: defineOperation({
    method: 'put',
    path: '/api/v1/tenants/:tenantId/settings',
    operationId: 'putSettings',
    summary: "Replace the tenant's settings (absent or null: the default)",
    tags: ['settings'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: settingsBody },
    response: { status: 200, description: 'the settings in force', schema: settingsAnswer },
    errors: [...ERRORS_TENANT, 503],
  }),
  traceAnomalies: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/traces/:traceId/anomalies',
    operationId: 'traceAnomalies',
    summary: "The trace's metrics that stand out from their baseline",
    tags: ['baselines'],
    security: 'tenant',
    params: traceParams,
    response: {
      status: 200,
      description: 'the anomalies',
      schema: z.object({
        trace_id: z.string(),
        anomalous: z.boolean(),
        anomalies: z.array(
          z.object({
            detection_id: z.string(),
            metric: z.string(),
            value: z.number(),
            mean: z.number(),
            sigma: z.number(),
            z_score: z.number().nullable(),
            scope: z.object({ service: z.string(), agent: z.string().nullable() }),
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  }),
  feedbackStats: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/feedback/stats',
    operationId: 'feedbackStats',
    summary: 'Feedback counts and calibration per detector',
    tags: ['feedback'],
    security: 'tenant',
    params: tenantParams,
    response: {
      status: 200,
      description: 'per-detector statistics',
      schema: z.object({
        tenant_id: z.string(),
        detectors: z.array(
          z.object({
            detector: z.string(),
            true_positives: z.int(),
            false_positives: z.int(),
            missed: z.int(),
            precision: z.number().nullable(),
            confidence_shift: z.number(),
            updated_at: dateTime,
          }),
        ),
      }),
    },
    errors: ERRORS_TENANT,
  }),
};

export function tenantStageRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    const ops = tenantStageOperations;

    route(ops.verifyAudit, async ({ params: { tenantId } }) => {
      const result = verifyAuditChain(await ctx.queries.auditRecords(tenantId), { tenantId });
      return {
        tenant_id: tenantId,
        ok: result.ok,
        checked: result.checked,
        head: result.head,
        first_broken: result.firstBroken,
      };
    });

    route(ops.exportAudit, async ({ params: { tenantId }, query }) => {
      try {
        const pkg = buildAuditExport(tenantId, await ctx.queries.auditRecords(tenantId), {
          ...(query.from === undefined ? {} : { fromMs: query.from }),
          ...(query.to === undefined ? {} : { toMs: query.to }),
          generatedAtMs: Date.now(),
          profile: query.format,
        });
        return { ...pkg };
      } catch (err) {
        if (err instanceof AuditExportError) throw errors.invalidRequest(`query: ${err.message}`);
        throw err;
      }
    });

    const presentSettings = (tenantId: string, own: TenantSettings) => ({
      tenant_id: tenantId,
      baseline_sigma: own.baselineSigma ?? ctx.config.baselineSigma,
      baseline_min_samples: own.baselineMinSamples ?? ctx.config.baselineMinSamples,
      defaults: { baseline_sigma: ctx.config.baselineSigma, baseline_min_samples: ctx.config.baselineMinSamples },
    });

    route(ops.getSettings, async ({ params: { tenantId } }) => presentSettings(tenantId, await ctx.queries.settings(tenantId)));

    route(ops.putSettings, async ({ params: { tenantId }, body }) => {
      const atMs = Date.now();
      const settings: TenantSettings = { baselineSigma: body.baseline_sigma ?? null, baselineMinSamples: body.baseline_min_samples ?? null };
      const change: TenantRegistryEvent = { type: 'tenant_settings_changed', tenantId, atMs, ...settings };
      await recordTenantEvents(ctx, [change]);
      return presentSettings(tenantId, settings);
    });

    route(ops.listBaselines, async ({ params: { tenantId } }) => {
      const baselines = await ctx.queries.baselines(tenantId);
      const own = await ctx.queries.settings(tenantId);
      return {
        tenant_id: tenantId,
        sigma_threshold: own.baselineSigma ?? ctx.config.baselineSigma,
        min_samples: own.baselineMinSamples ?? ctx.config.baselineMinSamples,
        baselines: baselines.map((b) => ({
          service: b.serviceName,
          agent: b.agent === '' ? null : b.agent,
          updated_at: new Date(b.updatedAtMs).toISOString(),
          metrics: Object.fromEntries(Object.entries(b.metrics).map(([name, s]) => [name, { samples: s.count, mean: s.mean, stddev: stddev(s) }])),
        })),
      };
    });

    route(ops.traceAnomalies, async ({ params: { tenantId, traceId } }) => {
      const summary = await ctx.queries.trace(tenantId, traceId);
      if (summary === null) throw errors.notFound(`trace ${traceId} not found`);
      const found = (await ctx.queries.detectionsOfTrace(tenantId, traceId)).filter((d) => d.detectorId === BASELINE_DETECTOR.id);
      const anomalies = found.flatMap((d) =>
        d.evidence.map((e) => {
          const data = JSON.parse(e.dataJson) as { metric: string; value: number; mean: number; sigma: number; zScore: number | null };
          return {
            detection_id: d.id,
            metric: data.metric,
            value: data.value,
            mean: data.mean,
            sigma: data.sigma,
            z_score: data.zScore,
            scope: { service: summary.serviceName, agent: d.agent },
          };
        }),
      );
      return { trace_id: traceId, anomalous: anomalies.length > 0, anomalies };
    });

    route(ops.feedbackStats, async ({ params: { tenantId } }) => {
      const calibrations = await ctx.queries.calibrations(tenantId);
      return {
        tenant_id: tenantId,
        detectors: calibrations.map((c) => ({
          detector: c.detectorId,
          true_positives: c.truePositives,
          false_positives: c.falsePositives,
          missed: c.missed,
          precision: c.precision,
          confidence_shift: c.confidenceShift,
          updated_at: new Date(c.updatedAtMs).toISOString(),
        })),
      };
    });
  };
}
