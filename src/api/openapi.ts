/**
 * The OpenAPI 3.1 document of every HTTP route, served at GET /docs. Nothing here is written
 * by hand: each route is declared once, beside its handler, with src/http/route.ts
 * (`defineOperation`): the same declaration registers it with Fastify and is listed below,
 * and src/http/openapi.ts generates the document from the list.
 *
 * `operations` is in the order of the README's API table. test/unit/api/openapi.test.ts
 * fails while a route Fastify serves is not listed, or a listed one is not served.
 */
import * as tenantKeyApi from './routes/tenant-key-routes.js';
import * as replayApi from './routes/replay-routes.js';
import * as rollupApi from './routes/rollup-routes.js';
import * as tenantStageApi from './routes/tenant-stage-routes.js';
import * as traceApi from './routes/trace-routes.js';
import { AGENTA_PREFIXES, agentaOperations } from './routes/compat/agenta-routes.js';
import { agentStraceOperations } from './routes/compat/agent-strace-routes.js';
import { docsOperations } from './routes/docs-routes.js';
import { healthOperations } from './routes/health-routes.js';
import { uiOperations } from './routes/ui-routes.js';
import { metricsOperation } from '../http/prometheus/http.js';
import { openApiDocument, openApiPath } from '../http/openapi.js';
import { otlpOperations } from '../ingest/routes.js';
import { flatSpanOperations } from '../ingest/flat/routes.js';
import { sessionOperations } from '../ingest/sessions/routes.js';
import { cognipeerOperations } from './routes/compat/cognipeer-routes.js';
import type { ErrorStatus, JsonSchema, Operation } from '../http/route.js';

export { openApiPath };
export type { ErrorStatus, JsonSchema, Operation };

/** Every HTTP route, in the order of the README's API table. */
export const operations: readonly Operation[] = [
  // ---- ingest
  otlpOperations.exportTraces,
  otlpOperations.exportLogs,
  otlpOperations.ingestTenantTraces,
  otlpOperations.ingestTracesForCaller,
  flatSpanOperations.ingestFlatSpans,
  flatSpanOperations.ingestTenantFlatSpans,

  // ---- sessions (tracefold's paths)
  sessionOperations.sendSession,
  sessionOperations.getSession,
  sessionOperations.startSession,
  sessionOperations.appendSessionEvents,
  sessionOperations.endSession,

  // ---- sessions (Cognipeer Console's paths and answer shapes; tenant from the credential)
  cognipeerOperations.sendSessionCompat,
  cognipeerOperations.startSessionCompat,
  cognipeerOperations.appendSessionEventsCompat,
  cognipeerOperations.endSessionCompat,
  cognipeerOperations.sendOtlpCompat,

  // ---- auth
  tenantKeyApi.tenantKeyOperations.createTenant,
  tenantKeyApi.tenantKeyOperations.issueToken,
  tenantKeyApi.tenantKeyOperations.listTenants,
  tenantKeyApi.tenantKeyOperations.getTenant,
  tenantKeyApi.tenantKeyOperations.createApiKey,
  tenantKeyApi.tenantKeyOperations.listApiKeys,
  tenantKeyApi.tenantKeyOperations.revokeApiKey,

  // ---- traces and detections
  traceApi.traceOperations.listTraces,
  traceApi.traceOperations.getTrace,
  traceApi.traceOperations.analyzeTrace,
  traceApi.traceOperations.listDetections,
  traceApi.traceOperations.recordFeedback,
  tenantStageApi.tenantStageOperations.feedbackStats,

  // ---- replays
  replayApi.replayOperations.startReplay,
  replayApi.replayOperations.listReplays,
  replayApi.replayOperations.getReplay,
  replayApi.replayOperations.replayDiff,
  replayApi.replayOperations.promoteReplay,
  replayApi.replayOperations.rollbackReplay,
  replayApi.replayOperations.cancelReplay,

  rollupApi.rollupOperations.metricRollups,

  // ---- the tenant stage's views
  tenantStageApi.tenantStageOperations.verifyAudit,
  tenantStageApi.tenantStageOperations.exportAudit,
  tenantStageApi.tenantStageOperations.listBaselines,
  tenantStageApi.tenantStageOperations.getSettings,
  tenantStageApi.tenantStageOperations.putSettings,
  tenantStageApi.tenantStageOperations.traceAnomalies,

  // ---- operations
  healthOperations.healthz,
  healthOperations.readyz,
  metricsOperation,
  docsOperations.openapi,
  docsOperations.openapiJson,
  uiOperations.webUi,
  uiOperations.webUiScript,
  uiOperations.webUiStyles,
  agentStraceOperations.createIngestToken,
  agentStraceOperations.agentStraceStream,
  agentStraceOperations.agentStraceOtlp,
  agentStraceOperations.agentStraceOtlpDoubled,
  agentStraceOperations.agentStraceMetrics,
  agentStraceOperations.otlpMetrics,
  ...AGENTA_PREFIXES.flatMap((prefix) => Object.values(agentaOperations[prefix])),
];

// ---- the document

/** The OpenAPI 3.1 document of every route (`ops`, by default all of them). */
export function buildOpenApiDocument(ops: readonly Operation[] = operations, version = '0.1.0'): JsonSchema {
  return openApiDocument(
    ops,
    {
      title: 'tracefold',
      version,
      description: 'OTLP and session ingest, trace queries, failure detections, feedback, audit and baselines. Errors answer {error, message}.',
    },
  );
}
