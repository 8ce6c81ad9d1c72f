/**
 * Tenants and tokens: POST /api/v1/auth/tenants creates a tenant and its first API key;
 * POST /api/v1/auth/token exchanges an API key for a short-lived JWT.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TenantRegistryEvent } from '../../model/outputs.js';
import { authenticateForTenant, callerFromApiKey, checkAdmin } from '../../http/auth.js';
import { errors } from '../../model/errors.js';
import type { ApiKeyView, TenantView } from '../../views/view-model.js';
import type { AppContext } from '../../http/context.js';
import { issueApiKey } from '../../http/credentials.js';
import { parseWith, tenantParams } from '../../http/validate.js';
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

export function authRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post('/api/v1/auth/tenants', async (request, reply) => {
      checkAdmin(ctx, request);
      const body = parseWith(createTenantBody, request.body, 'body');
      const tenantId = randomUUID();
      const key = issueApiKey();
      const atMs = Date.now();
      const events: TenantRegistryEvent[] = [
        { type: 'tenant_created', tenantId, name: body.name, atMs },
        { type: 'api_key_created', tenantId, keyId: key.keyId, secretHash: key.secretHash, atMs },
      ];
      await recordTenantEvents(ctx, events);
      ctx.logger.info({ tenantId, keyId: key.keyId }, 'tenant created');
      return reply.code(201).send({
        tenant_id: tenantId,
        name: body.name,
        api_key: key.apiKey,
        key_id: key.keyId,
        created_at: new Date(atMs).toISOString(),
      });
    });

    app.get('/api/v1/tenants', async (request) => {
      // Names of every tenant are for the operator alone: without an admin token, nobody.
      if (ctx.config.adminToken === null) throw errors.forbidden('listing tenants needs TRACEFOLD_ADMIN_TOKEN to be set, and sent as the bearer token');
      checkAdmin(ctx, request);
      return { items: (await ctx.queries.tenants()).map(presentTenant) };
    });

    app.get('/api/v1/tenants/:tenantId', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const tenant = await ctx.queries.tenant(tenantId);
      if (tenant === null) throw errors.notFound(`tenant ${tenantId} not found`);
      return presentTenant(tenant);
    });

    app.post('/api/v1/tenants/:tenantId/api-keys', async (request, reply) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const key = issueApiKey();
      const atMs = Date.now();
      await recordTenantEvents(ctx, [{ type: 'api_key_created', tenantId, keyId: key.keyId, secretHash: key.secretHash, atMs }]);
      return reply.code(201).send({ key_id: key.keyId, api_key: key.apiKey, created_at: new Date(atMs).toISOString(), revoked_at: null });
    });

    app.get('/api/v1/tenants/:tenantId/api-keys', async (request) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      return { items: (await ctx.queries.apiKeysOf(tenantId)).map(presentApiKey) };
    });

    app.delete('/api/v1/tenants/:tenantId/api-keys/:keyId', async (request) => {
      const { tenantId, keyId } = parseWith(keyParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const key = await ctx.queries.apiKey(keyId);
      if (key === null || key.tenantId !== tenantId) throw errors.notFound(`API key ${keyId} not found`);
      // Revoking twice is harmless: the first revocation stands.
      if (key.revokedAtMs !== null) return presentApiKey(key);
      const atMs = Date.now();
      await recordTenantEvents(ctx, [{ type: 'api_key_revoked', tenantId, keyId, atMs }]);
      return presentApiKey({ ...key, revokedAtMs: atMs });
    });

    app.post('/api/v1/auth/token', async (request) => {
      const body = parseWith(tokenBody, request.body, 'body');
      const caller = await callerFromApiKey(ctx, body.api_key);
      return {
        access_token: ctx.tokens.issue(caller),
        token_type: 'bearer',
        expires_in: ctx.tokens.ttlSeconds,
        tenant_id: caller.tenantId,
      };
    });
  };
}
