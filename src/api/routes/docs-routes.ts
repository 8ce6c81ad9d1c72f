/**
 * GET /docs and GET /docs/openapi.json: the OpenAPI 3.1 document of the HTTP API, generated
 * from the routes' declarations (src/api/openapi.ts), unauthenticated, as the health and
 * metrics routes are.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { defineOperation, routesOf, type JsonSchema } from '../../http/route.js';

const documentAnswer = z.record(z.string(), z.unknown()).describe('an OpenAPI 3.1 document');

export const docsOperations = {
  openapi: defineOperation({
    method: 'get',
    path: '/docs',
    operationId: 'openapi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'OpenAPI 3.1', schema: documentAnswer },
    errors: [],
  }),
  openapiJson: defineOperation({
    method: 'get',
    path: '/docs/openapi.json',
    operationId: 'openapiJson',
    summary: 'This OpenAPI document (same as /docs)',
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description: 'OpenAPI 3.1', schema: documentAnswer },
    errors: [],
  }),
};

/** `document` builds the document (src/api/openapi.ts), given here so that the two modules do not import each other. */
export function docsRoutes(document: () => JsonSchema) {
  return async (app: FastifyInstance) => {
    // Serialized once: the document does not change while the process runs.
    const body = JSON.stringify(document());
    const route = routesOf(app, null);
    for (const op of [docsOperations.openapi, docsOperations.openapiJson]) {
      route(op, async (_input, _request, reply) => reply.type('application/json; charset=utf-8').send(body));
    }
  };
}
