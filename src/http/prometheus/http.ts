/**
 * Fastify wiring of the metrics: request latency for every route, request and rejection
 * counts for ingest routes (from each response's status and error code, in onResponse, so
 * every ingest route is covered without code of its own), and GET /metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rejectionReason, type Metrics } from './metrics.js';
import { defineOperation, routesOf } from '../route.js';

/** Error codes of answered requests, noted by the error handler for the onResponse hooks. */
const errorCodes = new WeakMap<FastifyRequest, string>();

/** Called by the error handler with the code it answers, so rejections are counted by reason. */
export function noteErrorCode(request: FastifyRequest, code: string): void {
  errorCodes.set(request, code);
}

/** The route template (`/api/v1/tenants/:tenantId/…`), never the raw URL: labels stay few. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** Latency of every request; register on the root instance. */
export function httpMetricsHook(metrics: Metrics) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.httpRequestDuration.observe({ method: request.method, route: routeOf(request) }, reply.elapsedTime / 1000);
  };
}

/** Ingest request and rejection counts; register in the scope that holds the ingest routes. */
export function ingestMetricsHook(metrics: Metrics) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const route = routeOf(request);
    const status = reply.statusCode;
    metrics.ingestRequests.inc({ route, status: String(status) });
    if (status >= 400) metrics.ingestRejectedRequests.inc({ route, reason: rejectionReason(status, errorCodes.get(request)) });
  };
}

/** GET /metrics in the Prometheus text format; unauthenticated (no tenant data in it). */
export const metricsOperation = defineOperation({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  summary: 'Prometheus metrics',
  tags: ['operations'],
  security: 'none',
  response: { status: 200, description: 'Prometheus text exposition format', contentType: 'text/plain' },
  errors: [],
});

export function metricsRoutes(metrics: Metrics) {
  return async (app: FastifyInstance) => {
    routesOf(app, null)(metricsOperation, async (_input, _request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(text);
    });
  };
}
