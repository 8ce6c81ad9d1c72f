export { admitIngest, createIngestLimits, type AdmissionContext, type IngestLimits } from './admit.js';
export { BoundedIngestLog, recordBytes } from './bounded-log.js';
export { createInflightBudget, type InflightBudget } from './inflight.js';
export { createRateLimiter, DEFAULT_MAX_TENANTS, type RateLimiter, type RateLimiterConfig, type RateLimiterStats, type TakeResult } from './rate-limiter.js';
