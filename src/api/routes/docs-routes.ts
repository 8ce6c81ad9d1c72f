/**
 * GET /docs and GET /docs/openapi.json: the OpenAPI 3.1 document of the HTTP API
 * (src/api/openapi.ts), unauthenticated, as the health and metrics routes are.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildOpenApiDocument } from '../openapi.js';

export function docsRoutes() {
  return async (app: FastifyInstance) => {
    // Serialized once: the document does not change while the process runs.
    const body = JSON.stringify(buildOpenApiDocument());
    const send = async (_request: FastifyRequest, reply: FastifyReply) => reply.type('application/json; charset=utf-8').send(body);
    app.get('/docs', send);
    app.get('/docs/openapi.json', send);
  };
}
