/**
 * Metric rollups: per tenant, per minute and per hour, grouped by service, agent or model,
 * kept as additive cells under the `ru` keys (view-model.ts) as the metrics view changes.
 *
 * A trace counts in the bucket its start time falls in, once per group it belongs to: its
 * service; each of its agents ('' when it has none); each of its models ('' when none). A
 * trace with two agents counts in both agent groups, so agent (and model) groups do not sum
 * to the tenant's runs.
 *
 * Exactness: every field of a cell is an integer count or sum (cost in nano-USD, the
 * precision trace metrics round to), so a contribution subtracted is exactly the one added.
 * When the metrics view replaces a trace's record (a new revision, or a replay), the old
 * record's contribution is subtracted and the new one added in the same batch, so the cells
 * always equal the sum over the metrics records the view holds. The `rc` marker says the
 * view's record for the trace is counted: a record stored before rollups existed is never
 * subtracted, so it cannot drive a cell negative.
 *
 * Percentiles come from a duration histogram with fixed log-scale buckets (see
 * DurationHistogram), which subtracts like the other counts.
 */
import type { ReadableStore } from '../log/port.js';
import type { TraceMetrics } from '../model/outputs.js';
import type { BufferedStore } from '../runtime/buffered-store.js';
import { VIEW_KEYS } from './view-model.js';

export const GRANULARITIES = ['minute', 'hour'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const GROUP_BYS = ['service', 'agent', 'model'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export const BUCKET_MS: Readonly<Record<Granularity, number>> = { minute: 60_000, hour: 3_600_000 };

/** The fields of a metrics record that rollups read; the view's JSON copy has the time as a string. */
export type MetricsLike = Pick<
  TraceMetrics,
  'id' | 'tenantId' | 'traceId' | 'revision' | 'serviceName' | 'durationMs' | 'spanCount' | 'inputTokens' | 'outputTokens' | 'costUsd' | 'errorCount' | 'agents' | 'models'
> & { readonly startTimeUnixNano: bigint | string };

// ---------------------------------------------------------------------------------------
// Duration histogram

/** Buckets per doubling of the duration. */
const PER_DOUBLING = 4;
/** Log buckets span [1 ms, 2^27 ms ≈ 37.3 h), which covers a day-long run. */
const DOUBLINGS = 27;
const LOG_BUCKETS = PER_DOUBLING * DOUBLINGS;
/** Index 0 is the underflow [0, 1 ms); 1..LOG_BUCKETS the log buckets; then the overflow. */
const OVERFLOW = LOG_BUCKETS + 1;
export const HISTOGRAM_SIZE = LOG_BUCKETS + 2;

/** Lower bound (ms) of log bucket `i` (1-based): 2^((i − 1) / PER_DOUBLING). */
function lowerBound(i: number): number {
  return 2 ** ((i - 1) / PER_DOUBLING);
}

/**
 * The largest relative error of a percentile whose true value lies in [1 ms, 2^27 ms):
 * a bucket spans a factor 2^(1/4) and reports its geometric midpoint, so the estimate is
 * within a factor 2^(1/8) of any value in it: |estimate − true| / true ≤ 2^(1/8) − 1 ≈ 9.05%.
 * Below 1 ms the estimate is 0.5 ms (absolute error at most 0.5 ms); at or above 2^27 ms
 * it is 2^27 ms, a lower bound.
 */
export const PERCENTILE_RELATIVE_ERROR = 2 ** (1 / (2 * PER_DOUBLING)) - 1;
export const HISTOGRAM_MAX_MS = 2 ** DOUBLINGS;

export function histogramIndex(durationMs: number): number {
  if (!(durationMs >= 1)) return 0; // NaN and negatives too
  if (durationMs >= HISTOGRAM_MAX_MS) return OVERFLOW;
  let i = Math.floor(Math.log2(durationMs) * PER_DOUBLING) + 1;
  // log2 can land a hair off at bucket edges: settle on the bucket the bounds define.
  while (i < LOG_BUCKETS && lowerBound(i + 1) <= durationMs) i++;
  while (i > 1 && lowerBound(i) > durationMs) i--;
  return i;
}

/** The value a percentile falling in bucket `i` reports. */
function representative(i: number): number {
  if (i === 0) return 0.5;
  if (i === OVERFLOW) return HISTOGRAM_MAX_MS;
  return 2 ** ((i - 0.5) / PER_DOUBLING);
}

/** Counts of durations per fixed log-scale bucket; counts may be added and subtracted. */
export class DurationHistogram {
  readonly counts: number[];

  constructor(counts?: readonly number[]) {
    this.counts = counts === undefined ? new Array<number>(HISTOGRAM_SIZE).fill(0) : [...counts];
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  add(durationMs: number, count = 1): this {
    this.counts[histogramIndex(durationMs)]! += count;
    return this;
  }

  /** Adds `sign` × each of `other`'s counts (sign −1 subtracts). */
  merge(other: DurationHistogram, sign: 1 | -1 = 1): this {
    for (let i = 0; i < HISTOGRAM_SIZE; i++) this.counts[i]! += sign * other.counts[i]!;
    return this;
  }

  /**
   * The nearest-rank percentile (the ⌈q·n⌉-th smallest duration), estimated within
   * PERCENTILE_RELATIVE_ERROR; null when empty.
   */
  percentile(q: number): number | null {
    const total = this.total;
    if (total <= 0) return null;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return representative(i);
    }
    return representative(OVERFLOW);
  }

  /** Non-zero buckets as [index, count] pairs: cells hold few distinct durations. */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    this.counts.forEach((c, i) => {
      if (c !== 0) out.push([i, c]);
    });
    return out;
  }

  static fromSparse(pairs: readonly (readonly [number, number])[]): DurationHistogram {
    const h = new DurationHistogram();
    for (const [i, c] of pairs) if (i >= 0 && i < HISTOGRAM_SIZE) h.counts[i]! += c;
    return h;
  }
}

// ---------------------------------------------------------------------------------------
// Cells

/** One bucket × group, as stored (JSON). Every field is an integer so that sums subtract exactly. */
export interface RollupCell {
  readonly runs: number;
  readonly spans: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Sum of the costed runs' cost, in nano-USD. */
  readonly costNanos: number;
  /** Runs whose cost is known; the others are unpriced (cost unknown, not zero). */
  readonly costedRuns: number;
  /** Runs with at least one errored span. */
  readonly errorRuns: number;
  /** Errored spans over all runs. */
  readonly errorSpans: number;
  /** DurationHistogram.toSparse() of the runs' durations. */
  readonly durations: [number, number][];
}

type Counters = Omit<RollupCell, 'durations'>;
const COUNTERS = ['runs', 'spans', 'inputTokens', 'outputTokens', 'costNanos', 'costedRuns', 'errorRuns', 'errorSpans'] as const satisfies readonly (keyof Counters)[];

interface MutableCell {
  counters: Record<keyof Counters, number>;
  durations: DurationHistogram;
}

function emptyCell(): MutableCell {
  return { counters: { runs: 0, spans: 0, inputTokens: 0, outputTokens: 0, costNanos: 0, costedRuns: 0, errorRuns: 0, errorSpans: 0 }, durations: new DurationHistogram() };
}

function readCell(raw: Buffer | null): MutableCell {
  const cell = emptyCell();
  if (raw === null) return cell;
  const stored = JSON.parse(raw.toString()) as RollupCell;
  for (const name of COUNTERS) cell.counters[name] = stored[name];
  cell.durations = DurationHistogram.fromSparse(stored.durations);
  return cell;
}

function encodeCell(cell: MutableCell): Buffer {
  const stored: RollupCell = { ...cell.counters, durations: cell.durations.toSparse() };
  return Buffer.from(JSON.stringify(stored));
}

function startMs(metrics: MetricsLike): number {
  return Number(BigInt(metrics.startTimeUnixNano) / 1_000_000n);
}

export function bucketStart(ms: number, granularity: Granularity): number {
  return Math.floor(ms / BUCKET_MS[granularity]) * BUCKET_MS[granularity];
}

function groupsOf(metrics: MetricsLike, groupBy: GroupBy): string[] {
  switch (groupBy) {
    case 'service':
      return [metrics.serviceName];
    case 'agent':
      return metrics.agents.length === 0 ? [''] : [...new Set(metrics.agents)];
    case 'model':
      return metrics.models.length === 0 ? [''] : [...new Set(metrics.models)];
  }
}

/** The keys a trace's metrics contribute to: one per granularity × groupBy × group. */
function cellKeys(metrics: MetricsLike): Buffer[] {
  const at = startMs(metrics);
  const keys: Buffer[] = [];
  for (const granularity of GRANULARITIES) {
    const bucket = bucketStart(at, granularity);
    for (const groupBy of GROUP_BYS) {
      for (const group of groupsOf(metrics, groupBy)) keys.push(VIEW_KEYS.rollup(metrics.tenantId, granularity, groupBy, bucket, group));
    }
  }
  return keys;
}

/** What one trace adds to each of its cells. */
function contribution(metrics: MetricsLike): Counters {
  const cost = metrics.costUsd;
  const costed = cost !== null;
  return {
    runs: 1,
    spans: metrics.spanCount,
    inputTokens: metrics.inputTokens,
    outputTokens: metrics.outputTokens,
    costNanos: costed ? Math.round(cost * 1e9) : 0,
    costedRuns: costed ? 1 : 0,
    errorRuns: metrics.errorCount > 0 ? 1 : 0,
    errorSpans: metrics.errorCount,
  };
}

function sameContribution(a: MetricsLike, b: MetricsLike): boolean {
  const ca = contribution(a);
  const cb = contribution(b);
  if (COUNTERS.some((name) => ca[name] !== cb[name])) return false;
  if (histogramIndex(a.durationMs) !== histogramIndex(b.durationMs)) return false;
  const ka = cellKeys(a).map((k) => k.toString('hex'));
  const kb = cellKeys(b).map((k) => k.toString('hex'));
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Moves the rollups from `previous` (the metrics record the view held for the trace, or
 * null) to `next`, which the view is about to store. Called before the view's record is
 * overwritten, with the batch's store, so the cells move in the same unit as the view.
 */
export async function applyRollups(store: BufferedStore, previous: MetricsLike | null, next: TraceMetrics): Promise<void> {
  const countedKey = VIEW_KEYS.rollupCounted(next.tenantId, next.traceId);
  // Everything this may read, in one round trip.
  await store.prefetch([countedKey, ...(previous === null ? [] : cellKeys(previous)), ...cellKeys(next)]);
  const marker = await store.get(countedKey);
  // Only a record that was counted may be subtracted (one stored before rollups was not).
  const counted = previous !== null && marker !== null;
  // Redelivery of what is already counted changes nothing. Compared by content, not id:
  // a replay under a new pipeline version keeps the id but may change the figures.
  if (counted && sameContribution(previous, next)) return;

  const deltas = new Map<string, { key: Buffer; sign: 1 | -1; metrics: MetricsLike }[]>();
  const note = (metrics: MetricsLike, sign: 1 | -1) => {
    for (const key of cellKeys(metrics)) {
      const k = key.toString('hex');
      const list = deltas.get(k) ?? [];
      list.push({ key, sign, metrics });
      deltas.set(k, list);
    }
  };
  if (counted) note(previous, -1);
  note(next, 1);

  const entries = [...deltas.values()];
  const cells = await store.getMany(entries.map((list) => list[0]!.key));
  entries.forEach((list, i) => {
    const cell = readCell(cells[i] ?? null);
    for (const { sign, metrics } of list) {
      const add = contribution(metrics);
      for (const name of COUNTERS) cell.counters[name] += sign * add[name];
      cell.durations.counts[histogramIndex(metrics.durationMs)]! += sign;
    }
    const key = list[0]!.key;
    // A cell no run counts in any more is dropped rather than kept as zeros.
    if (cell.counters.runs <= 0) store.del(key);
    else store.put(key, encodeCell(cell));
  });
  store.put(countedKey, Buffer.from(next.id));
}

// ---------------------------------------------------------------------------------------
// Queries

export interface RollupQuery {
  readonly granularity: Granularity;
  readonly groupBy: GroupBy;
  /** Buckets overlapping [fromMs, toMs) are returned. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Only this group, when given. */
  readonly group?: string;
  readonly limit: number;
}

export interface RollupRow {
  readonly bucketStartMs: number;
  readonly group: string;
  readonly runs: number;
  readonly spans: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Sum over the runs with a known cost; null when no run in the bucket had one. */
  readonly costUsd: number | null;
  /** Runs whose cost is unknown (a model not in the price table). */
  readonly unpricedRuns: number;
  /** Runs with an errored span / runs. */
  readonly errorRate: number;
  /** Errored spans / spans. */
  readonly spanErrorRate: number;
  readonly p50DurationMs: number | null;
  readonly p95DurationMs: number | null;
}

function toRow(bucketStartMs: number, group: string, raw: Buffer): RollupRow {
  const { counters: c, durations } = readCell(raw);
  return {
    bucketStartMs,
    group,
    runs: c.runs,
    spans: c.spans,
    inputTokens: c.inputTokens,
    outputTokens: c.outputTokens,
    costUsd: c.costedRuns === 0 ? null : c.costNanos / 1e9,
    unpricedRuns: c.runs - c.costedRuns,
    errorRate: c.runs === 0 ? 0 : c.errorRuns / c.runs,
    spanErrorRate: c.spans === 0 ? 0 : c.errorSpans / c.spans,
    p50DurationMs: durations.percentile(0.5),
    p95DurationMs: durations.percentile(0.95),
  };
}

/**
 * Rows of one tenant × granularity × groupBy whose bucket overlaps [fromMs, toMs), in
 * bucket order and by group within a bucket, at most `limit` of them. A group filter reads
 * the range's other groups too (they sit between its buckets) and skips them.
 */
export async function queryRollups(store: ReadableStore, tenantId: string, query: RollupQuery): Promise<RollupRow[]> {
  const { granularity, groupBy, limit } = query;
  const from = Math.max(0, bucketStart(query.fromMs, granularity));
  if (limit <= 0 || query.toMs <= from) return [];
  const gte = VIEW_KEYS.rollupAt(tenantId, granularity, groupBy, from);
  // Keys of buckets starting at toMs or later sort at or after this bound.
  const lt = VIEW_KEYS.rollupAt(tenantId, granularity, groupBy, Math.ceil(query.toMs));
  const rows: RollupRow[] = [];
  const filter = query.group;
  for await (const [key, value] of store.range({ gte, lt, ...(filter === undefined ? { limit } : {}) })) {
    const { bucketStartMs, group } = VIEW_KEYS.parseRollup(key);
    if (filter !== undefined && group !== filter) continue;
    rows.push(toRow(bucketStartMs, group, value));
    if (rows.length >= limit) break;
  }
  // Keys order groups by length first; clients expect names in order.
  return rows.sort((a, b) => a.bucketStartMs - b.bucketStartMs || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
