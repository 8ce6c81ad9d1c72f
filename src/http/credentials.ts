/**
 * API keys and tokens. An API key is `tfk_<keyId>_<secret>`: the key id finds the key in
 * the views, the secret is checked against its SHA-256 (keys are 256-bit random, so a fast
 * hash is enough; nothing low-entropy is ever hashed here). Tokens are short-lived HS256
 * JWTs naming the tenant and the key they came from, so revoking a key ends its tokens too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';

const KEY_PATTERN = /^tfk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedKey {
  readonly keyId: string;
  readonly apiKey: string;
  readonly secretHash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function issueApiKey(): IssuedKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, apiKey: `tfk_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseApiKey(text: string): { keyId: string; secret: string } | null {
  const m = KEY_PATTERN.exec(text);
  return m === null ? null : { keyId: m[1]!, secret: m[2]! };
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface TokenClaims {
  readonly tenantId: string;
  readonly keyId: string;
}

/** The `scope` claim of ingest tokens. */
export const INGEST_SCOPE = 'ingest';

export class TokenService {
  private readonly sign: (payload: Record<string, unknown>) => string;
  private readonly verify: (token: string) => Record<string, unknown>;

  private readonly signScoped: (payload: Record<string, unknown>) => string;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000, iss: 'tracefold' });
    this.signScoped = createSigner({ key: secret, algorithm: 'HS256', iss: 'tracefold' });
    this.verify = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: 'tracefold' });
  }

  /**
   * An ingest token: good only for writing spans through a stream URL (the agent-strace
   * paths, for clients that cannot send headers), for `ttlSeconds`. `check` refuses it, so
   * a token seen in a URL cannot read anything or be used as a bearer token.
   */
  issueIngest(claims: TokenClaims, ttlSeconds: number, nowMs = Date.now()): { token: string; expiresAtMs: number } {
    const expiresAtMs = nowMs + ttlSeconds * 1000;
    return { token: this.signScoped({ sub: claims.tenantId, kid: claims.keyId, scope: INGEST_SCOPE, exp: Math.floor(expiresAtMs / 1000) }), expiresAtMs };
  }

  /** The claims of a valid ingest token; a message naming the problem otherwise. */
  checkIngest(token: string): TokenClaims | { error: string } {
    const payload = this.payload(token);
    if (typeof payload.error === 'string') return { error: payload.error };
    if (payload.scope !== INGEST_SCOPE) return { error: 'not an ingest token: create one with POST /api/v1/tenants/{tenantId}/ingest-tokens' };
    if (typeof payload.sub !== 'string' || typeof payload.kid !== 'string') return { error: 'token lacks tenant or key claims' };
    return { tenantId: payload.sub, keyId: payload.kid };
  }

  private payload(token: string): Record<string, unknown> {
    try {
      return this.verify(token);
    } catch (err) {
      if (err instanceof TokenError) {
        if (err.code === TokenError.codes.expired) return { error: 'token has expired; exchange the API key for a new one' };
        return { error: `token is invalid (${err.code})` };
      }
      throw err;
    }
  }

  /** `tenant_id` repeats `sub` for clients that read the tenant from the token (Pisama's). */
  issue(claims: TokenClaims): string {
    return this.sign({ sub: claims.tenantId, tenant_id: claims.tenantId, kid: claims.keyId });
  }

  /** The claims of a valid token; a message naming the problem otherwise. */
  check(token: string): TokenClaims | { error: string } {
    try {
      const payload = this.verify(token);
      if (payload.scope === INGEST_SCOPE) return { error: 'an ingest token is accepted only in a stream URL (/api/agent-strace/{token})' };
      if (typeof payload.sub !== 'string' || typeof payload.kid !== 'string') return { error: 'token lacks tenant or key claims' };
      return { tenantId: payload.sub, keyId: payload.kid };
    } catch (err) {
      if (err instanceof TokenError) {
        if (err.code === TokenError.codes.expired) return { error: 'token has expired; exchange the API key for a new one' };
        return { error: `token is invalid (${err.code})` };
      }
      throw err;
    }
  }
}
