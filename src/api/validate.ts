/**
 * Request validation with zod: the first problems become a 400 whose message names each
 * field by its path (`body.feedback_type: ...`).
 */
import type { z } from 'zod';
import { errors } from '../model/errors.js';

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'params' | 'query'): T {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const path = [where, ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  throw errors.invalidRequest(problems.join('; '));
}
