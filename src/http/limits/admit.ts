/**
 * Admission of an ingest request once its spans are decoded: invalid spans are counted,
 * and the tenant's rate limit is checked against the valid ones before anything is
 * appended. A refused request is refused whole (429 with Retry-After); nothing of it is
 * appended, so the producer can resend it unchanged.
 */
import type { Config } from '../../config/config.js';
import type { Metrics } from '../prometheus/metrics.js';
import { errors } from '../../model/errors.js';
import { createInflightBudget, type InflightBudget } from './inflight.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';

/** The ingest limits of one process. */
export interface IngestLimits {
  readonly rateLimiter: RateLimiter;
  readonly inflight: InflightBudget;
}

export function createIngestLimits(config: Pick<Config, 'rateLimitSpansPerSecond' | 'rateLimitBurstSpans' | 'ingestInflightBytes'>): IngestLimits {
  return {
    rateLimiter: createRateLimiter({ spansPerSecond: config.rateLimitSpansPerSecond, burstSpans: config.rateLimitBurstSpans }),
    inflight: createInflightBudget(config.ingestInflightBytes),
  };
}

/** What admission needs of the application context. */
export interface AdmissionContext {
  readonly limits: IngestLimits;
  readonly metrics: Metrics;
}

/**
 * Admits `spanCount` decoded, valid spans of `tenantId`, or throws RATE_LIMITED (429).
 * `invalidSpans` (rejected by validation) are counted as such; call this right after
 * decoding, before any "no valid spans" check, so those are counted too.
 */
export function admitIngest(ctx: AdmissionContext, tenantId: string, spanCount: number, invalidSpans = 0, nowMs = Date.now()): void {
  ctx.metrics.countSpansRejected('invalid_span', invalidSpans);
  const taken = ctx.limits.rateLimiter.take(tenantId, spanCount, nowMs);
  if (taken.ok) return;
  ctx.metrics.countSpansRejected('rate_limited', spanCount);
  const { spansPerSecond, burstSpans } = ctx.limits.rateLimiter;
  throw errors.rateLimited(tenantId, { spansPerSecond, burstSpans }, taken.retryAfterMs);
}
