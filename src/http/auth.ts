/**
 * Authentication of tenant-scoped requests: a bearer API key or a JWT. Routes ask for it by
 * their declared security (route.ts), which also gives a credential of another tenant 404 on
 * a tenant path, never a hint that the tenant exists.
 */
import type { FastifyRequest } from 'fastify';
import { errors } from '../model/errors.js';
import type { IngestContext } from './context.js';
import { constantTimeEquals, parseApiKey, secretMatches } from './credentials.js';

export interface Caller {
  readonly tenantId: string;
  readonly keyId: string;
}

/**
 * Authorization schemes a route takes. tracefold's own routes take `Bearer`; routes that
 * serve another product's documented API add that product's scheme (Agenta: `ApiKey`).
 */
export type AuthScheme = 'Bearer' | 'ApiKey';

function credential(request: FastifyRequest, schemes: readonly AuthScheme[]): string {
  const form = (s: AuthScheme) => `${s} <api key${s === 'Bearer' ? ' or token' : ''}>`;
  const forms = schemes.map((s) => `"${form(s)}"`).join(' or ');
  const header = request.headers.authorization;
  if (header === undefined) throw errors.unauthorized(`missing Authorization header: send ${schemes.map((s) => `"Authorization: ${form(s)}"`).join(' or ')}`);
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
  const scheme = m === null ? undefined : schemes.find((s) => s.toLowerCase() === m[1]!.toLowerCase());
  if (m === null || scheme === undefined) throw errors.unauthorized(`Authorization header must be ${forms}`);
  return m[2]!;
}

function bearer(request: FastifyRequest): string {
  return credential(request, ['Bearer']);
}

/** What checking an API key needs of the context. */
export type KeyLookup = Pick<IngestContext, 'views' | 'queries'>;

/** The key's record from the views, through their in-memory cache (api-key-cache.ts). */
function apiKeyView(ctx: KeyLookup, keyId: string) {
  return ctx.views.apiKeys.get(keyId, (id) => ctx.queries.apiKey(id));
}

/**
 * A key the views do not know, before they have joined their group after a start, may have
 * been created since this process last ran: the caller is asked to come back, not refused.
 */
function unknownKey(ctx: KeyLookup, message: string): Error {
  if (!ctx.views.joined) return errors.timeout('the tenants view is still loading after a restart; retry shortly', 2000);
  return errors.unauthorized(message);
}

/** Checks an API key against the views; returns the caller or throws 401. */
export async function callerFromApiKey(ctx: KeyLookup, apiKey: string): Promise<Caller> {
  const parsed = parseApiKey(apiKey);
  if (parsed === null) throw errors.unauthorized('api_key is not a tracefold API key');
  const key = await apiKeyView(ctx, parsed.keyId);
  if (key === null) throw unknownKey(ctx, 'api_key is not valid');
  if (!secretMatches(parsed.secret, key.secretHash)) throw errors.unauthorized('api_key is not valid');
  if (key.revokedAtMs !== null) throw errors.unauthorized('api_key has been revoked');
  return { tenantId: key.tenantId, keyId: key.keyId };
}

export async function authenticate(ctx: IngestContext, request: FastifyRequest, schemes: readonly AuthScheme[] = ['Bearer']): Promise<Caller> {
  return authenticateCredential(ctx, credential(request, schemes));
}

/** Checks an API key or a token, however the request carried it. */
export async function authenticateCredential(ctx: IngestContext, given: string): Promise<Caller> {
  if (given.startsWith('tfk_')) return callerFromApiKey(ctx, given);
  const claims = ctx.tokens.check(given);
  if ('error' in claims) throw errors.unauthorized(claims.error);
  const key = await apiKeyView(ctx, claims.keyId);
  if (key === null) throw unknownKey(ctx, 'token names an unknown tenant or key');
  if (key.tenantId !== claims.tenantId) throw errors.unauthorized('token names an unknown tenant or key');
  if (key.revokedAtMs !== null) throw errors.unauthorized('the API key behind this token has been revoked');
  return claims;
}

/** An ingest token from a stream URL: its key must still be valid. */
export async function authenticateIngestToken(ctx: IngestContext, token: string): Promise<Caller> {
  const claims = ctx.tokens.checkIngest(token);
  if ('error' in claims) throw errors.unauthorized(claims.error);
  const key = await apiKeyView(ctx, claims.keyId);
  if (key === null) throw unknownKey(ctx, 'token names an unknown tenant or key');
  if (key.tenantId !== claims.tenantId) throw errors.unauthorized('token names an unknown tenant or key');
  if (key.revokedAtMs !== null) throw errors.unauthorized('the API key behind this token has been revoked');
  return claims;
}

/**
 * The tenant of an ingest request without an Authorization header, when the deployment has
 * opted into open ingest for one tenant (TRACEFOLD_OPEN_INGEST_TENANT, for local demos);
 * null otherwise, and the request is authenticated as usual.
 */
export function openIngestTenant(ctx: IngestContext, request: FastifyRequest): string | null {
  return request.headers.authorization === undefined ? ctx.config.openIngestTenant : null;
}

export function checkAdmin(ctx: IngestContext, request: FastifyRequest): void {
  const expected = ctx.config.adminToken;
  if (expected === null) return;
  const given = bearer(request);
  if (!constantTimeEquals(given, expected)) throw errors.unauthorized(`${request.method} ${request.routeOptions.url ?? request.url} needs the admin token (TRACEFOLD_ADMIN_TOKEN) as the bearer token`);
}
