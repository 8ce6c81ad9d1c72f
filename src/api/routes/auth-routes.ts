/**
 * Tenants and tokens: POST /api/v1/auth/tenants creates a tenant and its first API key;
 * POST /api/v1/auth/token exchanges an API key for a short-lived JWT.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TOPICS } from '../../log/topics.js';
import type { TenantEvent } from '../../model/outputs.js';
import { callerFromApiKey, checkAdmin } from '../auth.js';
import type { AppContext } from '../context.js';
import { issueApiKey } from '../credentials.js';
import { parseWith } from '../validate.js';
import { appendAllAndWait } from '../write-through.js';
import { tenantStageEvent, tenantStageRecord } from '../../stages/tenant/events.js';

const createTenantBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});
const tokenBody = z.object({ api_key: z.string().min(1, 'must not be empty') });

export function authRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.post('/api/v1/auth/tenants', async (request, reply) => {
      checkAdmin(ctx, request);
      const body = parseWith(createTenantBody, request.body, 'body');
      const tenantId = randomUUID();
      const key = issueApiKey();
      const atMs = Date.now();
      const events: TenantEvent[] = [
        { type: 'tenant_created', tenantId, name: body.name, atMs },
        { type: 'api_key_created', tenantId, keyId: key.keyId, secretHash: key.secretHash, atMs },
      ];
      const audited = [
        tenantStageEvent(tenantId, 'tenant_created', tenantId, atMs, { tenantId, name: body.name }),
        tenantStageEvent(tenantId, 'api_key_created', key.keyId, atMs, { tenantId, keyId: key.keyId }),
      ];
      // The tenant and its first key, and their audit input, are appended together or not at all.
      await appendAllAndWait(
        ctx,
        [
          {
            topic: TOPICS.tenants,
            records: await Promise.all(
              events.map(async (e) => ({
                key: Buffer.from(e.type === 'tenant_created' ? `tenant/${e.tenantId}` : `key/${key.keyId}`),
                value: await ctx.codecs.tenantEvent.encode(e),
                timestamp: atMs,
              })),
            ),
          },
          { topic: TOPICS.tenantEvents, records: await Promise.all(audited.map((e) => tenantStageRecord(ctx.codecs, e))) },
        ],
        [TOPICS.tenants],
      );
      ctx.logger.info({ tenantId, keyId: key.keyId }, 'tenant created');
      return reply.code(201).send({
        tenant_id: tenantId,
        name: body.name,
        api_key: key.apiKey,
        key_id: key.keyId,
        created_at: new Date(atMs).toISOString(),
      });
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
