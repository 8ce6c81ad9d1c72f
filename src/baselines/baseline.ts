/**
 * Per-tenant baselines of trace metrics and the anomalies they reveal (DESIGN.md, "Tenant
 * stage"). Pure: the tenant stage keeps the records in RocksDB and emits the findings.
 *
 * Scopes: every trace feeds the baseline of its tenant × service (agent '') and one per
 * agent it names. An agent's baseline holds the trace-wide metrics of the traces that agent
 * took part in; the metrics are not split per agent.
 *
 * Statistics: Welford's running mean and m2 (sum of squared differences from the mean),
 * sigma = sample standard deviation sqrt(m2 / (n − 1)), 0 below two samples.
 *
 * Anomaly: checked against the baseline BEFORE the trace is added. With n prior samples,
 * d = |value − mean| and z = (value − mean) / sigma, a metric is anomalous when
 *   n ≥ minSamples,  d > k·sigma  and  d > RELATIVE_EPSILON · max(|mean|, |value|).
 * The last term is a noise floor: a baseline of identical values can carry rounding error
 * in its mean or a tiny non-zero m2, which must not turn an equal value into an anomaly.
 * With sigma = 0 the rule reduces to "the value differs beyond float noise", and z is
 * ±Infinity: a constant baseline followed by a different value is a real anomaly.
 *
 * Severity, from the largest |z| of a trace's anomalies in one scope: medium from k, high
 * from 2k, critical from 4k. A zero-sigma anomaly counts as |z| = 2k (high): the baseline
 * proves the value changed but has no spread to say by how much that matters.
 * Confidence: 0.6 + 0.35 · min(1, (|z| − k) / 3k), i.e. 0.6 at k rising to 0.95 at 4k.
 */
import type { Severity, TraceMetrics } from '../model/outputs.js';
import type { BaselineRecord, RunningStats } from '../model/tenant-records.js';
import type { Finding } from '../detectors/detector.js';

export type BaselineMetric = 'cost_usd' | 'duration_ms' | 'tool_calls' | 'error_rate' | 'retry_rate' | 'tokens';

export interface BaselineMetricSpec {
  readonly name: BaselineMetric;
  /** The value of one trace; null when it is unknown and the trace is skipped for this metric. */
  readonly read: (metrics: TraceMetrics) => number | null;
}

/** The metrics tracked, in the order anomalies are reported. */
export const BASELINE_METRICS: readonly BaselineMetricSpec[] = [
  // An unpriced model makes the cost unknown; zero would drag the mean down.
  { name: 'cost_usd', read: (m) => m.costUsd },
  { name: 'duration_ms', read: (m) => m.durationMs },
  { name: 'tool_calls', read: (m) => m.toolCallCount },
  { name: 'error_rate', read: (m) => m.errorRate },
  { name: 'retry_rate', read: (m) => m.retryRate },
  { name: 'tokens', read: (m) => m.inputTokens + m.outputTokens },
];

export interface BaselineSettings {
  /** Standard deviations from the mean beyond which a value is anomalous. */
  readonly k: number;
  /** Prior samples a baseline needs before it judges anything. */
  readonly minSamples: number;
}

export const BASELINE_DEFAULTS: BaselineSettings = { k: 2.0, minSamples: 10 };

/** Differences below this fraction of the magnitudes compared are rounding, not change. */
export const RELATIVE_EPSILON = 1e-9;

export interface BaselineScope {
  readonly serviceName: string;
  /** '' for the whole service. */
  readonly agent: string;
}

export interface Anomaly {
  readonly metric: BaselineMetric;
  readonly value: number;
  readonly mean: number;
  readonly sigma: number;
  /** (value − mean) / sigma; ±Infinity when sigma is 0. */
  readonly zScore: number;
  readonly serviceName: string;
  readonly agent: string;
}

/** Welford's update: stable where the naive sum of squares cancels catastrophically. */
export function updateStats(stats: RunningStats | undefined, x: number): RunningStats {
  // One NaN would poison the mean for good; callers skip unknown values instead.
  if (!Number.isFinite(x)) throw new RangeError(`updateStats: not a finite number: ${x}`);
  const count = (stats?.count ?? 0) + 1;
  const prevMean = stats?.mean ?? 0;
  const delta = x - prevMean;
  const mean = prevMean + delta / count;
  // delta and (x − mean) share a sign, so m2 never decreases.
  const m2 = (stats?.m2 ?? 0) + delta * (x - mean);
  return { count, mean, m2 };
}

/** Sample standard deviation; 0 below two samples. */
export function stddev(stats: RunningStats | undefined): number {
  if (stats === undefined || stats.count < 2) return 0;
  return Math.sqrt(Math.max(0, stats.m2) / (stats.count - 1));
}

/** The scopes a trace feeds: its service, then each agent it names (sorted, distinct). */
export function baselineScopes(metrics: TraceMetrics): BaselineScope[] {
  // An empty agent name would collide with the service scope.
  const agents = [...new Set(metrics.agents)].filter((a) => a !== '').sort();
  return [{ serviceName: metrics.serviceName, agent: '' }, ...agents.map((agent) => ({ serviceName: metrics.serviceName, agent }))];
}

function readValue(spec: BaselineMetricSpec, metrics: TraceMetrics): number | null {
  const value = spec.read(metrics);
  return value === null || !Number.isFinite(value) ? null : value;
}

/** The trace's anomalies against the scope's baseline as it stood before this trace. */
export function checkTrace(baseline: BaselineRecord | undefined, metrics: TraceMetrics, settings: BaselineSettings): Anomaly[] {
  if (baseline === undefined) return [];
  const anomalies: Anomaly[] = [];
  for (const spec of BASELINE_METRICS) {
    const value = readValue(spec, metrics);
    const stats = baseline.metrics[spec.name];
    if (value === null || stats === undefined || stats.count < settings.minSamples) continue;
    const sigma = stddev(stats);
    const diff = value - stats.mean;
    const distance = Math.abs(diff);
    const noise = RELATIVE_EPSILON * Math.max(Math.abs(stats.mean), Math.abs(value));
    if (distance <= settings.k * sigma || distance <= noise) continue;
    anomalies.push({
      metric: spec.name,
      value,
      mean: stats.mean,
      sigma,
      zScore: sigma > 0 ? diff / sigma : Math.sign(diff) * Infinity,
      serviceName: baseline.serviceName,
      agent: baseline.agent,
    });
  }
  return anomalies;
}

/** The baseline with the trace folded in; a new one when there was none. */
export function addTrace(baseline: BaselineRecord | undefined, metrics: TraceMetrics, scope: BaselineScope, atMs: number): BaselineRecord {
  if (
    baseline !== undefined &&
    (baseline.tenantId !== metrics.tenantId || baseline.serviceName !== scope.serviceName || baseline.agent !== scope.agent)
  ) {
    // Folding a trace into another tenant's or scope's baseline would be a wiring bug.
    throw new RangeError(
      `addTrace: baseline ${baseline.tenantId}/${baseline.serviceName}/${baseline.agent} ` +
        `does not match ${metrics.tenantId}/${scope.serviceName}/${scope.agent}`,
    );
  }
  const next: Record<string, RunningStats> = { ...baseline?.metrics };
  for (const spec of BASELINE_METRICS) {
    const value = readValue(spec, metrics);
    if (value !== null) next[spec.name] = updateStats(next[spec.name], value);
  }
  return { tenantId: metrics.tenantId, serviceName: scope.serviceName, agent: scope.agent, metrics: next, updatedAtMs: atMs };
}

/** |z| as severity and confidence read it: a zero-sigma anomaly counts as 2k. */
function effectiveZ(anomaly: Anomaly, k: number): number {
  return Number.isFinite(anomaly.zScore) ? Math.abs(anomaly.zScore) : 2 * k;
}

export function anomalySeverity(absZ: number, k: number): Severity {
  if (absZ >= 4 * k) return 'critical';
  if (absZ >= 2 * k) return 'high';
  return 'medium';
}

export function anomalyConfidence(absZ: number, k: number): number {
  const over = k > 0 ? (absZ - k) / (3 * k) : 1;
  return 0.6 + 0.35 * Math.min(1, Math.max(0, over));
}

/** Readable numbers: whole above a thousand, else four significant digits. */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 ? String(Math.round(x)) : String(Number(x.toPrecision(4)));
}

const METRIC_LABELS: Readonly<Record<BaselineMetric, string>> = {
  cost_usd: 'cost (USD)',
  duration_ms: 'duration (ms)',
  tool_calls: 'tool calls',
  error_rate: 'error rate',
  retry_rate: 'retry rate',
  tokens: 'tokens',
};

/**
 * One finding for a trace's anomalies in one scope (what one checkTrace call returns).
 * `settings.k` must be the k the anomalies were found with, since the tiers scale with it.
 */
export function anomalyFinding(
  anomalies: readonly Anomaly[],
  traceRootSpanId: string | null,
  settings: Pick<BaselineSettings, 'k'> = BASELINE_DEFAULTS,
): Finding {
  const first = anomalies[0];
  if (first === undefined) throw new RangeError('anomalyFinding: no anomalies');
  const { serviceName, agent } = first;
  if (anomalies.some((a) => a.serviceName !== serviceName || a.agent !== agent)) {
    throw new RangeError('anomalyFinding: anomalies of different scopes');
  }
  const k = settings.k;
  const maxZ = Math.max(...anomalies.map((a) => effectiveZ(a, k)));
  const scopeText = agent === '' ? `service ${serviceName}` : `agent ${agent} in service ${serviceName}`;
  const names = anomalies.map((a) => METRIC_LABELS[a.metric]);
  const lines = anomalies.map((a) => {
    const z = Number.isFinite(a.zScore) ? `z = ${fmt(a.zScore)}` : 'the baseline never varied';
    return `${METRIC_LABELS[a.metric]} ${fmt(a.value)} against a mean of ${fmt(a.mean)} ± ${fmt(a.sigma)} (${z})`;
  });
  return {
    detectionType: 'anomaly',
    title: `Unusual ${names.join(', ')} for ${scopeText}`,
    description: `This trace is outside the usual range of ${scopeText}: ${lines.join('; ')}.`,
    confidence: anomalyConfidence(maxZ, k),
    severity: anomalySeverity(maxZ, k),
    evidence: anomalies.map((a, i) => ({
      description: lines[i]!,
      spanIds: traceRootSpanId === null ? [] : [traceRootSpanId],
      // JSON has no Infinity: a zero-sigma z is written as null rather than dropped silently.
      data: {
        metric: a.metric,
        value: a.value,
        mean: a.mean,
        sigma: a.sigma,
        zScore: Number.isFinite(a.zScore) ? a.zScore : null,
      },
    })),
    affectedSpanIds: traceRootSpanId === null ? [] : [traceRootSpanId],
    agent: agent === '' ? null : agent,
    suggestedFix:
      'Compare this trace with recent ones of the same scope: a changed prompt, model, tool or input size ' +
      'usually explains a shift. If the new level is expected, it becomes the baseline as more traces arrive.',
    fingerprint: `${serviceName}/${agent}`,
  };
}
