/**
 * Per-tenant ingest rate limit: a token bucket per tenant, counted in spans. A bucket holds
 * at most `burstSpans` tokens and refills at `spansPerSecond`. The limit is per process:
 * N ingest processes behind a balancer admit up to N times the rate.
 *
 * The map of buckets is bounded. A bucket left alone long enough to refill completely is
 * the same as no bucket, so idle buckets are evicted as they are passed; when the map is
 * still full, the least recently used bucket goes (its tenant starts again from a full
 * bucket), and such evictions are counted.
 */

/** Tenants tracked at once before the least recently used is evicted. */
export const DEFAULT_MAX_TENANTS = 100_000;

/** Idle buckets examined (oldest first) per call, so eviction costs O(1) per request. */
const SWEEP_PER_TAKE = 4;

export interface RateLimiterConfig {
  /** Steady rate in spans per second; 0 disables the limit. */
  readonly spansPerSecond: number;
  /** Bucket size in spans; 0 disables the limit. */
  readonly burstSpans: number;
  readonly maxTenants?: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export interface RateLimiterStats {
  /** Buckets held now. */
  readonly tenants: number;
  /** Buckets evicted while still not full, because the map was at its bound. */
  readonly evictedBusy: number;
}

export interface RateLimiter {
  readonly enabled: boolean;
  readonly spansPerSecond: number;
  readonly burstSpans: number;
  /**
   * Takes `spans` tokens from the tenant's bucket, or none and says how long until enough
   * are there. A request larger than the whole burst is admitted when the bucket is full
   * and leaves it in debt, so it is never refused forever.
   */
  take(tenantId: string, spans: number, nowMs: number): TakeResult;
  stats(): RateLimiterStats;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

const OK: TakeResult = Object.freeze({ ok: true });

export function createRateLimiter(config: RateLimiterConfig): RateLimiter {
  const { spansPerSecond, burstSpans } = config;
  const maxTenants = config.maxTenants ?? DEFAULT_MAX_TENANTS;
  if (!Number.isFinite(spansPerSecond) || spansPerSecond < 0) throw new RangeError(`spansPerSecond must be a finite number >= 0, got ${spansPerSecond}`);
  if (!Number.isFinite(burstSpans) || burstSpans < 0) throw new RangeError(`burstSpans must be a finite number >= 0, got ${burstSpans}`);
  if (!Number.isInteger(maxTenants) || maxTenants < 1) throw new RangeError(`maxTenants must be a positive integer, got ${maxTenants}`);
  const enabled = spansPerSecond > 0 && burstSpans > 0;
  // Insertion order is recency order: a touched bucket is re-inserted at the end.
  const buckets = new Map<string, Bucket>();
  let evictedBusy = 0;

  const refill = (bucket: Bucket, nowMs: number) => {
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, nowMs - bucket.lastMs);
    bucket.tokens = Math.min(burstSpans, bucket.tokens + (elapsedMs * spansPerSecond) / 1000);
    bucket.lastMs = Math.max(bucket.lastMs, nowMs);
  };

  const isFullAgain = (bucket: Bucket, nowMs: number) =>
    bucket.tokens + (Math.max(0, nowMs - bucket.lastMs) * spansPerSecond) / 1000 >= burstSpans;

  const sweep = (nowMs: number) => {
    let examined = 0;
    for (const [tenantId, bucket] of buckets) {
      if (examined++ >= SWEEP_PER_TAKE || !isFullAgain(bucket, nowMs)) break;
      buckets.delete(tenantId);
    }
  };

  return {
    enabled,
    spansPerSecond,
    burstSpans,
    take(tenantId, spans, nowMs) {
      if (!enabled || spans <= 0) return OK;
      sweep(nowMs);
      let bucket = buckets.get(tenantId);
      if (bucket === undefined) {
        if (buckets.size >= maxTenants) {
          const oldest = buckets.keys().next();
          if (oldest.done !== true) {
            buckets.delete(oldest.value);
            evictedBusy++;
          }
        }
        bucket = { tokens: burstSpans, lastMs: nowMs };
      } else {
        buckets.delete(tenantId);
        refill(bucket, nowMs);
      }
      buckets.set(tenantId, bucket);
      const needed = Math.min(spans, burstSpans);
      if (bucket.tokens >= needed) {
        bucket.tokens -= spans;
        return OK;
      }
      const retryAfterMs = Math.max(1, Math.ceil(((needed - bucket.tokens) * 1000) / spansPerSecond));
      return { ok: false, retryAfterMs };
    },
    stats: () => ({ tenants: buckets.size, evictedBusy }),
  };
}
