/**
 * Liveness and readiness: /healthz answers while the process runs; /readyz answers 503 when
 * the log cannot take appends or a consumer of this process is not consuming (e.g. after an
 * outage, until its group has rejoined), when a stage of this process stopped (its own state
 * failed; the stage and reason are in the answer), or, where this process keeps views, when
 * they lag more than `maxViewLag` records behind the log (a load balancer then sends queries
 * elsewhere until they catch up, e.g. after a restart that replays the output topics).
 *
 * It answers within READY_BUDGET_MS whatever the log does: the log's health is what it last
 * observed, and a view lag the log does not tell in time is the last one it told. Only
 * before the first lag is known (measured as the server starts) does it wait longer, up to
 * FIRST_BUDGET_MS, and only while the log is healthy.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { defineOperation, routesOf } from '../../http/route.js';
import type { Log } from '../../log/port.js';
import type { StageHealth } from '../../runtime/health.js';
import type { Views } from '../../views/views.js';

const READY_BUDGET_MS = 60;
const FIRST_BUDGET_MS = 1_500;

/** The views' lag behind the log, measured with a deadline; the last answer when the log is slow. */
class ViewLag {
  private last: number | null = null;
  private measuring: Promise<number> | null = null;

  constructor(
    private readonly log: Log,
    private readonly views: Views,
  ) {}

  /** Starts a measurement without waiting for it. */
  prime(): void {
    void this.within(0);
  }

  async within(budgetMs: number): Promise<number | null> {
    this.measuring ??= this.measure().finally(() => (this.measuring = null));
    if (this.last === null) budgetMs = Math.max(budgetMs, FIRST_BUDGET_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), budgetMs)));
    try {
      return (await Promise.race([this.measuring.catch(() => null), late])) ?? this.last;
    } finally {
      clearTimeout(timer);
    }
  }

  private async measure(): Promise<number> {
    let lag = 0;
    for (const topic of this.views.topics) lag += this.views.positions.lag(topic, await this.log.endOffsets(topic));
    this.last = lag;
    return lag;
  }
}

export const healthOperations = {
  healthz: defineOperation({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'the process runs', schema: z.object({ status: z.literal('ok'), roles: z.array(z.string()) }) },
    errors: [],
  }),
  readyz: defineOperation({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: "Readiness: the log's connectivity and the views' lag",
    tags: ['operations'],
    security: 'none',
    response: {
      status: 200,
      // 503 answers with the same shape (status not_ready), not the Error body.
      also: [503],
      description: 'ready (503: not ready, and why)',
      schema: z.object({
        status: z.enum(['ready', 'not_ready']),
        roles: z.array(z.string()),
        log: z.object({ kind: z.string(), healthy: z.boolean() }),
        view_lag: z.int().nullable(),
        max_view_lag: z.int(),
        failed_stages: z.array(z.object({ stage: z.string(), reason: z.string() })),
      }),
    },
    errors: [],
  }),
};

export function healthRoutes(log: Log, views: Views | null, roles: readonly string[], maxViewLag: number, stages: readonly StageHealth[]) {
  const viewLag = views === null ? null : new ViewLag(log, views);
  return async (app: FastifyInstance) => {
    app.addHook('onReady', async () => viewLag?.prime());
    const route = routesOf(app, null);
    route(healthOperations.healthz, async () => ({ status: 'ok' as const, roles }));

    route(healthOperations.readyz, async (_input, _request, reply) => {
      const logHealthy = await log.healthy();
      const lag = logHealthy && viewLag !== null ? await viewLag.within(READY_BUDGET_MS) : null;
      // Not measured yet (a slow log right after start) counts as not caught up.
      const caughtUp = viewLag === null || (lag !== null && lag <= maxViewLag);
      const failed = stages.flatMap((stage) => (stage.status.state === 'failed' ? [{ stage: stage.name, reason: stage.status.reason }] : []));
      const ready = logHealthy && caughtUp && failed.length === 0;
      if (!ready) void reply.code(503);
      return {
        status: ready ? ('ready' as const) : ('not_ready' as const),
        roles,
        log: { kind: log.kind, healthy: logHealthy },
        view_lag: lag,
        max_view_lag: maxViewLag,
        failed_stages: failed,
      };
    });
  };
}
