import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/http/prometheus/metrics.js';
import { admitIngest, BoundedIngestLog, createInflightBudget, createIngestLimits, createRateLimiter, recordBytes } from '../../../src/http/limits/index.js';
import type { Log, OutgoingRecord } from '../../../src/log/port.js';
import { TracefoldError } from '../../../src/model/errors.js';
import { HEADER } from '../../../src/model/record-keys.js';

/** The value of one sample in the exposition text (labels in declared order), 0 when absent. */
async function sample(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const printed = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const wanted = printed.length === 0 ? name : `${name}{${printed.join(',')}}`;
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    if (line.startsWith(`${wanted} `)) return Number(line.slice(wanted.length + 1));
  }
  return 0;
}

describe('createRateLimiter', () => {
  it('admits up to the burst at once, then refills at the rate', () => {
    const limiter = createRateLimiter({ spansPerSecond: 100, burstSpans: 200 });
    expect(limiter.take('t', 150, 0)).toEqual({ ok: true });
    expect(limiter.take('t', 50, 0)).toEqual({ ok: true });
    const refused = limiter.take('t', 10, 0);
    expect(refused).toEqual({ ok: false, retryAfterMs: 100 });
    // 100 ms later 10 tokens are back.
    expect(limiter.take('t', 10, 100)).toEqual({ ok: true });
  });

  it('computes Retry-After from the deficit', () => {
    const limiter = createRateLimiter({ spansPerSecond: 1000, burstSpans: 1000 });
    expect(limiter.take('t', 1000, 0).ok).toBe(true);
    expect(limiter.take('t', 250, 0)).toEqual({ ok: false, retryAfterMs: 250 });
    // A refused request takes nothing: after 250 ms it fits exactly.
    expect(limiter.take('t', 250, 250).ok).toBe(true);
  });

  it('keeps tenants apart', () => {
    const limiter = createRateLimiter({ spansPerSecond: 1, burstSpans: 10 });
    expect(limiter.take('a', 10, 0).ok).toBe(true);
    expect(limiter.take('a', 1, 0).ok).toBe(false);
    expect(limiter.take('b', 10, 0).ok).toBe(true);
  });

  it('admits a request larger than the burst when the bucket is full, leaving it in debt', () => {
    const limiter = createRateLimiter({ spansPerSecond: 10, burstSpans: 100 });
    expect(limiter.take('t', 150, 0).ok).toBe(true);
    // 50 in debt: 100 more tokens (10 s) before the next full burst, 51 (5.1 s) before one span.
    expect(limiter.take('t', 1, 0)).toEqual({ ok: false, retryAfterMs: 5100 });
    expect(limiter.take('t', 150, 5000).ok).toBe(false);
    expect(limiter.take('t', 150, 15_000).ok).toBe(true);
  });

  it('is disabled by a rate or burst of 0', () => {
    for (const config of [
      { spansPerSecond: 0, burstSpans: 10 },
      { spansPerSecond: 10, burstSpans: 0 },
    ]) {
      const limiter = createRateLimiter(config);
      expect(limiter.enabled).toBe(false);
      for (let i = 0; i < 5; i++) expect(limiter.take('t', 1_000_000, 0).ok).toBe(true);
      expect(limiter.stats().tenants).toBe(0);
    }
  });

  it('does not drain a bucket when the clock steps back', () => {
    const limiter = createRateLimiter({ spansPerSecond: 10, burstSpans: 10 });
    expect(limiter.take('t', 10, 10_000).ok).toBe(true);
    expect(limiter.take('t', 1, 5_000).ok).toBe(false);
    expect(limiter.take('t', 10, 11_000).ok).toBe(true);
  });

  it('evicts buckets that have refilled and bounds the number of tenants', () => {
    const limiter = createRateLimiter({ spansPerSecond: 10, burstSpans: 10, maxTenants: 3 });
    for (const t of ['a', 'b', 'c']) expect(limiter.take(t, 5, 0).ok).toBe(true);
    expect(limiter.stats()).toEqual({ tenants: 3, evictedBusy: 0 });
    // A fourth busy tenant pushes out the least recently used one.
    expect(limiter.take('d', 5, 0).ok).toBe(true);
    expect(limiter.stats()).toEqual({ tenants: 3, evictedBusy: 1 });
    // Once they have all refilled, they go as requests pass.
    expect(limiter.take('e', 1, 10_000).ok).toBe(true);
    expect(limiter.stats().tenants).toBe(1);
    expect(limiter.stats().evictedBusy).toBe(1);
  });

  it('rejects nonsensical settings', () => {
    expect(() => createRateLimiter({ spansPerSecond: -1, burstSpans: 1 })).toThrow(/spansPerSecond/);
    expect(() => createRateLimiter({ spansPerSecond: 1, burstSpans: Number.NaN })).toThrow(/burstSpans/);
    expect(() => createRateLimiter({ spansPerSecond: 1, burstSpans: 1, maxTenants: 0 })).toThrow(/maxTenants/);
  });
});

describe('createInflightBudget', () => {
  it('refuses what would exceed the bound and takes back what is released', () => {
    const budget = createInflightBudget(100);
    expect(budget.tryAcquire(60)).toBe(true);
    expect(budget.tryAcquire(50)).toBe(false);
    expect(budget.inFlightBytes).toBe(60);
    expect(budget.tryAcquire(40)).toBe(true);
    budget.release(60);
    budget.release(40);
    expect(budget.inFlightBytes).toBe(0);
    expect(budget.inFlightAppends).toBe(0);
  });

  it('admits one oversized append when nothing else is in flight', () => {
    const budget = createInflightBudget(100);
    expect(budget.tryAcquire(500)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
    budget.release(500);
    expect(budget.tryAcquire(1)).toBe(true);
  });

  it('refuses a release without an acquire', () => {
    expect(() => createInflightBudget(10).release(1)).toThrow(/release/);
  });
});

describe('admitIngest', () => {
  const ctxFor = (spansPerSecond: number, burstSpans: number) => ({
    limits: createIngestLimits({ rateLimitSpansPerSecond: spansPerSecond, rateLimitBurstSpans: burstSpans, ingestInflightBytes: 1024 }),
    metrics: createMetrics({ processMetrics: false }),
  });

  it('counts invalid spans and admits within the limit', async () => {
    const ctx = ctxFor(10, 10);
    admitIngest(ctx, 'acme', 10, 3, 0);
    expect(await sample(ctx.metrics, 'tracefold_ingest_spans_rejected_total', { reason: 'invalid_span' })).toBe(3);
  });

  it('refuses over the limit with a coded 429 naming the limit, and counts the spans', async () => {
    const ctx = ctxFor(10, 10);
    admitIngest(ctx, 'acme', 10, 0, 0);
    let error: unknown;
    try {
      admitIngest(ctx, 'acme', 5, 0, 0);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TracefoldError);
    const refused = error as TracefoldError;
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.statusCode).toBe(429);
    expect(refused.retryable).toBe(true);
    expect(refused.retryAfterMs).toBe(500);
    expect(refused.message).toContain('10 spans/s');
    expect(refused.message).toContain('TRACEFOLD_RATE_LIMIT_SPANS_PER_S');
    expect(await sample(ctx.metrics, 'tracefold_ingest_spans_rejected_total', { reason: 'rate_limited' })).toBe(5);
  });
});

describe('BoundedIngestLog', () => {
  const spanRecord = (bytes: number): OutgoingRecord => ({ key: Buffer.from('t/x'), value: Buffer.alloc(bytes), headers: { [HEADER.type]: 'span' } });
  const markerRecord: OutgoingRecord = { key: Buffer.from('t/x'), value: Buffer.alloc(10), headers: { [HEADER.type]: 'marker' } };

  /** A log whose appends wait until released, or fail when told to. */
  function fakeLog() {
    const pending: (() => void)[] = [];
    let failing = false;
    const log = {
      kind: 'embedded',
      append: (_topic: string, records: readonly OutgoingRecord[]) =>
        failing
          ? Promise.reject(new Error('broker down'))
          : new Promise((resolve) => pending.push(() => resolve(records.map((_, offset) => ({ topic: 'raw', partition: 0, offset }))))),
    } as unknown as Log;
    return {
      log,
      releaseAll: () => pending.splice(0).forEach((release) => release()),
      fail: () => (failing = true),
    };
  }

  it('measures records by key, value and headers', () => {
    expect(recordBytes({ key: Buffer.from('ab'), value: Buffer.alloc(5), headers: { h: 'é' } })).toBe(2 + 5 + 1 + 2);
    expect(recordBytes({ key: null, value: null })).toBe(0);
  });

  it('refuses appends past the in-flight bound with BUFFER_FULL and counts accepted spans', async () => {
    const fake = fakeLog();
    const metrics = createMetrics({ processMetrics: false });
    const budget = createInflightBudget(1000);
    const bounded = new BoundedIngestLog(fake.log, budget, metrics);
    const first = bounded.append('raw', [spanRecord(300), spanRecord(300), markerRecord]);
    await expect(bounded.append('raw', [spanRecord(500)])).rejects.toMatchObject({ code: 'BUFFER_FULL', statusCode: 503, retryAfterMs: 1000 });
    expect(budget.inFlightBytes).toBeGreaterThan(600);
    fake.releaseAll();
    await expect(first).resolves.toHaveLength(3);
    expect(budget.inFlightBytes).toBe(0);
    expect(await sample(metrics, 'tracefold_ingest_spans_accepted_total')).toBe(2);
    expect(await sample(metrics, 'tracefold_ingest_spans_rejected_total', { reason: 'buffer_full' })).toBe(1);
    expect(await sample(metrics, 'tracefold_log_append_duration_seconds_count', { outcome: 'ok' })).toBe(1);
  });

  it('counts the spans of a failed append as log_unavailable and frees its bytes', async () => {
    const fake = fakeLog();
    fake.fail();
    const metrics = createMetrics({ processMetrics: false });
    const budget = createInflightBudget(1000);
    const bounded = new BoundedIngestLog(fake.log, budget, metrics);
    await expect(bounded.append('raw', [spanRecord(10), spanRecord(10)])).rejects.toThrow('broker down');
    expect(budget.inFlightBytes).toBe(0);
    expect(await sample(metrics, 'tracefold_ingest_spans_rejected_total', { reason: 'log_unavailable' })).toBe(2);
    expect(await sample(metrics, 'tracefold_log_append_duration_seconds_count', { outcome: 'error' })).toBe(1);
  });
});
