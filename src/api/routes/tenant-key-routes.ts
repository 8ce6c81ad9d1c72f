/**
 * Tenants, API keys and tokens: POST /api/v1/auth/tenants creates a tenant and its first
 * API key; POST /api/v1/auth/token exchanges an API key for a short-lived JWT; tenants are
 * listed and read, keys created, listed and revoked.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TenantRegistryEvent } from '../../model/outputs.js';
import { callerFromApiKey } from '../../http/auth.js';
import { errors } from '../../model/errors.js';
import type { ApiKeyView, TenantView } from '../../views/view-model.js';
import type { AppContext } from '../../http/context.js';
import { issueApiKey } from '../../http/credentials.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { tenantParams } from '../../http/validate.js';
import { apiKeyAnswer, dateTime, tenantAnswer } from '../answers.js';
import { recordTenantEvents } from '../tenant-writes.js';

export const createTenantBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});
export const tokenBody = z.object({
  api_key: z.string().min(1, 'must not be empty'),
  // Sent by Pisama's clients. Every token carries the key's full rights: a narrower scope
  // is not offered, so asking for one is not refused but gets the same token.
  scope: z.enum(['full', 'ingest']).optional(),
});
export const keyParams = tenantParams.extend({ keyId: z.string().min(1).max(64) });

const iso = (ms: number) => new Date(ms).toISOString();
const presentTenant = (t: TenantView) => ({ tenant_id: t.tenantId, name: t.name, created_at: iso(t.createdAtMs) });
const presentApiKey = (k: ApiKeyView) => ({ key_id: k.keyId, created_at: iso(k.createdAtMs), revoked_at: k.revokedAtMs === null ? null : iso(k.revokedAtMs) });

const ERRORS_TENANT = [400, 401, 404] as const;

export const tenantKeyOperations = {
  createTenant: defineOperation({
    method: 'post',
    path: '/api/v1/auth/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant and its first API key (shown once)',
    description: 'Needs the admin token as the bearer token when the server has one (TRACEFOLD_ADMIN_TOKEN); open otherwise.',
    tags: ['auth'],
    security: 'admin',
    body: { schema: createTenantBody },
    response: {
      status: 201,
      description: 'created',
      schema: z.object({
        tenant_id: z.string(),
        name: z.string(),
        api_key: z.string().describe('tfk_…; stored hashed, not shown again'),
        key_id: z.string(),
        created_at: dateTime,
      }),
    },
    errors: [400, 401, 503],
  }),
  issueToken: defineOperation({
    method: 'post',
    path: '/api/v1/auth/token',
    operationId: 'issueToken',
    summary: 'Exchange an API key for a short-lived JWT',
    tags: ['auth'],
    security: 'none',
    body: { schema: tokenBody },
    response: {
      status: 200,
      description: 'a bearer token',
      schema: z.object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.int(), tenant_id: z.string() }),
    },
    errors: [400, 401],
  }),
  listTenants: defineOperation({
    method: 'get',
    path: '/api/v1/tenants',
    operationId: 'listTenants',
    summary: 'Every tenant (operator only)',
    description: 'Needs TRACEFOLD_ADMIN_TOKEN configured on the server and sent as the bearer token; 403 without one configured.',
    tags: ['auth'],
    security: 'admin',
    response: { status: 200, description: 'the tenants', schema: z.object({ items: z.array(tenantAnswer) }) },
    errors: [401, 403],
  }),
  getTenant: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId',
    operationId: 'getTenant',
    summary: 'The tenant of the credential',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the tenant', schema: tenantAnswer },
    errors: ERRORS_TENANT,
  }),
  createApiKey: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/api-keys',
    operationId: 'createApiKey',
    summary: 'Issue another API key (shown once)',
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 201, description: 'the new key', schema: z.object({ key_id: z.string(), api_key: z.string(), created_at: dateTime, revoked_at: z.null() }) },
    errors: [...ERRORS_TENANT, 503],
  }),
  listApiKeys: defineOperation({
    method: 'get',
    path: '/api/v1/tenants/:tenantId/api-keys',
    operationId: 'listApiKeys',
    summary: "The tenant's API keys (ids and dates, never secrets)",
    tags: ['auth'],
    security: 'tenant',
    params: tenantParams,
    response: { status: 200, description: 'the keys', schema: z.object({ items: z.array(apiKeyAnswer) }) },
    errors: ERRORS_TENANT,
  }),
  revokeApiKey: defineOperation({
    method: 'delete',
    path: '/api/v1/tenants/:tenantId/api-keys/:keyId',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (and the tokens issued for it); revoking twice is harmless',
    tags: ['auth'],
    security: 'tenant',
    params: keyParams,
    response: { status: 200, description: 'the revoked key', schema: apiKeyAnswer },
    errors: [...ERRORS_TENANT, 503],
  }),
};

export function tenantKeyRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    const ops = tenantKeyOperations;

    route(ops.createTenant, async ({ body }) => {
      const tenantId = randomUUID();
      const key = issueApiKey();
      const atMs = Date.now();
      const events: TenantRegistryEvent[] = [
        { type: 'tenant_created', tenantId, name: body.name, atMs },
        { type: 'api_key_created', tenantId, keyId: key.keyId, secretHash: key.secretHash, atMs },
      ];
      await recordTenantEvents(ctx, events);
      ctx.logger.info({ tenantId, keyId: key.keyId }, 'tenant created');
      return {
        tenant_id: tenantId,
        name: body.name,
        api_key: key.apiKey,
        key_id: key.keyId,
        created_at: new Date(atMs).toISOString(),
      };
    });

    route(ops.listTenants, async () => {
      // Names of every tenant are for the operator alone: without an admin token, nobody.
      // (With one configured, the route's security has checked it.)
      if (ctx.config.adminToken === null) throw errors.forbidden('listing tenants needs TRACEFOLD_ADMIN_TOKEN to be set, and sent as the bearer token');
      return { items: (await ctx.queries.tenants()).map(presentTenant) };
    });

    route(ops.getTenant, async ({ params: { tenantId } }) => {
      const tenant = await ctx.queries.tenant(tenantId);
      if (tenant === null) throw errors.notFound(`tenant ${tenantId} not found`);
      return presentTenant(tenant);
    });

    route(ops.createApiKey, async ({ params: { tenantId } }) => {
      const key = issueApiKey();
      const atMs = Date.now();
      await recordTenantEvents(ctx, [{ type: 'api_key_created', tenantId, keyId: key.keyId, secretHash: key.secretHash, atMs }]);
      return { key_id: key.keyId, api_key: key.apiKey, created_at: new Date(atMs).toISOString(), revoked_at: null };
    });

    route(ops.listApiKeys, async ({ params: { tenantId } }) => ({ items: (await ctx.queries.apiKeysOf(tenantId)).map(presentApiKey) }));

    route(ops.revokeApiKey, async ({ params: { tenantId, keyId } }) => {
      const key = await ctx.queries.apiKey(keyId);
      if (key === null || key.tenantId !== tenantId) throw errors.notFound(`API key ${keyId} not found`);
      // Revoking twice is harmless: the first revocation stands.
      if (key.revokedAtMs !== null) return presentApiKey(key);
      const atMs = Date.now();
      await recordTenantEvents(ctx, [{ type: 'api_key_revoked', tenantId, keyId, atMs }]);
      return presentApiKey({ ...key, revokedAtMs: atMs });
    });

    route(ops.issueToken, async ({ body }) => {
      const caller = await callerFromApiKey(ctx, body.api_key);
      return {
        access_token: ctx.tokens.issue(caller),
        token_type: 'bearer' as const,
        expires_in: ctx.tokens.ttlSeconds,
        tenant_id: caller.tenantId,
      };
    });
  };
}
