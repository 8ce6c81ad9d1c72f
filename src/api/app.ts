/**
 * The HTTP application: the kernel (src/http/server.ts: error mapping, request metrics, body
 * checks) with the routes of the process's roles on it, built without listening, so tests
 * can inject requests and the CLI can listen.
 *
 * Metrics: ingest routes live in one scope whose onResponse hook counts their answers by
 * status and rejection reason, and they append through a log bounded by the process's
 * in-flight byte budget (src/http/limits). GET /metrics is served on the same host and port as everything else, unauthenticated.
 */
import type { FastifyInstance } from 'fastify';
import { BoundedIngestLog } from '../http/limits/index.js';
import { flatSpanRoutes } from '../ingest/flat/routes.js';
import { ingestRoutes } from '../ingest/routes.js';
import { SessionService, sessionRoutes } from '../ingest/sessions/routes.js';
import type { AppContext, BaseContext, IngestContext } from '../http/context.js';
import { ingestMetricsHook, metricsRoutes } from '../http/prometheus/http.js';
import { createHttpServer } from '../http/server.js';
import { tenantKeyRoutes } from './routes/tenant-key-routes.js';
import { docsRoutes } from './routes/docs-routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { healthRoutes } from './routes/health-routes.js';
import { traceRoutes } from './routes/trace-routes.js';
import { tenantStageRoutes } from './routes/tenant-stage-routes.js';
import { rollupRoutes } from './routes/rollup-routes.js';
import { replayRoutes } from './routes/replay-routes.js';
import { uiRoutes } from './routes/ui-routes.js';
import { agentaIngestRoutes, agentaQueryRoutes } from './routes/compat/agenta-routes.js';
import { cognipeerRoutes } from './routes/compat/cognipeer-routes.js';
import { agentStraceIngestRoutes, agentStraceTokenRoutes } from './routes/compat/agent-strace-routes.js';

/** Which route groups a process serves, by its roles. */
export interface AppRoutes {
  /** OTLP and tenant-path ingest. */
  readonly ingest: boolean;
  /** Tenants, tokens, queries, analyze, feedback. */
  readonly api: boolean;
}

/**
 * `ctx` is null for a process that serves no tenant routes (a trace stage alone): it still
 * answers /healthz and /readyz.
 */
export function buildApp(base: BaseContext, ctx: AppContext | null, routes: AppRoutes, roles: readonly string[]): FastifyInstance {
  const app = createHttpServer(base);

  void app.register(healthRoutes(base.log, ctx?.views ?? null, roles, base.config.readyMaxViewLag, base.stages ?? []));
  void app.register(metricsRoutes(base.metrics));
  void app.register(docsRoutes(() => buildOpenApiDocument()));
  if (ctx !== null && routes.ingest) {
    const ingestCtx: IngestContext = { ...ctx, log: new BoundedIngestLog(ctx.log, ctx.limits.inflight, ctx.metrics) };
    // Every ingest route goes in this scope, so the hook counts its answers and rejections.
    void app.register(async (ingest) => {
      ingest.addHook('onResponse', ingestMetricsHook(ctx.metrics));
      await ingest.register(ingestRoutes(ingestCtx));
      // One session service, so tracefold's and Cognipeer's paths share its per-session order.
      const sessions = new SessionService(ingestCtx);
      await ingest.register(sessionRoutes(ingestCtx, sessions));
      await ingest.register(flatSpanRoutes(ingestCtx));
      // Other products' documented APIs on their own paths (README: compatibility).
      await ingest.register(agentaIngestRoutes(ingestCtx));
      await ingest.register(cognipeerRoutes(ingestCtx, sessions));
      await ingest.register(agentStraceIngestRoutes(ingestCtx));
    });
  }
  if (ctx !== null && routes.api) {
    void app.register(tenantKeyRoutes(ctx));
    void app.register(traceRoutes(ctx));
    void app.register(tenantStageRoutes(ctx));
    void app.register(rollupRoutes(ctx));
    void app.register(replayRoutes(ctx));
    void app.register(agentaQueryRoutes(ctx));
    void app.register(agentStraceTokenRoutes(ctx));
    void app.register(uiRoutes());
  }
  return app;
}
