import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../support/seeded-random.js';
import { DurationHistogram, HISTOGRAM_MAX_MS, HISTOGRAM_SIZE, PERCENTILE_RELATIVE_ERROR, histogramIndex } from '../../../src/views/rollups.js';

/** The ⌈q·n⌉-th smallest value, as the histogram defines its percentiles. */
function exactPercentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** Durations spread log-uniformly from 1 ms to ~1 day. */
function logUniform(random: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.exp(random() * Math.log(86_400_000)));
}

describe('DurationHistogram', () => {
  it('documents a bound of 2^(1/8) − 1', () => {
    expect(PERCENTILE_RELATIVE_ERROR).toBeCloseTo(0.0905, 4);
  });

  it('keeps percentiles within the documented relative error on random data', () => {
    const random = seededRandom(42);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(random() * 500);
      const values = round % 2 === 0 ? logUniform(random, n) : Array.from({ length: n }, () => 50 + random() * 5_000);
      const h = new DurationHistogram();
      for (const v of values) h.add(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) {
        const exact = exactPercentile(sorted, q);
        const estimate = h.percentile(q)!;
        expect(Math.abs(estimate - exact) / exact, `q=${q} exact=${exact} estimate=${estimate}`).toBeLessThanOrEqual(PERCENTILE_RELATIVE_ERROR + 1e-12);
      }
    }
  });

  it('places bucket edges exactly, whatever log2 rounds to', () => {
    for (let i = 0; i <= 27 * 4; i++) {
      const edge = 2 ** (i / 4);
      if (edge >= HISTOGRAM_MAX_MS) break;
      expect(histogramIndex(edge)).toBe(i + 1);
      const below = histogramIndex(edge * (1 - 1e-12));
      expect(below).toBe(i);
    }
  });

  it('has underflow and overflow buckets', () => {
    const h = new DurationHistogram().add(0).add(0.3).add(-5).add(Number.NaN);
    expect(histogramIndex(0.99)).toBe(0);
    expect(h.percentile(1)).toBe(0.5);
    const big = new DurationHistogram().add(HISTOGRAM_MAX_MS).add(1e12);
    expect(histogramIndex(1e12)).toBe(HISTOGRAM_SIZE - 1);
    expect(big.percentile(0.5)).toBe(HISTOGRAM_MAX_MS);
    expect(new DurationHistogram().percentile(0.5)).toBeNull();
  });

  it('subtracts exactly: (a + b) − b has the counts and percentiles of a', () => {
    const random = seededRandom(7);
    const a = new DurationHistogram();
    const b = new DurationHistogram();
    for (const v of logUniform(random, 300)) a.add(v);
    for (const v of logUniform(random, 200)) b.add(v);
    const sum = new DurationHistogram().merge(a).merge(b);
    expect(sum.total).toBe(500);
    const back = new DurationHistogram(sum.counts).merge(b, -1);
    expect(back.counts).toEqual(a.counts);
    for (const q of [0.5, 0.95]) expect(back.percentile(q)).toBe(a.percentile(q));
    expect(new DurationHistogram().merge(a).merge(a, -1).total).toBe(0);
  });

  it('round-trips through its sparse form', () => {
    const h = new DurationHistogram().add(3).add(3).add(1500).add(0);
    expect(h.toSparse()).toEqual([
      [0, 1],
      [histogramIndex(3), 2],
      [histogramIndex(1500), 1],
    ]);
    expect(DurationHistogram.fromSparse(h.toSparse()).counts).toEqual(h.counts);
  });
});
