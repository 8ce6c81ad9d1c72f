import { describe, expect, it } from 'vitest';
import {
  BASELINE_DEFAULTS,
  BASELINE_METRICS,
  addTrace,
  anomalyConfidence,
  anomalyFinding,
  baselineScopes,
  checkTrace,
  stddev,
  updateStats,
  type Anomaly,
} from '../../../src/baselines/baseline.js';
import { measureTrace } from '../../../src/measures/trace-metrics.js';
import type { TraceMetrics } from '../../../src/model/outputs.js';
import { toSemanticTrace } from '../../../src/semantic/mapper.js';
import type { BaselineRecord, RunningStats } from '../../../src/model/tenant-records.js';
import { seededRandom } from '../../support/seeded-random.js';
import { canonicalSpan } from '../semantic/fixtures.js';

function twoPass(xs: readonly number[]): { mean: number; sd: number } {
  // Summing offsets from the first value keeps the reference mean exact enough at 1e9.
  const origin = xs[0]!;
  const mean = origin + xs.reduce((s, x) => s + (x - origin), 0) / xs.length;
  const ss = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, sd: xs.length < 2 ? 0 : Math.sqrt(ss / (xs.length - 1)) };
}

function metrics(over: Partial<TraceMetrics> = {}): TraceMetrics {
  return {
    id: 'm1',
    tenantId: 't1',
    traceId: 'trace-1',
    revision: 0,
    pipelineVersion: 'v1',
    serviceName: 'checkout',
    startTimeUnixNano: 0n,
    durationMs: 1000,
    criticalPathMs: 1000,
    criticalPathSpanIds: [],
    spanCount: 5,
    llmCallCount: 2,
    toolCallCount: 3,
    agentCount: 1,
    inputTokens: 800,
    outputTokens: 200,
    cachedInputTokens: 0,
    costUsd: 0.01,
    unpricedModels: [],
    priceTable: '2025-01-01',
    errorCount: 0,
    errorRate: 0,
    toolErrorCount: 0,
    toolErrorRate: 0,
    retryCount: 0,
    retryRate: 0,
    blastRadius: 0,
    filesWritten: [],
    agents: ['planner'],
    models: ['gpt-4o'],
    ...over,
  };
}

const SERVICE = { serviceName: 'checkout', agent: '' };

/** A baseline built the way the stage builds it: trace by trace. */
function build(traces: readonly TraceMetrics[], scope = SERVICE): BaselineRecord | undefined {
  let b: BaselineRecord | undefined;
  for (const [i, m] of traces.entries()) b = addTrace(b, m, scope, i);
  return b;
}

/** Durations spread evenly around 1000 (mean 1000, sigma ≈ 105). */
const varied = (n: number) => Array.from({ length: n }, (_, i) => metrics({ durationMs: 850 + (300 * i) / (n - 1) }));

/** A baseline record with exact statistics for one metric. */
function withStats(metric: string, stats: RunningStats, scope = SERVICE): BaselineRecord {
  return { tenantId: 't1', ...scope, metrics: { [metric]: stats }, updatedAtMs: 0 };
}
/** count 10, mean 100, sigma 10. */
const MEAN_100_SIGMA_10: RunningStats = { count: 10, mean: 100, m2: 900 };

describe('running statistics', () => {
  it('match a naive two-pass computation on random data', () => {
    const next = seededRandom(42);
    for (const [offset, scale, n] of [
      [0, 1, 1000],
      [1e9, 1, 500],
      [-50, 1e6, 200],
      [3, 0.001, 2],
    ] as const) {
      const xs = Array.from({ length: n }, () => offset + scale * (next() - 0.5));
      let stats: RunningStats | undefined;
      for (const x of xs) stats = updateStats(stats, x);
      const ref = twoPass(xs);
      expect(stats!.count).toBe(n);
      expect(Math.abs(stats!.mean - ref.mean)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(ref.mean)));
      // Rounding the mean at its own magnitude bounds what any method can reach.
      expect(Math.abs(stddev(stats) - ref.sd)).toBeLessThanOrEqual(1e-10 * ref.sd + 1e-16 * Math.abs(ref.mean));
    }
  });

  it('stay accurate far from zero, where the one-pass sum of squares cancels', () => {
    const next = seededRandom(7);
    const xs = Array.from({ length: 500 }, () => 1e9 + next());
    let stats: RunningStats | undefined;
    for (const x of xs) stats = updateStats(stats, x);
    const ref = twoPass(xs);
    const sum = xs.reduce((s, x) => s + x, 0);
    const sumSq = xs.reduce((s, x) => s + x * x, 0);
    const naive = Math.sqrt(Math.max(0, (sumSq - (sum * sum) / xs.length) / (xs.length - 1)));
    expect(Math.abs(stddev(stats) - ref.sd) / ref.sd).toBeLessThan(1e-6);
    expect(Math.abs(naive - ref.sd) / ref.sd).toBeGreaterThan(0.1);
  });

  it('is 0 below two samples and rejects non-finite values', () => {
    expect(stddev(undefined)).toBe(0);
    expect(stddev(updateStats(undefined, 5))).toBe(0);
    expect(updateStats(undefined, 5)).toEqual({ count: 1, mean: 5, m2: 0 });
    expect(() => updateStats(undefined, Number.NaN)).toThrow(RangeError);
    expect(() => updateStats(undefined, Infinity)).toThrow(RangeError);
  });
});

describe('baseline scopes and folding', () => {
  it('covers the service and each distinct agent', () => {
    expect(baselineScopes(metrics({ agents: ['writer', 'planner', 'writer', ''] }))).toEqual([
      { serviceName: 'checkout', agent: '' },
      { serviceName: 'checkout', agent: 'planner' },
      { serviceName: 'checkout', agent: 'writer' },
    ]);
    expect(baselineScopes(metrics({ agents: [] }))).toEqual([SERVICE]);
  });

  it('reads every metric, tokens as input plus output', () => {
    const b = addTrace(undefined, metrics(), SERVICE, 7);
    expect(Object.keys(b.metrics).sort()).toEqual(BASELINE_METRICS.map((s) => s.name).sort());
    expect(b.metrics.tokens).toEqual({ count: 1, mean: 1000, m2: 0 });
    expect(b.metrics.tool_calls?.mean).toBe(3);
    expect(b).toMatchObject({ tenantId: 't1', serviceName: 'checkout', agent: '', updatedAtMs: 7 });
  });

  it('skips a null cost without skipping the other metrics', () => {
    const b = build([metrics(), metrics({ costUsd: null }), metrics()]);
    expect(b!.metrics.cost_usd?.count).toBe(2);
    expect(b!.metrics.duration_ms?.count).toBe(3);
    const costly = build(Array.from({ length: 12 }, () => metrics()));
    expect(checkTrace(costly, metrics({ costUsd: null }), BASELINE_DEFAULTS)).toEqual([]);
  });

  it('refuses to fold a trace into another scope', () => {
    const b = addTrace(undefined, metrics(), SERVICE, 0);
    expect(() => addTrace(b, metrics(), { serviceName: 'checkout', agent: 'planner' }, 1)).toThrow(RangeError);
    expect(() => addTrace(b, metrics({ tenantId: 't2' }), SERVICE, 1)).toThrow(RangeError);
  });
});

describe('checkTrace', () => {
  const slow = metrics({ durationMs: 5000 });

  it('says nothing before minSamples prior samples', () => {
    expect(checkTrace(undefined, slow, BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(build(varied(9)), slow, BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(build(varied(10)), slow, BASELINE_DEFAULTS)).toHaveLength(1);
  });

  it('flags only values beyond k sigma, for the metric that moved', () => {
    const b = withStats('duration_ms', MEAN_100_SIGMA_10);
    expect(checkTrace(b, metrics({ durationMs: 119 }), BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(b, metrics({ durationMs: 120 }), BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(b, metrics({ durationMs: 81 }), BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(b, metrics({ durationMs: 121 }), BASELINE_DEFAULTS)).toEqual([
      { metric: 'duration_ms', value: 121, mean: 100, sigma: 10, zScore: 2.1, serviceName: 'checkout', agent: '' },
    ]);
    // Unusually fast is unusual too.
    expect(checkTrace(b, metrics({ durationMs: 70 }), BASELINE_DEFAULTS)[0]?.zScore).toBe(-3);
    expect(checkTrace(b, metrics({ durationMs: 125 }), { k: 3, minSamples: 10 })).toEqual([]);

    const all = build(varied(20));
    const found = checkTrace(all, metrics({ durationMs: 5000 }), BASELINE_DEFAULTS);
    expect(found.map((a) => a.metric)).toEqual(['duration_ms']);
  });

  it('reports the scope of the baseline it checked', () => {
    const scope = { serviceName: 'checkout', agent: 'planner' };
    const found = checkTrace(build(varied(12), scope), slow, BASELINE_DEFAULTS);
    expect(found[0]).toMatchObject({ serviceName: 'checkout', agent: 'planner' });
  });

  it('judges against the baseline before the trace, and leaves it untouched', () => {
    const b = build(varied(10))!;
    const before = structuredClone(b);
    expect(checkTrace(b, slow, BASELINE_DEFAULTS)).toHaveLength(1);
    expect(b).toEqual(before);
    // Once folded in, the same outlier widens sigma enough to look less extreme.
    const z0 = checkTrace(b, slow, BASELINE_DEFAULTS)[0]!.zScore;
    const after = addTrace(b, slow, SERVICE, 99);
    expect(Math.abs(checkTrace(after, slow, BASELINE_DEFAULTS)[0]?.zScore ?? 0)).toBeLessThan(Math.abs(z0));
  });

  it('treats any real change from a constant baseline as an anomaly', () => {
    const b = build(Array.from({ length: 10 }, () => metrics()));
    expect(stddev(b!.metrics.tool_calls)).toBe(0);
    expect(checkTrace(b, metrics(), BASELINE_DEFAULTS)).toEqual([]);
    const found = checkTrace(b, metrics({ toolCallCount: 4, errorRate: 0.1 }), BASELINE_DEFAULTS);
    // One more tool call is one more step too, and a higher share of tool calls per step.
    expect(found.map((a) => [a.metric, a.zScore])).toEqual([
      ['tool_calls', Infinity],
      ['error_rate', Infinity],
      ['steps', Infinity],
    ]);
    expect(checkTrace(b, metrics({ toolCallCount: 2 }), BASELINE_DEFAULTS)[0]?.zScore).toBe(-Infinity);
  });

  it('ignores float noise around a constant baseline', () => {
    // Ten copies of 0.1 + 0.2 against 0.3: equal but for the last bit.
    const constant = withStats('cost_usd', { count: 10, mean: 0.1 + 0.2, m2: 0 });
    expect(checkTrace(constant, metrics({ costUsd: 0.3 }), BASELINE_DEFAULTS)).toEqual([]);
    // Rounding can also leave a tiny m2 where every value was the same.
    const dusty = withStats('cost_usd', { count: 10, mean: 0.1 + 0.2, m2: 1e-40 });
    expect(checkTrace(dusty, metrics({ costUsd: 0.3 }), BASELINE_DEFAULTS)).toEqual([]);
    expect(checkTrace(constant, metrics({ costUsd: 0.3001 }), BASELINE_DEFAULTS)).toHaveLength(1);
  });
});

describe('anomalyFinding', () => {
  const anomalyAt = (value: number, scope = SERVICE): Anomaly =>
    checkTrace(withStats('duration_ms', MEAN_100_SIGMA_10, scope), metrics({ durationMs: value }), BASELINE_DEFAULTS)[0]!;

  const rateAt = (value: number): Anomaly =>
    checkTrace(withStats('error_rate', { count: 10, mean: 0.1, m2: 9 * 0.01 ** 2 }), metrics({ errorRate: value }), BASELINE_DEFAULTS)[0]!;

  it('rates an error rate above its mean by the largest |z|: medium from k, high from 2k, critical from 4k', () => {
    expect(anomalyFinding([rateAt(0.125)], null).severity).toBe('medium');
    expect(anomalyFinding([rateAt(0.14)], null).severity).toBe('high');
    expect(anomalyFinding([rateAt(0.185)], null).severity).toBe('critical');
    expect(anomalyFinding([rateAt(0.125), rateAt(0.19)], null).severity).toBe('critical');
    // Tiers scale with the k the anomalies were found with.
    expect(anomalyFinding([rateAt(0.145)], null, { k: 3 }).severity).toBe('medium');
    // Fewer errors than usual is no failure.
    expect(anomalyFinding([rateAt(0.02)], null).severity).toBe('low');
  });

  it('rates volumes medium at most, however far out: a slow or costly run mostly succeeds', () => {
    expect(anomalyFinding([anomalyAt(125)], null).severity).toBe('medium');
    expect(anomalyFinding([anomalyAt(180)], null).severity).toBe('medium');
    expect(anomalyFinding([anomalyAt(50)], null).severity).toBe('medium');
    expect(anomalyFinding([anomalyAt(180), rateAt(0.185)], null).severity).toBe('critical');
  });

  it('rates a zero-sigma anomaly as |z| = 2k: high for an error rate, medium for a volume', () => {
    const b = build(Array.from({ length: 10 }, () => metrics()));
    const found = checkTrace(b, metrics({ toolCallCount: 9 }), BASELINE_DEFAULTS);
    const f = anomalyFinding(found, 'root');
    expect(f.severity).toBe('medium');
    expect(f.evidence[0]?.data).toEqual({ metric: 'tool_calls', value: 9, mean: 3, sigma: 0, zScore: null });
    expect(JSON.parse(JSON.stringify(f.evidence[0]?.data))).toEqual(f.evidence[0]?.data);
    expect(anomalyFinding(checkTrace(b, metrics({ errorRate: 0.2 }), BASELINE_DEFAULTS), 'root').severity).toBe('high');
  });

  it('raises confidence with |z| from 0.6 to 0.95', () => {
    const values = [121, 130, 140, 160, 180, 500].map((v) => anomalyFinding([anomalyAt(v)], null).confidence);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(anomalyConfidence(2, 2)).toBeCloseTo(0.6, 12);
    expect(anomalyConfidence(8, 2)).toBeCloseTo(0.95, 12);
    expect(values[values.length - 1]).toBeCloseTo(0.95, 12);
    expect(values[0]!).toBeGreaterThan(0.6);
  });

  it('describes the service scope, with the root span as evidence', () => {
    const f = anomalyFinding([anomalyAt(130)], 'root-span');
    expect(f).toMatchObject({
      detectionType: 'anomaly',
      affectedSpanIds: ['root-span'],
      agent: null,
      fingerprint: 'checkout/',
    });
    expect(f.title).toContain('duration');
    expect(f.title).toContain('checkout');
    expect(f.description).toContain('130');
    expect(f.description).toContain('100');
    expect(f.description).toContain('± 10 ');
    expect(f.evidence).toEqual([
      {
        description: expect.stringContaining('duration'),
        spanIds: ['root-span'],
        data: { metric: 'duration_ms', value: 130, mean: 100, sigma: 10, zScore: 3 },
      },
    ]);
    expect(f.suggestedFix.length).toBeGreaterThan(0);
  });

  it('names the agent of an agent scope and every anomalous metric', () => {
    const scope = { serviceName: 'checkout', agent: 'planner' };
    const b: BaselineRecord = {
      tenantId: 't1',
      ...scope,
      metrics: { duration_ms: MEAN_100_SIGMA_10, tokens: { count: 10, mean: 1000, m2: 9 * 50 * 50 } },
      updatedAtMs: 0,
    };
    const found = checkTrace(b, metrics({ durationMs: 200, inputTokens: 1500, outputTokens: 500 }), BASELINE_DEFAULTS);
    const f = anomalyFinding(found, null);
    expect(f).toMatchObject({ agent: 'planner', fingerprint: 'checkout/planner', affectedSpanIds: [] });
    expect(f.title).toMatch(/duration.*tokens/);
    expect(f.title).toContain('planner');
    expect(f.evidence.map((e) => (e.data as { metric: string }).metric)).toEqual(['duration_ms', 'tokens']);
    expect(f.evidence[1]?.spanIds).toEqual([]);
  });

  it('rejects an empty or mixed list', () => {
    expect(() => anomalyFinding([], null)).toThrow(RangeError);
    expect(() => anomalyFinding([anomalyAt(130), anomalyAt(130, { serviceName: 'checkout', agent: 'x' })], null)).toThrow(RangeError);
  });
});

describe('a run longer than usual', () => {
  const TOOLS = ['search_direct_flight', 'get_reservation_details', 'get_user_details'];
  /**
   * A ReAct conversation as OpenInference instrumentation records it: per turn an LLM span
   * (llm.token_count.*) and a TOOL span, `msPerTurn` each, measured as the trace stage does.
   */
  const conversation = (turns: number, over: { msPerTurn?: number } = {}): TraceMetrics => {
    const ms = BigInt(over.msPerTurn ?? 4000) * 1_000_000n;
    const spans = [canonicalSpan({ spanId: 'agent', name: 'agent', start: 0n, end: BigInt(turns) * ms, attributes: { 'openinference.span.kind': 'AGENT' } })];
    for (let i = 0; i < turns; i++) {
      const start = BigInt(i) * ms;
      spans.push(
        canonicalSpan({
          spanId: `llm${i}`,
          parentSpanId: 'agent',
          name: 'ChatCompletion',
          start,
          end: start + ms / 2n,
          attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 2500, 'llm.token_count.completion': 500 },
        }),
        canonicalSpan({
          spanId: `tool${i}`,
          parentSpanId: 'agent',
          name: TOOLS[i % TOOLS.length]!,
          start: start + ms / 2n,
          end: start + ms,
          attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': TOOLS[i % TOOLS.length]!, 'input.value': `{"day":${i}}` },
        }),
      );
    }
    const measures = measureTrace(toSemanticTrace('t1', 'trace-1', spans));
    return { ...metrics(), ...measures };
  };
  const baseline = build(Array.from({ length: 30 }, (_, i) => conversation(8 + (i % 5))))!;

  it('reports a long conversation by its length alone, at severity low, not by its duration, tokens or cost', () => {
    const long = conversation(30);
    const found = checkTrace(baseline, long, BASELINE_DEFAULTS);
    expect(found.map((a) => a.metric)).toEqual(['steps']);
    expect(found[0]!.zScore).toBeGreaterThan(5);
    const f = anomalyFinding(found, 'root');
    expect(f.severity).toBe('low');
    expect(f.title).toContain('steps');
  });

  it('still reports a volume whose pace per step is unusual too, and one of a run of usual length', () => {
    const slowAndLong = checkTrace(baseline, conversation(30, { msPerTurn: 12_000 }), BASELINE_DEFAULTS);
    expect(slowAndLong.map((a) => a.metric)).toEqual(['duration_ms', 'steps']);
    expect(anomalyFinding(slowAndLong, 'root').severity).toBe('medium');
    const slow = checkTrace(baseline, conversation(10, { msPerTurn: 12_000 }), BASELINE_DEFAULTS);
    expect(slow.map((a) => a.metric)).toEqual(['duration_ms']);
  });
});
