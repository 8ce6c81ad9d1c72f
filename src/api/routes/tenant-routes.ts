/**
 * What the tenant stage keeps, as the views hold it: the audit chain (verify, export),
 * baselines and the anomalies they found, and feedback statistics per detector.
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
import { authenticateForTenant } from '../../http/auth.js';
import type { AppContext } from '../../http/context.js';
import { instantQuery, parseWith, tenantParams, traceParams } from '../../http/validate.js';


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

export function tenantRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/tenants/:tenantId/audit/verify', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const result = verifyAuditChain(await ctx.queries.auditRecords(tenantId), { tenantId });
      return {
        tenant_id: tenantId,
        ok: result.ok,
        checked: result.checked,
        head: result.head,
        first_broken: result.firstBroken,
      };
    });

    app.get('/api/v1/tenants/:tenantId/audit/export', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      const query = parseWith(exportQuery, request.query, 'query');
      await authenticateForTenant(ctx, request, tenantId);
      try {
        return buildAuditExport(tenantId, await ctx.queries.auditRecords(tenantId), {
          ...(query.from === undefined ? {} : { fromMs: query.from }),
          ...(query.to === undefined ? {} : { toMs: query.to }),
          generatedAtMs: Date.now(),
          profile: query.format,
        });
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

    app.get('/api/v1/tenants/:tenantId/settings', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      return presentSettings(tenantId, await ctx.queries.settings(tenantId));
    });

    app.put('/api/v1/tenants/:tenantId/settings', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const body = parseWith(settingsBody, request.body, 'body');
      const atMs = Date.now();
      const settings: TenantSettings = { baselineSigma: body.baseline_sigma ?? null, baselineMinSamples: body.baseline_min_samples ?? null };
      const change: TenantRegistryEvent = { type: 'tenant_settings_changed', tenantId, atMs, ...settings };
      await recordTenantEvents(ctx, [change]);
      return presentSettings(tenantId, settings);
    });

    app.get('/api/v1/tenants/:tenantId/baselines', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
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

    app.get('/api/v1/tenants/:tenantId/traces/:traceId/anomalies', async (request) => {
      const { tenantId, traceId } = parseWith(traceParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
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

    app.get('/api/v1/tenants/:tenantId/feedback/stats', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
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
