import { useState } from 'preact/hooks';
import type { TraceListItem } from '../api.js';
import { errorText, runHref, useApp, usePoll } from '../hooks.js';
import { ms, pct, reveal, usd, when } from '../text.js';
import { DETECTION_TYPES, ErrorNote, Field, Plain, SEVERITIES, Severity } from './common.js';

interface Filters {
  from: string;
  to: string;
  service: string;
  agent: string;
  model: string;
  status: string;
  has_failures: string;
  detection_type: string;
  min_severity: string;
  name_contains: string;
  min_failure_score: string;
  sort: string;
}

const EMPTY: Filters = { from: '', to: '', service: '', agent: '', model: '', status: '', has_failures: '', detection_type: '', min_severity: '', name_contains: '', min_failure_score: '', sort: 'closed_at' };
const PAGE = 50;

function toQuery(f: Filters) {
  const instant = (v: string) => (v === '' ? undefined : new Date(v).toISOString());
  return { ...f, from: instant(f.from), to: instant(f.to), limit: PAGE };
}

export function RunsView() {
  const { api, live } = useApp();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<TraceListItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // The first page, again on every poll: new runs join at the top, pages loaded below stay.
  usePoll(
    async () => {
      try {
        const { body } = await api.get<{ items: TraceListItem[]; next_cursor: string | null }>('/traces', toQuery(filters));
        setItems((old) => {
          if (!loaded || old.length <= PAGE) return body.items;
          const fresh = new Set(body.items.map((t) => t.trace_id));
          return [...body.items, ...old.slice(PAGE).filter((t) => !fresh.has(t.trace_id))];
        });
        if (!loaded || items.length <= PAGE) setCursor(body.next_cursor);
        setLoaded(true);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      }
    },
    live,
    [filters],
  );

  const more = async () => {
    if (cursor === null) return;
    try {
      const { body } = await api.get<{ items: TraceListItem[]; next_cursor: string | null }>('/traces', { ...toQuery(filters), cursor });
      setItems((old) => [...old, ...body.items]);
      setCursor(body.next_cursor);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  const input = (k: keyof Filters, label: string, type: 'text' | 'datetime-local' = 'text') => (
    <Field id={`runs-${k}`} label={label}>
      {type === 'text' ? <input id={`runs-${k}`} type="text" value={draft[k]} onChange={set(k)} /> : <input id={`runs-${k}`} type="datetime-local" value={draft[k]} onChange={set(k)} />}
    </Field>
  );
  const select = (k: keyof Filters, label: string, options: readonly (readonly [string, string])[]) => (
    <Field id={`runs-${k}`} label={label}>
      <select id={`runs-${k}`} value={draft[k]} onChange={set(k)}>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </Field>
  );

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setLoaded(false);
          setFilters(draft);
        }}
      >
        {input('from', 'Closed from', 'datetime-local')}
        {input('to', 'Closed before', 'datetime-local')}
        {input('service', 'Service')}
        {input('agent', 'Agent')}
        {input('model', 'Model')}
        {input('name_contains', 'Name contains')}
        {select('status', 'Status', [['', 'any'], ['ok', 'ok'], ['error', 'error']])}
        {select('has_failures', 'Failures', [['', 'any'], ['true', 'with failures'], ['false', 'without']])}
        {select('detection_type', 'Detection type', [['', 'any'], ...DETECTION_TYPES.map((t) => [t, t] as const)])}
        {select('min_severity', 'Severity at least', [['', 'any'], ...SEVERITIES.map((s) => [s, s] as const)])}
        <Field id="runs-min_failure_score" label="Failure score at least (0–1)">
          <input id="runs-min_failure_score" type="number" min="0" max="1" step="0.05" value={draft.min_failure_score} onChange={set('min_failure_score')} />
        </Field>
        {select('sort', 'Order', [['closed_at', 'newest first'], ['failure_score', 'most likely failed first']])}
        <div class="field actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setLoaded(false);
              setFilters(EMPTY);
            }}
          >
            Reset
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      <table class="list">
        <caption class="sr-only">Runs</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Service</th>
            <th scope="col">Agents</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Spans</th>
            <th scope="col">Cost</th>
            <th scope="col">Failure score</th>
            <th scope="col">Detections</th>
            <th scope="col">Severity</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.trace_id} class={t.has_error ? 'row-error' : undefined}>
              <td>
                <a href={runHref(t.trace_id)}>
                  <bdi>{reveal(t.root_name || t.trace_id)}</bdi>
                </a>
                <div class="sub">
                  <bdi>{reveal(t.trace_id)}</bdi>
                </div>
              </td>
              <td>
                <bdi>{reveal(t.service_name)}</bdi>
              </td>
              <td>
                <Plain items={t.agents} />
              </td>
              <td>{when(t.start_time)}</td>
              <td>{ms(t.duration_ms)}</td>
              <td>{t.span_count}</td>
              <td>{usd(t.cost_usd)}</td>
              <td>{pct(t.failure_score)}</td>
              <td>
                <span class="count">{t.failure_count}</span> <Plain items={t.detection_types} />
              </td>
              <td>
                <Severity value={t.max_severity} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded && items.length === 0 && <p>No runs match. Runs appear once their window closes (or after analyze).</p>}
      {cursor !== null && (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      )}
    </section>
  );
}
