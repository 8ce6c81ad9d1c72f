/**
 * Liveness and readiness: /healthz answers while the process runs; /readyz reflects the
 * log's connectivity and how far the views lag behind the output topics.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { VIEW_TOPICS } from '../../views/views.js';

export function healthRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok' }));

    app.get('/readyz', async (_request, reply) => {
      const logHealthy = await ctx.log.healthy();
      let viewLag: number | null = null;
      if (logHealthy) {
        viewLag = 0;
        for (const topic of VIEW_TOPICS) viewLag += ctx.views.positions.lag(topic, await ctx.log.endOffsets(topic));
      }
      const ready = logHealthy;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', log: { kind: ctx.log.kind, healthy: logHealthy }, view_lag: viewLag });
    });
  };
}
