import { createSigner } from 'fast-jwt';
import { describe, expect, it } from 'vitest';
import {
  constantTimeEquals,
  hashSecret,
  issueApiKey,
  parseApiKey,
  secretMatches,
  TokenService,
} from '../../../src/http/credentials.js';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
const OTHER_SECRET = 'another-secret-that-is-long-enough-987654';

describe('API keys', () => {
  it('have the form tfk_<16 hex>_<43 base64url>', () => {
    const issued = issueApiKey();
    expect(issued.apiKey).toMatch(/^tfk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(issued.apiKey.startsWith(`tfk_${issued.keyId}_`)).toBe(true);
    expect(issued.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('parse back into the key id and the secret whose hash was issued', () => {
    for (let i = 0; i < 50; i++) {
      const issued = issueApiKey();
      const parsed = parseApiKey(issued.apiKey);
      expect(parsed).not.toBeNull();
      expect(parsed!.keyId).toBe(issued.keyId);
      expect(`tfk_${parsed!.keyId}_${parsed!.secret}`).toBe(issued.apiKey);
      expect(hashSecret(parsed!.secret)).toBe(issued.secretHash);
    }
  });

  it('are different every time', () => {
    const a = issueApiKey();
    const b = issueApiKey();
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.apiKey).not.toBe(b.apiKey);
  });

  it.each([
    ['an empty string', ''],
    ['another prefix', `tfx_0123456789abcdef_${'a'.repeat(43)}`],
    ['a short key id', `tfk_0123456789abcde_${'a'.repeat(43)}`],
    ['an upper-case key id', `tfk_0123456789ABCDEF_${'a'.repeat(43)}`],
    ['a short secret', `tfk_0123456789abcdef_${'a'.repeat(42)}`],
    ['a long secret', `tfk_0123456789abcdef_${'a'.repeat(44)}`],
    ['a secret with a foreign character', `tfk_0123456789abcdef_${'a'.repeat(42)}+`],
    ['surrounding whitespace', ` tfk_0123456789abcdef_${'a'.repeat(43)}`],
    ['a bearer prefix', `Bearer tfk_0123456789abcdef_${'a'.repeat(43)}`],
  ])('are not parsed from %s', (_label, text) => {
    expect(parseApiKey(text)).toBeNull();
  });
});

describe('secretMatches', () => {
  it('is true for the secret of the hash and false for any other', () => {
    const issued = issueApiKey();
    const { secret } = parseApiKey(issued.apiKey)!;
    expect(secretMatches(secret, issued.secretHash)).toBe(true);
    expect(secretMatches(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), issued.secretHash)).toBe(false);
    expect(secretMatches('', issued.secretHash)).toBe(false);
  });

  it('is false, without throwing, for a malformed expected hash', () => {
    expect(secretMatches('secret', '')).toBe(false);
    expect(secretMatches('secret', 'not hex at all')).toBe(false);
    expect(secretMatches('secret', hashSecret('secret').slice(0, 32))).toBe(false);
  });
});

describe('constantTimeEquals', () => {
  it('compares strings of any length', () => {
    expect(constantTimeEquals('admin-token', 'admin-token')).toBe(true);
    expect(constantTimeEquals('admin-token', 'admin-token2')).toBe(false);
    expect(constantTimeEquals('', 'x')).toBe(false);
  });
});

describe('TokenService', () => {
  it('checks the tokens it issues, returning their claims', () => {
    const tokens = new TokenService(SECRET, 600);
    const token = tokens.issue({ tenantId: 'acme', keyId: '0123456789abcdef' });
    expect(tokens.check(token)).toEqual({ tenantId: 'acme', keyId: '0123456789abcdef' });
  });

  it('issues tokens that expire after its ttl', () => {
    const tokens = new TokenService(SECRET, 600);
    const payload = JSON.parse(Buffer.from(tokens.issue({ tenantId: 'acme', keyId: 'k' }).split('.')[1]!, 'base64url').toString());
    expect(payload.exp - payload.iat).toBe(600);
    expect(payload.iss).toBe('tracefold');
  });

  it('refuses an expired token with a message saying so', () => {
    const tokens = new TokenService(SECRET, 60);
    const signedLongAgo = createSigner({
      key: SECRET,
      algorithm: 'HS256',
      expiresIn: 60_000,
      iss: 'tracefold',
      clockTimestamp: Date.now() - 3_600_000,
    });
    const result = tokens.check(signedLongAgo({ sub: 'acme', kid: 'k' }));
    expect(result).toEqual({ error: 'token has expired; exchange the API key for a new one' });
  });

  it('refuses a token signed with another secret', () => {
    const token = new TokenService(OTHER_SECRET, 600).issue({ tenantId: 'acme', keyId: 'k' });
    const result = new TokenService(SECRET, 600).check(token);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toMatch(/^token is invalid \(.*SIGNATURE.*\)$/);
  });

  it('refuses a token from another issuer', () => {
    const sign = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 60_000, iss: 'someone-else' });
    expect(new TokenService(SECRET, 600).check(sign({ sub: 'acme', kid: 'k' }))).toHaveProperty('error');
  });

  it('refuses an unsigned token', () => {
    const sign = createSigner({ algorithm: 'none', iss: 'tracefold' });
    expect(new TokenService(SECRET, 600).check(sign({ sub: 'acme', kid: 'k' }))).toHaveProperty('error');
  });

  it('refuses a token without tenant or key claims', () => {
    const sign = createSigner({ key: SECRET, algorithm: 'HS256', expiresIn: 60_000, iss: 'tracefold' });
    expect(new TokenService(SECRET, 600).check(sign({ sub: 'acme' }))).toEqual({ error: 'token lacks tenant or key claims' });
    expect(new TokenService(SECRET, 600).check(sign({ kid: 'k', sub: 42 }))).toEqual({ error: 'token lacks tenant or key claims' });
  });

  it('refuses a malformed token', () => {
    const tokens = new TokenService(SECRET, 600);
    expect(tokens.check('not-a-jwt')).toHaveProperty('error');
    expect(tokens.check('')).toHaveProperty('error');
    const token = tokens.issue({ tenantId: 'acme', keyId: 'k' });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'other-tenant', kid: 'k', iss: 'tracefold' })).toString('base64url');
    expect(tokens.check(`${h}.${forged}.${s}`)).toHaveProperty('error');
  });
});
