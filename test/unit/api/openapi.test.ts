/**
 * The OpenAPI document (generated from the routes' declarations, src/api/openapi.ts) against
 * the routes Fastify really serves: every registered route must be documented and every
 * documented operation registered, so a route whose declaration is not listed fails here.
 * The document must also be valid OpenAPI 3.1.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiPath, operations } from '../../../src/api/openapi.js';
import { request, startServer, type TestServer } from '../../support/server.js';

/**
 * "METHOD /path" for every route in Fastify's route tree, read from printRoutes: one line a
 * node, its depth shown by 4-character indent groups before the branch mark.
 */
function registeredRoutes(tree: string): Set<string> {
  const routes = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      // Fastify answers HEAD for every GET by itself.
      if (method !== '' && method !== 'HEAD') routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

describe('OpenAPI document', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('documents every registered route, and only those', () => {
    const tree = server.tracefold.app.printRoutes({ commonPrefix: false });
    const registered = registeredRoutes(tree);
    // The parser must have understood the tree: a route of each depth is there.
    expect(registered).toContain('GET /healthz');
    expect(registered).toContain('POST /api/v1/tenants/:tenantId/sessions/:sessionId/end');

    const documented = new Set(operations.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    expect([...registered].filter((r) => !documented.has(r)).sort(), 'registered but not in src/api/openapi.ts operations').toEqual([]);
    expect([...documented].filter((r) => !registered.has(r)).sort(), 'documented but not registered').toEqual([]);
    for (const op of operations) {
      expect(server.tracefold.app.hasRoute({ method: op.method.toUpperCase(), url: op.path }), `${op.method} ${op.path}`).toBe(true);
    }
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const document = buildOpenApiDocument();
    const result = await new Validator().validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes each operation completely', () => {
    const document = buildOpenApiDocument() as { paths: Record<string, Record<string, any>>; components: any };
    for (const op of operations) {
      const entry = document.paths[openApiPath(op.path)]?.[op.method];
      const name = `${op.method.toUpperCase()} ${op.path}`;
      expect(entry, name).toBeDefined();
      expect(entry.summary, name).not.toBe('');
      expect(entry.tags.length, name).toBeGreaterThan(0);
      expect(entry.responses[String(op.response.status)], name).toBeDefined();
      const pathParams = (entry.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      expect(pathParams.sort(), name).toEqual([...op.path.matchAll(/:(\w+)/g)].map((m) => m[1]).sort());
      if (op.security === 'tenant') {
        expect(entry.security, name).toEqual([{ bearer: [] }]);
        expect(entry.responses['401'], name).toEqual({ $ref: '#/components/responses/E401' });
      }
    }
    // Every reference resolves within the document.
    const text = JSON.stringify(document);
    for (const [, target] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: any = document;
      for (const part of target!.split('/')) node = node?.[part];
      expect(node, target).toBeDefined();
    }
    // zod's output is inlined: a $defs reference would not resolve inside the document.
    expect(text).not.toContain('$defs');
  });

  it('takes request schemas from the routes: query, path and body constraints', () => {
    const document = buildOpenApiDocument() as { paths: Record<string, Record<string, any>> };
    const list = document.paths['/api/v1/tenants/{tenantId}/detections']!.get;
    expect(list.parameters).toContainEqual({ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } });
    const trace = document.paths['/api/v1/tenants/{tenantId}/traces/{traceId}']!.get;
    expect(trace.parameters).toContainEqual({ name: 'traceId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } });
    const exportAudit = document.paths['/api/v1/tenants/{tenantId}/audit/export']!.get;
    expect(exportAudit.parameters.find((p: any) => p.name === 'format')).toMatchObject({ required: true, schema: { enum: ['eu-ai-act'] } });
    const settings = document.paths['/api/v1/tenants/{tenantId}/settings']!.put.requestBody.content['application/json'].schema;
    expect(settings).toMatchObject({ type: 'object', additionalProperties: false, properties: { baseline_sigma: { anyOf: [{ type: 'number', minimum: 0.5, maximum: 100 }, { type: 'null' }] } } });
    const feedback = document.paths['/api/v1/tenants/{tenantId}/feedback']!.post.requestBody.content['application/json'].schema;
    expect(feedback.oneOf.map((v: any) => v.properties.feedback_type)).toEqual([{ type: 'string', enum: ['true_positive', 'false_positive'] }, { type: 'string', const: 'missed' }]);
    const otlp = document.paths['/v1/traces']!.post.requestBody.content;
    expect(Object.keys(otlp).sort()).toEqual(['application/json', 'application/x-protobuf']);
  });

  it('is served at /docs and /docs/openapi.json without a credential', async () => {
    for (const path of ['/docs', '/docs/openapi.json']) {
      const res = await request(`${server.url}${path}`, 'GET');
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    }
  });
});
