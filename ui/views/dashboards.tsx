import { useMemo, useState } from 'preact/hooks';
import { errorText, useApp, usePoll } from '../hooks.js';
import { reveal } from '../text.js';
import { ErrorNote, Field } from './common.js';

interface Rollup {
  bucket_start: string;
  group: string;
  runs: number;
  spans: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  error_rate: number;
  p95_duration_ms: number | null;
}

const COLORS = ['#1f5fbf', '#b3261e', '#1b7f3b', '#8a4baf', '#a15c00', '#00758f', '#5f6368'];
const MAX_GROUPS = 6;
const W = 460;
const H = 160;
const PAD = { l: 48, r: 8, t: 8, b: 22 };

interface Metric {
  readonly title: string;
  readonly value: (r: Rollup) => number | null;
  readonly format: (v: number) => string;
}

const METRICS: readonly Metric[] = [
  { title: 'Runs', value: (r) => r.runs, format: (v) => String(Math.round(v)) },
  { title: 'Failure rate (runs with an error)', value: (r) => r.error_rate, format: (v) => `${Math.round(v * 100)}%` },
  { title: 'Cost (USD)', value: (r) => r.cost_usd, format: (v) => `$${v.toFixed(v < 1 ? 4 : 2)}` },
  { title: 'Tokens', value: (r) => r.input_tokens + r.output_tokens, format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v))) },
  { title: 'p95 duration (ms)', value: (r) => r.p95_duration_ms, format: (v) => String(Math.round(v)) },
];

function Chart({ metric, series, buckets, range }: { metric: Metric; series: [string, Map<number, Rollup>][]; buckets: number[]; range: readonly [number, number] }) {
  let max = 0;
  for (const [, m] of series) for (const r of m.values()) max = Math.max(max, metric.value(r) ?? 0);
  if (max === 0) max = 1;
  // Time runs over the whole range asked for, so gaps show as gaps.
  const x = (t: number) => PAD.l + Math.min(1, Math.max(0, (t - range[0]) / Math.max(1, range[1] - range[0]))) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - v / max) * (H - PAD.t - PAD.b);
  const label = (t: number) => new Date(t).toISOString().slice(5, 16).replace('T', ' ');
  return (
    <figure class="chart">
      <figcaption>{metric.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${metric.title} over time`}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} class="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} class="axis" />
        <text x={PAD.l - 4} y={PAD.t + 8} class="tick" text-anchor="end">
          {metric.format(max)}
        </text>
        <text x={PAD.l - 4} y={H - PAD.b} class="tick" text-anchor="end">
          0
        </text>
        <text x={PAD.l} y={H - 6} class="tick">
          {label(range[0])}
        </text>
        <text x={W - PAD.r} y={H - 6} class="tick" text-anchor="end">
          {label(range[1])}
        </text>
        {series.map(([group, m], si) => {
          const pts = buckets.flatMap((b) => {
            const r = m.get(b);
            const v = r === undefined ? null : metric.value(r);
            return v === null ? [] : [[x(b), y(v)] as const];
          });
          const color = COLORS[si % COLORS.length]!;
          return (
            <g key={group}>
              {pts.length > 1 && <polyline points={pts.map(([a, b]) => `${a},${b}`).join(' ')} fill="none" stroke={color} stroke-width="2" />}
              {pts.map(([a, b], i) => (
                <circle key={i} cx={a} cy={b} r="2.5" fill={color} />
              ))}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function DashboardsView() {
  const { api, live } = useApp();
  const [granularity, setGranularity] = useState<'hour' | 'minute'>('hour');
  const [groupBy, setGroupBy] = useState<'service' | 'agent' | 'model'>('service');
  const [rangeH, setRangeH] = useState('24');
  // An explicit window (runs count by their start time) overrides the range.
  const [fromAt, setFromAt] = useState('');
  const [toAt, setToAt] = useState('');
  const [rows, setRows] = useState<Rollup[]>([]);
  const [range, setRange] = useState<readonly [number, number]>([0, 1]);
  const [error, setError] = useState<string | null>(null);
  usePoll(
    async () => {
      try {
        const to = toAt === '' ? Date.now() : new Date(toAt).getTime();
        const from = fromAt === '' ? to - Number(rangeH) * 3_600_000 : new Date(fromAt).getTime();
        const { body } = await api.get<{ items: Rollup[] }>('/metrics/rollups', {
          granularity,
          group_by: groupBy,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          limit: 10_000,
        });
        setRows(body.items);
        setRange([from, to]);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      }
    },
    live,
    [granularity, groupBy, rangeH, fromAt, toAt],
  );
  const { series, buckets } = useMemo(() => {
    const byGroup = new Map<string, Map<number, Rollup>>();
    const totals = new Map<string, number>();
    const bucketSet = new Set<number>();
    for (const r of rows) {
      const t = Date.parse(r.bucket_start);
      bucketSet.add(t);
      if (!byGroup.has(r.group)) byGroup.set(r.group, new Map());
      byGroup.get(r.group)!.set(t, r);
      totals.set(r.group, (totals.get(r.group) ?? 0) + r.runs);
    }
    const top = [...byGroup.entries()].sort((a, b) => (totals.get(b[0]) ?? 0) - (totals.get(a[0]) ?? 0)).slice(0, MAX_GROUPS);
    return { series: top, buckets: [...bucketSet].sort((a, b) => a - b) };
  }, [rows]);

  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboards</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Field id="dash-range" label="Range">
          <select id="dash-range" value={rangeH} onChange={(e) => setRangeH(e.currentTarget.value)}>
            <option value="1">last hour</option>
            <option value="24">last 24 hours</option>
            <option value="168">last 7 days</option>
          </select>
        </Field>
        <Field id="dash-from" label="From (overrides the range)">
          <input id="dash-from" type="datetime-local" value={fromAt} onChange={(e) => setFromAt(e.currentTarget.value)} />
        </Field>
        <Field id="dash-to" label="To">
          <input id="dash-to" type="datetime-local" value={toAt} onChange={(e) => setToAt(e.currentTarget.value)} />
        </Field>
        <Field id="dash-gran" label="Granularity">
          <select id="dash-gran" value={granularity} onChange={(e) => setGranularity(e.currentTarget.value as 'hour' | 'minute')}>
            <option value="hour">hour</option>
            <option value="minute">minute</option>
          </select>
        </Field>
        <Field id="dash-group" label="By">
          <select id="dash-group" value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as 'service' | 'agent' | 'model')}>
            <option value="service">service</option>
            <option value="agent">agent</option>
            <option value="model">model</option>
          </select>
        </Field>
      </form>
      <ErrorNote error={error} />
      {rows.length === 0 ? (
        <p>No runs started in this range.</p>
      ) : (
        <>
          <ul class="legend-list" aria-label="Groups">
            {series.map(([g], i) => (
              <li key={g}>
                <span class={`swatch c${i % COLORS.length}`} aria-hidden="true" />
                <bdi>{reveal(g === '' ? '(none)' : g)}</bdi>
              </li>
            ))}
          </ul>
          <div class="charts">
            {METRICS.map((m) => (
              <Chart key={m.title} metric={m} series={series} buckets={buckets} range={range} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
