import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Detection, SpanNode, TraceDetail } from '../api.js';
import { errorText, runHref, useApp, usePoll } from '../hooks.js';
import { ms, pct, pretty, reveal, text, usd, when } from '../text.js';
import { DETECTION_TYPES, ErrorNote, Severity } from './common.js';

/** One visible row of the span tree. */
interface Row {
  readonly node: SpanNode;
  readonly key: string;
  readonly depth: number;
  readonly hasChildren: boolean;
}

const ROW_HEIGHT = 26;
/** Above this many spans, live mode does not re-read the run. */
const LIVE_SPAN_LIMIT = 2000;
const VIEW_ROWS = 22;
const OVERSCAN = 10;

const startMs = (n: SpanNode) => (n.start_time_unix_nano === undefined ? NaN : Number(BigInt(n.start_time_unix_nano) / 1000n) / 1000);
const endMs = (n: SpanNode) => (n.end_time_unix_nano === undefined ? NaN : Number(BigInt(n.end_time_unix_nano) / 1000n) / 1000);
const nodeKey = (n: SpanNode, i: number) => n.span_id ?? `synthetic-${i}`;

/** Iterative (a 10,000-span run can be a 10,000-deep chain). */
function flatten(roots: readonly SpanNode[], collapsed: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  const stack: { node: SpanNode; depth: number; i: number }[] = roots.map((node, i) => ({ node, depth: 0, i })).reverse();
  while (stack.length > 0) {
    const { node, depth, i } = stack.pop()!;
    const key = nodeKey(node, i);
    rows.push({ node, key, depth, hasChildren: node.children.length > 0 });
    if (!collapsed.has(key)) for (let c = node.children.length - 1; c >= 0; c--) stack.push({ node: node.children[c]!, depth: depth + 1, i: c });
  }
  return rows;
}

function allSpans(roots: readonly SpanNode[]): SpanNode[] {
  const out: SpanNode[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    stack.push(...n.children);
  }
  return out;
}

const PROMPT = /(^|\.)(prompt|prompts|input\.value|input_messages|input\.messages|messages|system_instructions)(\.|$)|gen_ai\.input|gen_ai\.prompt|llm\.input|ai\.prompt/i;
const COMPLETION = /(^|\.)(completion|completions|output\.value|output_messages|output\.messages)(\.|$)|gen_ai\.output|gen_ai\.completion|llm\.output|ai\.response\.text/i;
const TOOL = /tool\.call\.(arguments|result)|tool\.(input|output|arguments|result)|ai\.toolCall\.(args|result)|traceloop\.entity\.(input|output)/i;
const ERROR = /^(exception\.|error\.)/;

function pick(attrs: Record<string, unknown>, re: RegExp): [string, unknown][] {
  return Object.entries(attrs).filter(([k]) => re.test(k));
}

function KeyValues({ entries, label }: { entries: [string, unknown][]; label: string }) {
  if (entries.length === 0) return null;
  return (
    <dl class="kv" aria-label={label}>
      {entries.map(([k, v]) => (
        <div key={k} class="kv-row">
          <dt>
            <bdi>{reveal(k)}</bdi>
          </dt>
          <dd>
            <pre>{pretty(v)}</pre>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function FeedbackButtons({ detection, onSent }: { detection: Detection; onSent: () => void }) {
  const { api } = useApp();
  const [comment, setComment] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const send = async (type: 'true_positive' | 'false_positive') => {
    try {
      await api.post('/feedback', { detection_id: detection.id, feedback_type: type, comment });
      setStatus(type === 'true_positive' ? 'Recorded: true positive' : 'Recorded: false positive');
      setComment('');
      onSent();
    } catch (e) {
      setStatus(`Not recorded: ${errorText(e)}`);
    }
  };
  const id = `comment-${detection.id}`;
  return (
    <div class="feedback">
      <label for={id}>Comment</label>
      <input id={id} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <button type="button" onClick={() => void send('true_positive')}>
        True positive
      </button>
      <button type="button" onClick={() => void send('false_positive')}>
        False positive
      </button>
      {status !== null && <span role="status">{reveal(status)}</span>}
      {detection.feedback.length > 0 && (
        <ul class="given" aria-label="Feedback given">
          {detection.feedback.map((f) => (
            <li key={f.id}>
              {f.feedback_type.replace('_', ' ')} · {when(f.created_at)} {f.comment !== '' && <bdi>“{reveal(f.comment)}”</bdi>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function DetectionCard({ d, onSpan, onSent, open }: { d: Detection; onSpan: (id: string) => void; onSent: () => void; open: boolean }) {
  return (
    <article class={`detection${open ? ' open' : ''}`} aria-label={`${d.detection_type} detection`} data-detection-id={d.id}>
      <h3>
        <Severity value={d.severity} /> <bdi>{reveal(d.detection_type)}</bdi>: <bdi>{reveal(d.title)}</bdi>
        {d.live && <span class="tag">live</span>}
        {d.subsumed_by !== null && <span class="tag">subsumed</span>}
      </h3>
      <p class="meta">
        confidence {pct(d.confidence)} ({reveal(d.confidence_tier)}) · detector <bdi>{reveal(d.detector.id)}</bdi> {reveal(d.detector.version)} · revision {d.revision}
        {d.agent !== null && (
          <>
            {' '}
            · agent <bdi>{reveal(d.agent)}</bdi>
          </>
        )}
      </p>
      <p>
        <bdi>{reveal(d.description)}</bdi>
      </p>
      <div class="spans-ref">
        Affected spans:{' '}
        {d.affected_span_ids.map((id) => (
          <button key={id} type="button" class="linkish" onClick={() => onSpan(id)}>
            <bdi>{reveal(id)}</bdi>
          </button>
        ))}
      </div>
      {d.evidence.length > 0 && (
        <div>
          <h4>Evidence</h4>
          <ul>
            {d.evidence.map((e, i) => (
              <li key={i}>
                <bdi>{reveal(e.description)}</bdi> {e.span_ids.length > 0 && <span class="sub">({e.span_ids.length} spans)</span>}
                {e.data !== null && e.data !== undefined && Object.keys(e.data).length > 0 && <pre>{text(e.data)}</pre>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {d.suggested_fix !== '' && (
        <div>
          <h4>Suggested fix</h4>
          <p>
            <bdi>{reveal(d.suggested_fix)}</bdi>
          </p>
        </div>
      )}
      <FeedbackButtons detection={d} onSent={onSent} />
    </article>
  );
}

function Missed({ traceId, onSent }: { traceId: string; onSent: () => void }) {
  const { api } = useApp();
  const [detector, setDetector] = useState<string>(DETECTION_TYPES[0]);
  const [comment, setComment] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  return (
    <form
      class="missed"
      onSubmit={(e) => {
        e.preventDefault();
        api
          .post('/feedback', { feedback_type: 'missed', trace_id: traceId, detector, comment })
          .then(() => {
            setStatus('Recorded: missed detection');
            setComment('');
            onSent();
          })
          .catch((err: unknown) => setStatus(`Not recorded: ${errorText(err)}`));
      }}
    >
      <h3>Report a missed detection</h3>
      <label for="missed-detector">Detector</label>
      <select id="missed-detector" value={detector} onChange={(e) => setDetector(e.currentTarget.value)}>
        {DETECTION_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <label for="missed-comment">Comment</label>
      <input id="missed-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <button type="submit">Missed</button>
      {status !== null && <span role="status">{reveal(status)}</span>}
    </form>
  );
}

function SpanPanel({ span, detections, onSpan, onSent }: { span: SpanNode; detections: Detection[]; onSpan: (id: string) => void; onSent: () => void }) {
  const attrs = span.attributes ?? {};
  const prompts = pick(attrs, PROMPT);
  const completions = pick(attrs, COMPLETION).filter(([k]) => !PROMPT.test(k));
  const tools = pick(attrs, TOOL);
  const errorAttrs = pick(attrs, ERROR);
  const failed = span.status?.code === 2;
  const exceptions = (span.events ?? []).filter((e) => e.name === 'exception');
  return (
    <aside class="panel" aria-label="Span details">
      <h2>
        <bdi>{reveal(span.name)}</bdi>
      </h2>
      <dl class="facts">
        <dt>Span</dt>
        <dd>
          <bdi>{text(span.span_id)}</bdi>
        </dd>
        <dt>Parent</dt>
        <dd>
          <bdi>{text(span.parent_span_id ?? null)}</bdi>
        </dd>
        <dt>Start</dt>
        <dd>{when(span.start_time)}</dd>
        <dt>Duration</dt>
        <dd>{ms(span.duration_ms)}</dd>
        <dt>Status</dt>
        <dd>{failed ? 'error' : span.status?.code === 1 ? 'ok' : 'unset'}</dd>
        {span.operation && (
          <>
            <dt>Operation</dt>
            <dd>
              <bdi>{reveal(span.operation)}</bdi>
            </dd>
          </>
        )}
        {span.agent && (
          <>
            <dt>Agent</dt>
            <dd>
              <bdi>{reveal(span.agent)}</bdi>
            </dd>
          </>
        )}
        {span.model && (
          <>
            <dt>Model</dt>
            <dd>
              <bdi>{reveal(span.model)}</bdi>
            </dd>
          </>
        )}
        {span.tool && (
          <>
            <dt>Tool</dt>
            <dd>
              <bdi>{reveal(span.tool)}</bdi>
            </dd>
          </>
        )}
        {(span.input_tokens != null || span.output_tokens != null) && (
          <>
            <dt>Tokens</dt>
            <dd>
              {text(span.input_tokens)} in / {text(span.output_tokens)} out
            </dd>
          </>
        )}
      </dl>
      {(failed || errorAttrs.length > 0 || exceptions.length > 0) && (
        <section class="errorbox" aria-label="Error">
          <h3>Error</h3>
          {span.status?.message && <pre>{reveal(span.status.message)}</pre>}
          <KeyValues entries={errorAttrs} label="Error attributes" />
          {exceptions.map((e, i) => (
            <KeyValues key={i} entries={Object.entries(e.attributes)} label="Exception" />
          ))}
        </section>
      )}
      {detections.length > 0 && (
        <section aria-label="Detections on this span">
          <h3>Detections on this span</h3>
          {detections.map((d) => (
            <DetectionCard key={d.id} d={d} onSpan={onSpan} onSent={onSent} open />
          ))}
        </section>
      )}
      {prompts.length > 0 && (
        <section aria-label="Prompt">
          <h3>Prompt</h3>
          <KeyValues entries={prompts} label="Prompt attributes" />
        </section>
      )}
      {completions.length > 0 && (
        <section aria-label="Completion">
          <h3>Completion</h3>
          <KeyValues entries={completions} label="Completion attributes" />
        </section>
      )}
      {tools.length > 0 && (
        <section aria-label="Tool call">
          <h3>Tool arguments and result</h3>
          <KeyValues entries={tools} label="Tool attributes" />
        </section>
      )}
      {(span.events ?? []).length > 0 && (
        <section aria-label="Events">
          <h3>Events</h3>
          <ol class="events">
            {(span.events ?? []).map((e, i) => (
              <li key={i}>
                <strong>
                  <bdi>{reveal(e.name)}</bdi>
                </strong>{' '}
                <span class="sub">{when(e.time)}</span>
                <KeyValues entries={Object.entries(e.attributes)} label="Event attributes" />
              </li>
            ))}
          </ol>
        </section>
      )}
      <section aria-label="Attributes">
        <h3>Attributes</h3>
        <KeyValues entries={Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1))} label="All attributes" />
      </section>
      {span.resource !== undefined && Object.keys(span.resource).length > 0 && (
        <section aria-label="Resource">
          <h3>Resource</h3>
          <KeyValues entries={Object.entries(span.resource)} label="Resource attributes" />
        </section>
      )}
    </aside>
  );
}

function Waterfall({
  rows,
  t0,
  total,
  selected,
  onSelect,
  onToggle,
  collapsed,
  critical,
  flagged,
}: {
  rows: Row[];
  t0: number;
  total: number;
  selected: string | null;
  onSelect: (key: string) => void;
  onToggle: (key: string) => void;
  collapsed: ReadonlySet<string>;
  critical: ReadonlySet<string>;
  flagged: ReadonlyMap<string, Detection[]>;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  // Keep the selected row in view when it changes from outside (a detection's span link).
  useEffect(() => {
    if (selected === null || box.current === null) return;
    const i = rows.findIndex((r) => r.key === selected);
    if (i < 0) return;
    const y = i * ROW_HEIGHT;
    const el = box.current;
    if (y < el.scrollTop || y > el.scrollTop + el.clientHeight - ROW_HEIGHT) el.scrollTop = Math.max(0, y - ROW_HEIGHT * 3);
  }, [selected, rows]);
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil(top / ROW_HEIGHT) + VIEW_ROWS + OVERSCAN);
  const visible = rows.slice(first, last);
  const onKey = (e: KeyboardEvent) => {
    const i = rows.findIndex((r) => r.key === selected);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = rows[Math.min(rows.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next) onSelect(next.key);
    } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && i >= 0 && rows[i]!.hasChildren) {
      const isCollapsed = collapsed.has(rows[i]!.key);
      if ((e.key === 'ArrowLeft') !== isCollapsed) onToggle(rows[i]!.key);
    }
  };
  return (
    <div class="waterfall">
      <div class="wf-head" aria-hidden="true">
        <span>Span</span>
        <span>
          0 — {ms(total)} <span class="legend crit">critical path</span> <span class="legend err">error</span> <span class="legend det">detection</span>
        </span>
      </div>
      <div
        class="wf-body"
        ref={box}
        role="tree"
        aria-label={`Span tree, ${rows.length} rows`}
        aria-activedescendant={selected === null ? undefined : `row-${selected}`}
        tabIndex={0}
        onScroll={(e) => setTop(e.currentTarget.scrollTop)}
        onKeyDown={onKey}
        style={{ height: `${Math.min(rows.length, VIEW_ROWS) * ROW_HEIGHT + 2}px` }}
      >
        <div style={{ height: `${rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
          {visible.map((r, j) => {
            const s = startMs(r.node);
            const e = endMs(r.node);
            const left = total > 0 && Number.isFinite(s) ? ((s - t0) / total) * 100 : 0;
            const width = total > 0 && Number.isFinite(e) ? Math.max(0.3, ((e - s) / total) * 100) : 0;
            const dets = r.node.span_id === null ? undefined : flagged.get(r.node.span_id);
            const cls = ['wf-row', r.key === selected ? 'selected' : '', r.node.status?.code === 2 ? 'is-error' : '', dets ? 'has-det' : ''].join(' ');
            return (
              <div
                key={r.key}
                id={`row-${r.key}`}
                class={cls}
                role="treeitem"
                aria-level={r.depth + 1}
                aria-selected={r.key === selected}
                aria-expanded={r.hasChildren ? !collapsed.has(r.key) : undefined}
                data-span-id={r.node.span_id ?? ''}
                style={{ top: `${(first + j) * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }}
                onClick={() => onSelect(r.key)}
              >
                <span class="wf-name" style={{ paddingLeft: `${Math.min(r.depth, 40) * 12 + 4}px` }}>
                  {r.hasChildren ? (
                    <button
                      type="button"
                      class="toggle"
                      tabIndex={-1}
                      aria-label={collapsed.has(r.key) ? 'Expand' : 'Collapse'}
                      onClick={(ev) => {
                        ev.stopPropagation();
                        onToggle(r.key);
                      }}
                    >
                      {collapsed.has(r.key) ? '▸' : '▾'}
                    </button>
                  ) : (
                    <span class="toggle-space" />
                  )}
                  <bdi class="name">{reveal(r.node.name)}</bdi>
                  {dets?.map((d) => (
                    <span key={d.id} class={`marker sev-${/^[a-z]+$/.test(d.severity) ? d.severity : 'other'}`}>
                      {reveal(d.detection_type)}
                    </span>
                  ))}
                </span>
                <span class="wf-track">
                  <span class={`wf-bar${r.node.span_id !== null && critical.has(r.node.span_id) ? ' crit' : ''}`} style={{ left: `${left}%`, width: `${width}%` }} />
                  <span class="wf-dur">{ms(r.node.duration_ms)}</span>
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Metrics({ m }: { m: Record<string, unknown> | null }) {
  if (m === null) return <p>No metrics for this run.</p>;
  const n = (k: string) => (typeof m[k] === 'number' ? (m[k]) : null);
  const list = (k: string) => (Array.isArray(m[k]) ? (m[k] as unknown[]).map((x) => String(x)) : []);
  return (
    <dl class="metrics" aria-label="Run metrics">
      <div>
        <dt>Duration</dt>
        <dd>{ms(n('duration_ms'))}</dd>
      </div>
      <div>
        <dt>Critical path</dt>
        <dd>{ms(n('critical_path_ms'))}</dd>
      </div>
      <div>
        <dt>Spans</dt>
        <dd>{text(n('span_count'))}</dd>
      </div>
      <div>
        <dt>Tokens in / out</dt>
        <dd>
          {text(n('input_tokens'))} / {text(n('output_tokens'))}
        </dd>
      </div>
      <div>
        <dt>Cost</dt>
        <dd>{usd(n('cost_usd'))}</dd>
      </div>
      <div>
        <dt>Error rate</dt>
        <dd>{pct(n('error_rate'))}</dd>
      </div>
      <div>
        <dt>Tool error rate</dt>
        <dd>{pct(n('tool_error_rate'))}</dd>
      </div>
      <div>
        <dt>Retry rate</dt>
        <dd>{pct(n('retry_rate'))}</dd>
      </div>
      <div>
        <dt>Agents</dt>
        <dd>
          <bdi>{reveal(list('agents').join(', ') || '—')}</bdi>
        </dd>
      </div>
      <div>
        <dt>Models</dt>
        <dd>
          <bdi>{reveal(list('models').join(', ') || '—')}</bdi>
        </dd>
      </div>
    </dl>
  );
}

export function RunView({ traceId, span, detection }: { traceId: string; span: string | null; detection: string | null }) {
  const { api, live } = useApp();
  const [revision, setRevision] = useState<number | null>(null);
  const [trace, setTrace] = useState<TraceDetail | null>(null);
  const [withFeedback, setWithFeedback] = useState<Map<string, Detection>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(span);

  useEffect(() => setSelected(span), [span, traceId]);
  // Another run: its latest revision, its tree unfolded.
  useEffect(() => {
    setRevision(null);
    setCollapsed(new Set());
  }, [traceId]);

  const load = async () => {
    try {
      const [t, d] = await Promise.all([
        api.get<TraceDetail>(`/traces/${encodeURIComponent(traceId)}`, { revision }),
        api.get<Detection[]>('/detections', { trace_id: traceId, limit: 1000 }),
      ]);
      // Same revision and same detections: keep the parsed tree (and the view) as it is.
      setTrace((old) => (old !== null && old.revision === t.body.revision && old.trace_id === t.body.trace_id && old.detections.length === t.body.detections.length && revision === null ? { ...old, detections: t.body.detections, metrics: t.body.metrics } : t.body));
      setWithFeedback(new Map(d.body.map((x) => [x.id, x])));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };
  // A large run is not re-read every few seconds (its answer is megabytes): Refresh does it.
  const large = trace !== null && trace.span_count > LIVE_SPAN_LIMIT;
  usePoll(load, live && revision === null && !large, [traceId, revision]);

  const spans = useMemo(() => (trace === null ? [] : allSpans(trace.spans)), [trace?.spans]);
  const rows = useMemo(() => (trace === null ? [] : flatten(trace.spans, collapsed)), [trace?.spans, collapsed]);
  const [t0, total] = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of spans) {
      const a = startMs(s);
      const b = endMs(s);
      if (Number.isFinite(a)) lo = Math.min(lo, a);
      if (Number.isFinite(b)) hi = Math.max(hi, b);
    }
    return Number.isFinite(lo) && hi > lo ? [lo, hi - lo] : [0, 0];
  }, [spans]);
  const detections = useMemo(() => (trace?.detections ?? []).map((d) => ({ ...d, feedback: withFeedback.get(d.id)?.feedback ?? d.feedback ?? [] })), [trace?.detections, withFeedback]);
  const flagged = useMemo(() => {
    const m = new Map<string, Detection[]>();
    for (const d of detections) for (const id of d.affected_span_ids) m.set(id, [...(m.get(id) ?? []), d]);
    return m;
  }, [detections]);
  const critical = useMemo(() => new Set(Array.isArray(trace?.metrics?.critical_path_span_ids) ? (trace.metrics.critical_path_span_ids as string[]) : []), [trace?.metrics]);

  const select = (key: string) => {
    setSelected(key);
    history.replaceState(null, '', runHref(traceId, key, detection));
  };
  // Selecting a span hidden under a collapsed ancestor opens the ancestors.
  const selectSpan = (id: string) => {
    const parents = new Map<string, string>();
    for (const s of spans) if (s.span_id !== null) for (const c of s.children) if (c.span_id !== null) parents.set(c.span_id, s.span_id);
    const open = new Set(collapsed);
    for (let p = parents.get(id); p !== undefined; p = parents.get(p)) open.delete(p);
    if (open.size !== collapsed.size) setCollapsed(open);
    select(id);
  };
  const toggle = (key: string) => {
    const next = new Set(collapsed);
    if (!next.delete(key)) next.add(key);
    setCollapsed(next);
  };

  if (trace === null)
    return (
      <section>
        <h1>
          Run <bdi>{reveal(traceId)}</bdi>
        </h1>
        {error === null ? <p>Loading…</p> : <ErrorNote error={error} />}
      </section>
    );

  const selectedSpan = rows.find((r) => r.key === selected)?.node ?? spans.find((s) => s.span_id !== null && s.span_id === selected) ?? null;
  const spanDetections = selectedSpan?.span_id ? (flagged.get(selectedSpan.span_id) ?? []) : [];
  return (
    <section aria-labelledby="run-title">
      <p>
        <a href="#/runs">← Runs</a>
      </p>
      <h1 id="run-title">
        <bdi>{reveal(trace.root_name || trace.trace_id)}</bdi>
      </h1>
      <p class="meta">
        run <bdi>{reveal(trace.trace_id)}</bdi> · service <bdi>{reveal(trace.service_name)}</bdi> · closed {when(trace.closed_at)} ({reveal(trace.close_reason)}
        {trace.truncated ? ', truncated' : ''}) · failure score {pct(trace.failure_score)}
      </p>
      <div class="revision">
        <label for="revision">Revision</label>
        <select id="revision" value={revision === null ? '' : String(revision)} onChange={(e) => setRevision(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))}>
          <option value="">latest ({trace.revision})</option>
          {Array.from({ length: Math.max(0, (revision ?? trace.revision) - 1) }, (_, i) => i + 1).map((r) => (
            <option key={r} value={String(r)}>
              {r}
            </option>
          ))}
        </select>{' '}
        made by pipeline <bdi>{reveal(trace.pipeline_version)}</bdi>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
        {large && live && <span class="sub">(live refresh is off for runs over {LIVE_SPAN_LIMIT} spans)</span>}
      </div>
      <ErrorNote error={error} />
      <Metrics m={trace.metrics} />
      <div class="run-layout">
        <div class="run-main">
          <Waterfall rows={rows} t0={t0} total={total} selected={selected} onSelect={select} onToggle={toggle} collapsed={collapsed} critical={critical} flagged={flagged} />
          <section aria-labelledby="det-title">
            <h2 id="det-title">Detections ({detections.length})</h2>
            {detections.length === 0 && <p>No detections in this revision.</p>}
            {detections.map((d) => (
              <DetectionCard key={d.id} d={d} onSpan={selectSpan} onSent={() => void load()} open={d.id === detection} />
            ))}
            <Missed traceId={trace.trace_id} onSent={() => void load()} />
          </section>
        </div>
        {selectedSpan !== null ? (
          <SpanPanel span={selectedSpan} detections={spanDetections} onSpan={selectSpan} onSent={() => void load()} />
        ) : (
          <aside class="panel" aria-label="Span details">
            <p>Select a span to see its attributes, prompts, tool calls, events and errors.</p>
          </aside>
        )}
      </div>
    </section>
  );
}
