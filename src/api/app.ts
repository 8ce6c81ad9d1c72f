/**
 * The HTTP application: built without listening, so tests can inject requests and the CLI
 * can listen. Every error leaves through one handler: TracefoldError codes with their
 * status (Retry-After for retryable ones), a log error that says it is retryable (a broker or
 * coordinator away or moving) as 503 with Retry-After, Fastify's own 4xx with a message,
 * other 5xx masked.
 *
 * Metrics: every request's latency is observed; ingest routes live in one scope whose
 * onResponse hook counts their answers by status and rejection reason, and they append
 * through a log bounded by the process's in-flight byte budget (src/ingest/limits).
 * GET /metrics is served on the same host and port as everything else, unauthenticated.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { BoundedIngestLog } from '../ingest/limits/index.js';
import { flatSpanRoutes } from '../ingest/flat/routes.js';
import { ingestRoutes } from '../ingest/routes.js';
import { SessionService, sessionRoutes } from '../ingest/sessions/routes.js';
import { errors, TracefoldError } from '../model/errors.js';
import { KEY_PART_LIMITS } from '../model/key-parts.js';
import type { AppContext, BaseContext } from './context.js';
import { checkBodyNesting } from './validate.js';
import { httpMetricsHook, ingestMetricsHook, metricsRoutes, noteErrorCode } from './metrics/http.js';
import { authRoutes } from './routes/auth-routes.js';
import { docsRoutes } from './routes/docs-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { traceRoutes } from './routes/trace-routes.js';
import { tenantRoutes } from './routes/tenant-routes.js';
import { rollupRoutes } from './routes/rollup-routes.js';
import { replayRoutes } from './routes/replay-routes.js';
import { agentaIngestRoutes, agentaQueryRoutes } from './routes/compat/agenta-routes.js';
import { cognipeerRoutes } from './routes/compat/cognipeer-routes.js';
import { agentStraceIngestRoutes, agentStraceTokenRoutes } from './routes/compat/agent-strace-routes.js';

/**
 * Path parameters are ids, which ingest takes up to the key-part limit; the router sees them
 * percent-encoded (a UTF-16 code unit is at most 3 UTF-8 bytes, each `%XX`), so it lets
 * through anything that could decode to an id ingest accepts, and the routes' schemas then
 * apply the limit itself with a 400 naming the parameter.
 */
const MAX_ENCODED_PARAM_LENGTH = 9 * Math.max(...Object.values(KEY_PART_LIMITS));

/**
 * Fastify's own client errors (FST_ERR_*: an empty or malformed JSON body, an unsupported
 * content type, an over-long URL) leave in the documented shape, with the codes the API
 * documents for their statuses rather than Fastify's internal ones.
 */
const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_REQUEST',
  404: 'NOT_FOUND',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function clientErrorMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return `body: invalid JSON (${error.message})`;
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'body: empty, but Content-Type says application/json; send a JSON body, or no Content-Type';
  if (error.code?.startsWith('FST_ERR_CTP_') === true) return `body: ${error.message}`;
  return error.message;
}

/** Which route groups a process serves, by its roles. */
export interface AppRoutes {
  /** OTLP and tenant-path ingest. */
  readonly ingest: boolean;
  /** Tenants, tokens, queries, analyze, feedback. */
  readonly api: boolean;
}

/** The log adapters mark failures that a later attempt can fix (KafkaLogError.retryable). */
function isRetryableLogError(error: unknown): boolean {
  return !(error instanceof TracefoldError) && (error as { retryable?: unknown }).retryable === true;
}

/**
 * `ctx` is null for a process that serves no tenant routes (a trace stage alone): it still
 * answers /healthz and /readyz.
 */
export function buildApp(base: BaseContext, ctx: AppContext | null, routes: AppRoutes, roles: readonly string[]): FastifyInstance {
  const logger: FastifyBaseLogger = base.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: base.config.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_ENCODED_PARAM_LENGTH },
    // Per-request logs would dominate at ingest volumes; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook('onResponse', httpMetricsHook(base.metrics));
  // Every JSON body, on every route, before any handler walks it.
  app.addHook('preValidation', async (request) => checkBodyNesting(request.body));

  app.setErrorHandler((thrown: FastifyError | TracefoldError, request, reply) => {
    const error = isRetryableLogError(thrown) ? errors.logNotAnswering(thrown) : thrown;
    if (error instanceof TracefoldError) {
      noteErrorCode(request, error.code);
      if (error.retryAfterMs !== undefined) void reply.header('retry-after', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      if (error.statusCode >= 500) request.log.warn({ err: error.cause ?? error }, error.message);
      return reply.code(error.statusCode).send({ error: error.code, message: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      noteErrorCode(request, 'PAYLOAD_TOO_LARGE');
      // A route may have a limit of its own (another product's paths, with that product's setting).
      const limit = request.routeOptions.bodyLimit ?? base.config.maxBodyBytes;
      const setting = (request.routeOptions.config as { bodyLimitSetting?: string } | undefined)?.bodyLimitSetting ?? 'TRACEFOLD_MAX_BODY_BYTES';
      return reply.code(413).send({ error: 'PAYLOAD_TOO_LARGE', message: `request body exceeds the limit of ${limit} bytes (${setting})` });
    }
    if (status >= 400 && status < 500) {
      const code = CLIENT_ERROR_CODES[status] ?? 'INVALID_REQUEST';
      noteErrorCode(request, code);
      return reply.code(status).send({ error: code, message: clientErrorMessage(error) });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  void app.register(healthRoutes(base.log, ctx?.views ?? null, roles, base.config.readyMaxViewLag, base.stages ?? []));
  void app.register(metricsRoutes(base.metrics));
  void app.register(docsRoutes());
  if (ctx !== null && routes.ingest) {
    const ingestCtx: AppContext = { ...ctx, log: new BoundedIngestLog(ctx.log, ctx.limits.inflight, ctx.metrics) };
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
    void app.register(authRoutes(ctx));
    void app.register(traceRoutes(ctx));
    void app.register(tenantRoutes(ctx));
    void app.register(rollupRoutes(ctx));
    void app.register(replayRoutes(ctx));
    void app.register(agentaQueryRoutes(ctx));
    void app.register(agentStraceTokenRoutes(ctx));
  }
  return app;
}
