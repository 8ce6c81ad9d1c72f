/**
 * Liveness and readiness: /healthz answers while the process runs; /readyz answers 503 when
 * the log is unreachable, when a stage of this process stopped (its own state failed; the
 * stage and reason are in the answer), or, where this process keeps views, when they lag more than
 * `maxViewLag` records behind the log (a load balancer then sends queries elsewhere until
 * they catch up, e.g. after a restart that replays the output topics).
 */
import type { FastifyInstance } from 'fastify';
import type { Log } from '../../log/port.js';
import type { StageHealth } from '../../stages/stage-health.js';
import type { Views } from '../../views/views.js';

export function healthRoutes(log: Log, views: Views | null, roles: readonly string[], maxViewLag: number, stages: readonly StageHealth[]) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok', roles }));

    app.get('/readyz', async (_request, reply) => {
      const logHealthy = await log.healthy();
      let viewLag: number | null = null;
      if (logHealthy && views !== null) {
        viewLag = 0;
        for (const topic of views.topics) viewLag += views.positions.lag(topic, await log.endOffsets(topic));
      }
      const caughtUp = viewLag === null || viewLag <= maxViewLag;
      const failed = stages.flatMap((stage) => (stage.status.state === 'failed' ? [{ stage: stage.name, reason: stage.status.reason }] : []));
      const ready = logHealthy && caughtUp && failed.length === 0;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        roles,
        log: { kind: log.kind, healthy: logHealthy },
        view_lag: viewLag,
        max_view_lag: maxViewLag,
        failed_stages: failed,
      });
    });
  };
}
