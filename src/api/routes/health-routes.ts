/**
 * Liveness and readiness: /healthz answers while the process runs; /readyz reflects the
 * log's connectivity and, where this process keeps views, how far they lag behind.
 */
import type { FastifyInstance } from 'fastify';
import type { Log } from '../../log/port.js';
import type { Views } from '../../views/views.js';

export function healthRoutes(log: Log, views: Views | null, roles: readonly string[]) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok', roles }));

    app.get('/readyz', async (_request, reply) => {
      const logHealthy = await log.healthy();
      let viewLag: number | null = null;
      if (logHealthy && views !== null) {
        viewLag = 0;
        for (const topic of views.topics) viewLag += views.positions.lag(topic, await log.endOffsets(topic));
      }
      return reply
        .code(logHealthy ? 200 : 503)
        .send({ status: logHealthy ? 'ready' : 'not_ready', roles, log: { kind: log.kind, healthy: logHealthy }, view_lag: viewLag });
    });
  };
}
