/**
 * Declared routes (src/http/route.ts) on a bare Fastify instance with a stand-in context:
 * the credential is checked before params, query and body; a tenant path refuses another
 * tenant's credential with 404; zod's messages name the field; the declared status is the
 * answer's; and the generated document (src/http/openapi.ts) holds named schemas under
 * components, with every reference resolving.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AppContext } from '../../../src/http/context.js';
import { openApiDocument } from '../../../src/http/openapi.js';
import { defineOperation, routesOf } from '../../../src/http/route.js';
import { tenantParams } from '../../../src/http/validate.js';

/** Token `tok-a` belongs to tenant a, `tok-b` to tenant b; the admin token is `adm`. */
const ctx = {
  config: { adminToken: 'adm', openIngestTenant: null },
  views: {
    joined: true,
    apiKeys: { get: async (keyId: string) => ({ keyId, tenantId: keyId === 'ka' ? 'a' : 'b', secretHash: '', revokedAtMs: null }) },
  },
  queries: {},
  tokens: {
    check: (token: string) => (token === 'tok-a' ? { tenantId: 'a', keyId: 'ka' } : token === 'tok-b' ? { tenantId: 'b', keyId: 'kb' } : { error: 'token is not valid' }),
  },
} as unknown as AppContext;

const item = z.object({ id: z.string(), n: z.int() }).meta({ id: 'Item' });

const listItems = defineOperation({
  method: 'get',
  path: '/t/:tenantId/items',
  operationId: 'listItems',
  summary: 'items',
  tags: ['test'],
  security: 'tenant',
  params: tenantParams,
  query: z.object({ limit: z.coerce.number().int().min(1, 'must be at least 1').default(10) }),
  response: { status: 200, description: 'items', schema: z.object({ items: z.array(item), limit: z.int(), caller: z.string() }) },
  errors: [400, 401, 404],
});

const createItem = defineOperation({
  method: 'post',
  path: '/items',
  operationId: 'createItem',
  summary: 'create',
  tags: ['test'],
  security: 'admin',
  body: { schema: z.object({ name: z.string().min(1, 'must not be empty') }) },
  response: { status: 201, description: 'created', schema: item },
  errors: [400, 401],
});

describe('declared routes', () => {
  let app: FastifyInstance;
  afterEach(async () => app?.close());

  async function build() {
    app = Fastify();
    const route = routesOf(app, ctx);
    route(listItems, async ({ query, caller }) => ({ items: [{ id: 'x', n: 1 }], limit: query.limit, caller: caller.tenantId }));
    route(createItem, async ({ body }) => ({ id: body.name, n: 0 }));
    await app.ready();
    return app;
  }

  it('checks the credential before the query, and the path tenant against it', async () => {
    await build();
    const noCredential = await app.inject({ method: 'GET', url: '/t/a/items?limit=0' });
    expect(noCredential.statusCode).toBe(401);
    const badQuery = await app.inject({ method: 'GET', url: '/t/a/items?limit=0', headers: { authorization: 'Bearer tok-a' } });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().message).toBe('query.limit: must be at least 1');
    const otherTenant = await app.inject({ method: 'GET', url: '/t/a/items', headers: { authorization: 'Bearer tok-b' } });
    expect(otherTenant.statusCode).toBe(404);
    expect(otherTenant.json().message).toBe('tenant a not found');
    const ok = await app.inject({ method: 'GET', url: '/t/a/items?limit=3', headers: { authorization: 'Bearer tok-a' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ items: [{ id: 'x', n: 1 }], limit: 3, caller: 'a' });
  });

  it('checks the admin token before the body, and answers with the declared status', async () => {
    await build();
    expect((await app.inject({ method: 'POST', url: '/items', payload: { name: '' } })).statusCode).toBe(401);
    const badBody = await app.inject({ method: 'POST', url: '/items', payload: { name: '' }, headers: { authorization: 'Bearer adm' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().message).toBe('body.name: must not be empty');
    const created = await app.inject({ method: 'POST', url: '/items', payload: { name: 'n' }, headers: { authorization: 'Bearer adm' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({ id: 'n', n: 0 });
  });

  it('generates the document from the declarations, named schemas under components', () => {
    const document = openApiDocument([listItems, createItem], { title: 't', version: '1', description: 'd' }) as any;
    const text = JSON.stringify(document);
    expect(text).not.toContain('$defs');
    expect(document.components.schemas.Item).toMatchObject({ type: 'object', required: ['id', 'n'] });
    expect(document.paths['/t/{tenantId}/items'].get.responses['200'].content['application/json'].schema.properties.items.items).toEqual({ $ref: '#/components/schemas/Item' });
    expect(document.paths['/items'].post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Item' });
    expect(document.paths['/t/{tenantId}/items'].get.parameters).toContainEqual({ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 9007199254740991, default: 10 } });
    for (const [, target] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: any = document;
      for (const part of target!.split('/')) node = node?.[part];
      expect(node, target).toBeDefined();
    }
  });
});
