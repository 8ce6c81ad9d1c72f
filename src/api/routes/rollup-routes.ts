/**
 * Metric rollups (src/views/rollups.ts):
 *   GET /api/v1/tenants/:tenantId/metrics/rollups   runs, tokens, cost, error rates and
 *       p50/p95 duration per minute or hour, grouped by service, agent or model
 * Percentiles are estimates within 9.05% of the exact nearest-rank value (rollups.ts).
 * Buckets overlapping [from, to) are returned, oldest first, at most `limit` rows.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GRANULARITIES, GROUP_BYS } from '../../views/rollups.js';
import type { AppContext } from '../../http/context.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { instantQuery, tenantParams } from '../../http/validate.js';
import { dateTime, requestedInstant } from '../answers.js';


export const MAX_ROLLUP_ROWS = 10_000;

/** Without from: the 24 h of hours, or 60 min of minutes, before to (default now). */
const DEFAULT_SPAN_MS = { minute: 60 * 60_000, hour: 24 * 3_600_000 } as const;

export const rollupQuery = z
  .object({
    granularity: z.enum(GRANULARITIES, { message: `must be one of ${GRANULARITIES.join(', ')}` }).default('hour'),
    group_by: z.enum(GROUP_BYS, { message: `must be one of ${GROUP_BYS.join(', ')}` }).default('service'),
    from: instantQuery.optional(),
    to: instantQuery.optional(),
    /** One group only; '' is the group of runs with no agent (or no model). */
    group: z.string().max(1024, 'must be at most 1024 characters').optional(),
    limit: z.coerce
      .number({ message: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_ROLLUP_ROWS, `must be at most ${MAX_ROLLUP_ROWS}`)
      .default(1000),
  })
  .superRefine((q, ctx) => {
    if (q.from !== undefined && q.to !== undefined && q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
  });

export type RollupQueryInput = z.input<typeof rollupQuery>;

export const rollupOperations = {
  metricRollups: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/metrics/rollups',
    operationId: 'metricRollups',
    summary: 'Runs, tokens, cost, error rates and duration percentiles per minute or hour, by service, agent or model',
    tags: ['traces'],
    security: 'tenant',
    params: tenantParams,
    query: rollupQuery,
    response: {
      status: 200,
      description: 'buckets overlapping [from, to), oldest first',
      schema: z.object({
        tenant_id: z.string(),
        granularity: z.enum(GRANULARITIES),
        group_by: z.enum(GROUP_BYS),
        from: requestedInstant,
        to: requestedInstant,
        items: z.array(
          z.object({
            bucket_start: dateTime,
            group: z.string(),
            runs: z.int(),
            spans: z.int(),
            input_tokens: z.int(),
            output_tokens: z.int(),
            cost_usd: z.number().nullable(),
            unpriced_runs: z.int(),
            error_rate: z.number().nullable(),
            span_error_rate: z.number().nullable(),
            p50_duration_ms: z.number().nullable(),
            p95_duration_ms: z.number().nullable(),
          }),
        ),
      }),
    },
    errors: [400, 401, 404],
  }),
};

export function rollupRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    routesOf(app, ctx)(rollupOperations.metricRollups, async ({ params: { tenantId }, query }) => {
      const to = query.to ?? Date.now();
      const from = query.from ?? to - DEFAULT_SPAN_MS[query.granularity];
      const rows = await ctx.queries.rollups(tenantId, {
        granularity: query.granularity,
        groupBy: query.group_by,
        fromMs: Math.max(0, from),
        toMs: to,
        ...(query.group === undefined ? {} : { group: query.group }),
        limit: query.limit,
      });
      return {
        tenant_id: tenantId,
        granularity: query.granularity,
        group_by: query.group_by,
        from: new Date(Math.max(0, from)).toISOString(),
        to: new Date(to).toISOString(),
        items: rows.map((r) => ({
          bucket_start: new Date(r.bucketStartMs).toISOString(),
          group: r.group,
          runs: r.runs,
          spans: r.spans,
          input_tokens: r.inputTokens,
          output_tokens: r.outputTokens,
          cost_usd: r.costUsd,
          unpriced_runs: r.unpricedRuns,
          error_rate: r.errorRate,
          span_error_rate: r.spanErrorRate,
          p50_duration_ms: r.p50DurationMs,
          p95_duration_ms: r.p95DurationMs,
        })),
      };
    });
  };
}
