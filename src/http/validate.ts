/**
 * Request validation with zod: the first problems become a 400 whose message names each
 * field by its path (`body.feedback_type: ...`).
 */
import { z } from 'zod';
import { errors } from '../model/errors.js';
import { KEY_PART_LIMITS, type KeyPart } from '../model/key-parts.js';

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'params' | 'query'): T {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const path = [where, ...issue.path.map(String)].join('.');
    return `${path}: ${issue.message}`;
  });
  throw errors.invalidRequest(problems.join('; '));
}

/** The latest instant a JavaScript Date can hold (and far inside the u64 of a store key). */
const MAX_INSTANT_MS = 8.64e15;

/** A time in a query: ISO-8601 or epoch milliseconds, from 1970 to the last instant a Date holds. */
export const instantQuery = z
  .string()
  .min(1, 'must not be empty')
  .transform((text, ctx) => {
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_INSTANT_MS) {
      ctx.addIssue({ code: 'custom', message: `must be an ISO-8601 time or epoch milliseconds, from 0 to ${MAX_INSTANT_MS}` });
      return z.NEVER;
    }
    return ms;
  });

/** A key-part value in a query filter or a body (an id, a name): bounded as ingest bounds it. */
export const keyPartString = (part: KeyPart) => z.string().min(1, 'must not be empty').max(KEY_PART_LIMITS[part], `must be at most ${KEY_PART_LIMITS[part]} characters`);

export const severityQuery = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** A boolean in a query string. */
export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The tenant in a tenant-scoped path. */
export const tenantParams = z.object({ tenantId: z.string().min(1).max(KEY_PART_LIMITS.tenantId) });

/** A trace under a tenant-scoped path. */
export const traceParams = tenantParams.extend({ traceId: z.string().min(1).max(KEY_PART_LIMITS.traceId) });

/**
 * How deep a JSON request body may nest (objects and arrays; the body itself is level 1).
 * Bodies are walked recursively in many places (attribute conversion, canonical JSON, the
 * stored session), so a deeper body is refused up front rather than left to overflow the
 * stack there.
 */
export const MAX_BODY_NESTING = 64;

interface Nested {
  readonly value: object;
  readonly depth: number;
  readonly parent: Nested | null;
  readonly key: string;
}

/** An array or plain object, as JSON.parse makes them; not a Buffer (a raw OTLP body) or other instance. */
function isJsonContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The path of the first value of `body` nested deeper than MAX_BODY_NESTING, or null. Iterative. */
export function tooDeeplyNested(body: unknown, where = 'body'): string | null {
  if (!isJsonContainer(body)) return null;
  const stack: Nested[] = [{ value: body, depth: 1, parent: null, key: where }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > MAX_BODY_NESTING) {
      // Paths are built only for the answer, not for every value walked.
      const keys: string[] = [];
      for (let at: Nested | null = item; at !== null; at = at.parent) keys.push(at.key);
      return keys.reverse().join('.');
    }
    for (const key in item.value) {
      const child = (item.value as Record<string, unknown>)[key];
      if (isJsonContainer(child)) stack.push({ value: child, depth: item.depth + 1, parent: item, key });
    }
  }
  return null;
}

/** Refuses a body nested deeper than MAX_BODY_NESTING with a 400 naming where (the path cut short). */
export function checkBodyNesting(body: unknown): void {
  const path = tooDeeplyNested(body);
  if (path === null) return;
  const segments = path.split('.');
  const shown = segments.length > 8 ? `${segments.slice(0, 8).join('.')}…` : path;
  throw errors.invalidRequest(`${shown}: nested deeper than ${MAX_BODY_NESTING} levels`);
}
