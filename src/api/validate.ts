/**
 * Request validation with zod: the first problems become a 400 whose message names each
 * field by its path (`body.feedback_type: ...`).
 */
import { z } from 'zod';
import { errors } from '../model/errors.js';
import { KEY_PART_LIMITS } from '../model/key-parts.js';

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'params' | 'query'): T {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const path = [where, ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  throw errors.invalidRequest(problems.join('; '));
}

/** A time in a query: ISO-8601 or epoch milliseconds. */
export const instantQuery = z
  .string()
  .min(1)
  .transform((text, ctx) => {
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

export const severityQuery = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** A boolean in a query string. */
export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The tenant in a tenant-scoped path. */
export const tenantParams = z.object({ tenantId: z.string().min(1).max(KEY_PART_LIMITS.tenantId) });

/** A trace under a tenant-scoped path. */
export const traceParams = tenantParams.extend({ traceId: z.string().min(1).max(KEY_PART_LIMITS.traceId) });
