/**
 * Numbered pages of the trace and detection lists: `?page=N&per_page=M`, the paging of the
 * Pisama platform API that Pisama's clients use. A list asked for by page answers in that
 * platform's envelope (`{traces}` or `{items}`, with `page` and `per_page`) and item shape;
 * without `page` or `per_page` the lists answer as tracefold's own API does (keyset
 * cursors, `limit`). Pages are walked from the newest item with keyset reads, so a deep page
 * costs every page before it: MAX_NUMBERED_ITEMS bounds that, and cursors go further.
 */
import { z } from 'zod';
import { errors } from '../../model/errors.js';
import type { Page } from '../../views/queries.js';
import { detectionAnswer } from '../answers.js';
import type { presentDetection, presentTraceListItem } from '../present.js';

/** The most items a numbered page may lie beyond (page × per_page); deeper lists page by cursor. */
export const MAX_NUMBERED_ITEMS = 100_000;

export const numberedPageQuery = {
  page: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').optional(),
  per_page: z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 1000').max(1000, 'must be between 1 and 1000').optional(),
};

export interface NumberedPage {
  readonly page: number;
  readonly perPage: number;
}

/** The numbered page a query asks for, or null when it pages by cursor; both at once is a 400 naming the field. */
export function numberedPageOf(q: { page?: number; per_page?: number }, raw: unknown): NumberedPage | null {
  if (q.page === undefined && q.per_page === undefined) return null;
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const field of ['cursor', 'limit']) {
    if (given[field] !== undefined) throw errors.invalidRequest(`query.${field}: page by number (page, per_page) or by cursor (cursor, limit), not both`);
  }
  const page = { page: q.page ?? 1, perPage: q.per_page ?? 50 };
  if (page.page * page.perPage > MAX_NUMBERED_ITEMS) {
    throw errors.invalidRequest(`query.page: page × per_page must be at most ${MAX_NUMBERED_ITEMS}; page further with cursor and limit`);
  }
  return page;
}

/** One numbered page, read by walking keyset pages of `perPage` items from the start. */
export async function readNumberedPage<T>(at: NumberedPage, read: (limit: number, cursor: string | null) => Promise<Page<T>>): Promise<Page<T>> {
  let cursor: string | null = null;
  let skipped = 0;
  const items: T[] = [];
  // Keyset pages may come back short (a filter's scan bound): walk until the page is reached and filled.
  for (;;) {
    const page = await read(at.perPage, cursor);
    for (const item of page.items) {
      if (skipped < (at.page - 1) * at.perPage) skipped++;
      else if (items.length < at.perPage) items.push(item);
    }
    cursor = page.nextCursor;
    if (cursor === null || items.length === at.perPage) return { items, nextCursor: cursor };
  }
}

const PLATFORM_SEVERITY = { info: 0, low: 25, medium: 50, high: 75, critical: 100 } as const;

/** The answer schema of platformDetection. */
export const platformDetectionAnswer = detectionAnswer.extend({
  confidence: z.int().min(0).max(100),
  explanation: z.string(),
  details: z.object({
    severity: detectionAnswer.shape.severity,
    severity_score: z.int(),
    summary: z.string(),
    evidence: detectionAnswer.shape.evidence,
  }),
});

/**
 * A detection as the Pisama platform lists it: confidence 0–100, and severity, summary and
 * evidence under `details` (with the 0–100 severity as `severity_score`); every field of
 * tracefold's own shape stays, except that confidence scale.
 */
export function platformDetection(d: ReturnType<typeof presentDetection>) {
  return {
    ...d,
    confidence: Math.round(d.confidence * 100),
    explanation: d.description,
    details: { severity: d.severity, severity_score: PLATFORM_SEVERITY[d.severity], summary: d.title, evidence: d.evidence },
  };
}

/** A trace row as the Pisama platform lists it: `id` and `session_id` (both the trace id) and its detection status (listed traces are analysed). */
export function platformTrace(t: ReturnType<typeof presentTraceListItem>) {
  return { ...t, id: t.trace_id, session_id: t.trace_id, detection_status: 'complete' as const };
}
