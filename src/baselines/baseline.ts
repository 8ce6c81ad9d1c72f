/**
 * Per-tenant baselines of trace metrics and the anomalies they reveal (docs/detectors.md,
 * "anomaly"). Pure: the tenant stage keeps the records in RocksDB and emits the findings.
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
 * Length (v2). A longer run than usual takes longer, calls more tools and uses more tokens
 * and money: its totals are unusual because it is long, not because anything went wrong.
 * Each volume metric (cost, duration, tool calls, tokens) has a per-step counterpart (its
 * value over the run's steps, model calls plus tool calls; tool calls per model call) with
 * its own baseline; a run without model calls has no tool-call pace. A volume
 * anomaly is explained by length, and not reported, when the run's step count lies at least
 * one sigma from its mean in the same direction and the per-step value is not anomalous (or
 * moved the other way). The step count itself is reported (metric `steps`), at severity low.
 *
 * Severity (v2), by the anomaly's effect on the run, from |z| of each reported anomaly, the
 * finding taking the highest: error and retry rates above their mean, medium from k, high
 * from 2k, critical from 4k (a run failing or retrying far more than usual likely failed);
 * volume metrics (cost, duration, tool calls, tokens) medium at most (slow or costly runs
 * mostly succeed); the step count, and rates below their mean, low. A zero-sigma anomaly
 * counts as |z| = 2k: the baseline proves the value changed but has no spread to say by how
 * much that matters.
 * Confidence: 0.6 + 0.35 · min(1, (|z| − k) / 3k), i.e. 0.6 at k rising to 0.95 at 4k.
 */
import { severityRank, type Severity, type TraceMetrics } from '../model/outputs.js';
import type { BaselineRecord, RunningStats } from '../model/tenant-records.js';
import type { Finding } from '../detectors/detector.js';

export type BaselineMetric =
  | 'cost_usd'
  | 'duration_ms'
  | 'tool_calls'
  | 'error_rate'
  | 'retry_rate'
  | 'tokens'
  | 'steps'
  | 'cost_per_step_usd'
  | 'duration_per_step_ms'
  | 'tool_calls_per_model_call'
  | 'tokens_per_step';

/** What a metric says about a run: its volume, a rate of trouble, its length, or a volume per step. */
export type MetricKind = 'volume' | 'rate' | 'length' | 'per_step';

export interface BaselineMetricSpec {
  readonly name: BaselineMetric;
  readonly kind: MetricKind;
  /** The value of one trace; null when it is unknown and the trace is skipped for this metric. */
  readonly read: (metrics: TraceMetrics) => number | null;
  /** For a volume metric, its value per step, which tells a long run from an unusual one. */
  readonly perStep?: BaselineMetric;
}

/** Model calls plus tool calls: the run's length. */
function stepsOf(m: TraceMetrics): number {
  return m.llmCallCount + m.toolCallCount;
}

function perStep(value: number | null, m: TraceMetrics): number | null {
  const steps = stepsOf(m);
  return value === null || steps === 0 ? null : value / steps;
}

/** The metrics tracked, in the order anomalies are reported. */
export const BASELINE_METRICS: readonly BaselineMetricSpec[] = [
  // An unpriced model makes the cost unknown; zero would drag the mean down.
  { name: 'cost_usd', kind: 'volume', read: (m) => m.costUsd, perStep: 'cost_per_step_usd' },
  { name: 'duration_ms', kind: 'volume', read: (m) => m.durationMs, perStep: 'duration_per_step_ms' },
  // Tool calls are half a ReAct run's steps: their pace is per model call.
  { name: 'tool_calls', kind: 'volume', read: (m) => m.toolCallCount, perStep: 'tool_calls_per_model_call' },
  { name: 'error_rate', kind: 'rate', read: (m) => m.errorRate },
  { name: 'retry_rate', kind: 'rate', read: (m) => m.retryRate },
  { name: 'tokens', kind: 'volume', read: (m) => m.inputTokens + m.outputTokens, perStep: 'tokens_per_step' },
  { name: 'steps', kind: 'length', read: stepsOf },
  { name: 'cost_per_step_usd', kind: 'per_step', read: (m) => perStep(m.costUsd, m) },
  { name: 'duration_per_step_ms', kind: 'per_step', read: (m) => perStep(m.durationMs, m) },
  { name: 'tool_calls_per_model_call', kind: 'per_step', read: (m) => (m.llmCallCount === 0 ? null : m.toolCallCount / m.llmCallCount) },
  { name: 'tokens_per_step', kind: 'per_step', read: (m) => perStep(m.inputTokens + m.outputTokens, m) },
];

const SPEC_BY_NAME = new Map(BASELINE_METRICS.map((s) => [s.name, s]));

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

interface Deviation {
  readonly value: number;
  readonly mean: number;
  readonly sigma: number;
  /** (value − mean) / sigma; ±Infinity when sigma is 0. */
  readonly zScore: number;
  readonly anomalous: boolean;
}

function deviationOf(spec: BaselineMetricSpec, baseline: BaselineRecord, metrics: TraceMetrics, settings: BaselineSettings): Deviation | null {
  const value = readValue(spec, metrics);
  const stats = baseline.metrics[spec.name];
  if (value === null || stats === undefined || stats.count < settings.minSamples) return null;
  const sigma = stddev(stats);
  const diff = value - stats.mean;
  const distance = Math.abs(diff);
  const noise = RELATIVE_EPSILON * Math.max(Math.abs(stats.mean), Math.abs(value));
  const zScore = sigma > 0 ? diff / sigma : distance <= noise ? 0 : Math.sign(diff) * Infinity;
  return { value, mean: stats.mean, sigma, zScore, anomalous: distance > settings.k * sigma && distance > noise };
}

/**
 * The trace's anomalies against the scope's baseline as it stood before this trace. Per-step
 * metrics are never reported themselves; they tell whether a volume anomaly is explained by
 * the run's length (see the file's comment).
 */
export function checkTrace(baseline: BaselineRecord | undefined, metrics: TraceMetrics, settings: BaselineSettings): Anomaly[] {
  if (baseline === undefined) return [];
  const deviations = new Map<BaselineMetric, Deviation>();
  for (const spec of BASELINE_METRICS) {
    const d = deviationOf(spec, baseline, metrics, settings);
    if (d !== null) deviations.set(spec.name, d);
  }
  const length = deviations.get('steps');
  const anomalies: Anomaly[] = [];
  for (const spec of BASELINE_METRICS) {
    const d = deviations.get(spec.name);
    if (d === undefined || !d.anomalous || spec.kind === 'per_step') continue;
    if (spec.perStep !== undefined && length !== undefined) {
      const pace = deviations.get(spec.perStep);
      const sameWay = (z: number) => Math.sign(z) === Math.sign(d.zScore);
      const longer = sameWay(length.zScore) && Math.abs(length.zScore) >= 1;
      const usualPace = pace !== undefined && !(pace.anomalous && sameWay(pace.zScore));
      if (longer && usualPace) continue;
    }
    anomalies.push({
      metric: spec.name,
      value: d.value,
      mean: d.mean,
      sigma: d.sigma,
      zScore: d.zScore,
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

/**
 * One anomaly's severity by its effect on the run: the |z| tiers for error and retry rates
 * above their mean, medium at most for volumes, low for the run's length and for rates
 * below their mean.
 */
export function anomalySeverityOf(anomaly: Anomaly, k: number): Severity {
  const kind = SPEC_BY_NAME.get(anomaly.metric)?.kind ?? 'volume';
  const tier = anomalySeverity(effectiveZ(anomaly, k), k);
  if (kind === 'rate') return anomaly.zScore > 0 ? tier : 'low';
  if (kind === 'volume') return 'medium';
  return 'low';
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
  steps: 'steps (model and tool calls)',
  cost_per_step_usd: 'cost per step (USD)',
  duration_per_step_ms: 'duration per step (ms)',
  tool_calls_per_model_call: 'tool calls per model call',
  tokens_per_step: 'tokens per step',
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
    severity: anomalies.map((a) => anomalySeverityOf(a, k)).reduce((a, b) => (severityRank[b] > severityRank[a] ? b : a)),
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
