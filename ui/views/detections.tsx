import { useState } from 'preact/hooks';
import type { Detection } from '../api.js';
import { errorText, runHref, useApp, usePoll } from '../hooks.js';
import { pct, reveal, when } from '../text.js';
import { DETECTION_TYPES, ErrorNote, Field, SEVERITIES, Severity } from './common.js';

interface Filters {
  type: string;
  min_severity: string;
  agent: string;
  trace_id: string;
  min_confidence: string;
}
const EMPTY: Filters = { type: '', min_severity: '', agent: '', trace_id: '', min_confidence: '' };
const PAGE = 100;

export function DetectionsView() {
  const { api, live } = useApp();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<Detection[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  usePoll(
    async () => {
      try {
        const { body, headers } = await api.get<Detection[]>('/detections', { ...filters, limit: PAGE });
        setItems((old) => {
          if (old.length <= PAGE) return body;
          const fresh = new Set(body.map((d) => d.id));
          return [...body, ...old.slice(PAGE).filter((d) => !fresh.has(d.id))];
        });
        if (items.length <= PAGE) setCursor(headers.get('x-next-cursor'));
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
      const { body, headers } = await api.get<Detection[]>('/detections', { ...filters, limit: PAGE, cursor });
      setItems((old) => [...old, ...body]);
      setCursor(headers.get('x-next-cursor'));
    } catch (e) {
      setError(errorText(e));
    }
  };
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section aria-labelledby="det-list-title">
      <h1 id="det-list-title">Detections</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setItems([]);
          setFilters(draft);
        }}
      >
        <Field id="det-type" label="Type">
          <select id="det-type" value={draft.type} onChange={set('type')}>
            <option value="">any</option>
            {DETECTION_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field id="det-sev" label="Severity at least">
          <select id="det-sev" value={draft.min_severity} onChange={set('min_severity')}>
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="det-agent" label="Agent">
          <input id="det-agent" value={draft.agent} onChange={set('agent')} />
        </Field>
        <Field id="det-trace" label="Run id">
          <input id="det-trace" value={draft.trace_id} onChange={set('trace_id')} />
        </Field>
        <Field id="det-conf" label="Confidence at least (0–1)">
          <input id="det-conf" type="number" min="0" max="1" step="0.05" value={draft.min_confidence} onChange={set('min_confidence')} />
        </Field>
        <div class="field actions">
          <button type="submit">Apply</button>
        </div>
      </form>
      <ErrorNote error={error} />
      <table class="list">
        <caption class="sr-only">Detections</caption>
        <thead>
          <tr>
            <th scope="col">Detected</th>
            <th scope="col">Type</th>
            <th scope="col">Severity</th>
            <th scope="col">Confidence</th>
            <th scope="col">Title</th>
            <th scope="col">Agent</th>
            <th scope="col">Run and span</th>
            <th scope="col">Feedback</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td>{when(d.detected_at)}</td>
              <td>
                <bdi>{reveal(d.detection_type)}</bdi>
                {d.live && <span class="tag">live</span>}
              </td>
              <td>
                <Severity value={d.severity} />
              </td>
              <td>{pct(d.confidence)}</td>
              <td>
                <bdi>{reveal(d.title)}</bdi>
              </td>
              <td>
                <bdi>{reveal(d.agent ?? '—')}</bdi>
              </td>
              <td>
                <a href={runHref(d.trace_id, d.affected_span_ids[0] ?? null, d.id)}>
                  <bdi>{reveal(d.trace_id)}</bdi>
                  {d.affected_span_ids[0] !== undefined && (
                    <>
                      {' '}
                      / <bdi>{reveal(d.affected_span_ids[0])}</bdi>
                    </>
                  )}
                </a>
              </td>
              <td>{d.feedback.map((f) => f.feedback_type.replace('_', ' ')).join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {loaded && items.length === 0 && <p>No detections match.</p>}
      {cursor !== null && (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      )}
    </section>
  );
}
