/**
 * Secondary indexes of the trace list: one entry per facet value of each listed trace
 * (service, agent, model, status, detection type, severity at least, has failures), keyed
 * `tx tenant facet value closedAt trace`, so that a page of traces holding one value,
 * newest first, is one range read over about `limit` entries instead of a scan of the
 * tenant's whole by-time index. A count per value (`tc`) lets a query with several filters
 * drive from the rarest value and check the others on the facet record.
 *
 * One more index orders traces by their failure score (`score`, the value three places of
 * the score as four digits, so bytes sort as numbers): the list sorted by score, highest
 * first, is a range read too. It has no counts, as no filter drives from it. Its entries
 * depend on the failure model, so the index version names the model's weights and a store
 * built under other weights has its score entries built again (buildTraceIndex).
 *
 * The entries follow the by-time entry (`tt`) exactly: written, changed and deleted with
 * it, from the facets it carries, in the same batch, so they hold after restarts and
 * replays as the rest of the views do.
 */
import type { StateStore, StoreOp } from '../log/port.js';
import { createHash } from 'node:crypto';
import { FAILURE_MODEL } from '../detectors/failure-score.js';
import { KEY_PART_LIMITS } from '../model/key-parts.js';
import { severityRank, type Severity } from '../model/outputs.js';
import type { BufferedStore } from '../runtime/buffered-store.js';
import { failureScoreOf, maxSeverity, type TraceFacets, type TraceFilter } from './trace-facets.js';
import { VIEW_KEYS } from './view-model.js';

/** The facets indexed, as named in keys. */
export type IndexedFacet = 'service' | 'agent' | 'model' | 'status' | 'detection' | 'severity' | 'failures' | 'score';

/** The facet of the failure-score order: not a filter, so it keeps no counts. */
export const SCORE_FACET = 'score';

/** A failure score as its index value: thousandths, four digits ('0000'–'1000'). */
export function scoreIndexValue(score: number): string {
  return String(Math.min(1000, Math.max(0, Math.floor(score * 1000 + 1e-6)))).padStart(4, '0');
}

export interface FacetValue {
  readonly facet: IndexedFacet;
  readonly value: string;
}

const SEVERITIES = Object.keys(severityRank) as Severity[];

/**
 * The longest value indexed: what ingest lets a service, agent or model name be
 * (src/model/key-parts.ts), so keys stay small. A longer value reached the log around
 * ingest; its trace is still listed, and a filter on it (queries bound them too) is checked
 * on the facets instead.
 */
const MAX_INDEXED_CHARS = Math.max(KEY_PART_LIMITS.serviceName, KEY_PART_LIMITS.agentName, KEY_PART_LIMITS.modelName);

const indexable = (v: FacetValue) => v.value.length <= MAX_INDEXED_CHARS;

/** The facet values a listed trace is found under. */
export function indexedValues(facets: TraceFacets): FacetValue[] {
  return facetValues(facets).filter(indexable);
}

function facetValues(facets: TraceFacets): FacetValue[] {
  const out: FacetValue[] = [
    { facet: 'service', value: facets.serviceName },
    { facet: 'status', value: facets.hasError ? 'error' : 'ok' },
    { facet: 'failures', value: String(Object.keys(facets.detections).length > 0) },
    { facet: SCORE_FACET, value: scoreIndexValue(failureScoreOf(facets)) },
  ];
  for (const agent of new Set(facets.agents)) out.push({ facet: 'agent', value: agent });
  for (const model of new Set(facets.models)) out.push({ facet: 'model', value: model });
  for (const type of new Set(Object.values(facets.detections).map((d) => d.type))) out.push({ facet: 'detection', value: type });
  // One entry per level the worst detection reaches, so `min_severity` is one range too.
  const max = maxSeverity(facets);
  if (max !== null) for (const level of SEVERITIES) if (severityRank[level] <= severityRank[max]) out.push({ facet: 'severity', value: level });
  return out;
}

/** The facet values a filter keeps traces of, each enough on its own to drive a page. */
export function filterValues(filter: TraceFilter): FacetValue[] {
  const out: FacetValue[] = [];
  if (filter.service !== undefined) out.push({ facet: 'service', value: filter.service });
  if (filter.agent !== undefined) out.push({ facet: 'agent', value: filter.agent });
  if (filter.model !== undefined) out.push({ facet: 'model', value: filter.model });
  if (filter.detectionType !== undefined) out.push({ facet: 'detection', value: filter.detectionType });
  if (filter.minSeverity !== undefined) out.push({ facet: 'severity', value: filter.minSeverity });
  if (filter.status !== undefined) out.push({ facet: 'status', value: filter.status });
  if (filter.hasFailures !== undefined) out.push({ facet: 'failures', value: String(filter.hasFailures) });
  return out.filter(indexable);
}

const name = (v: FacetValue) => `${v.facet}\u0000${v.value}`;

/** Index and count changes from the facets listed before (null: not listed) to `after` (null: unlisted). */
async function apply(store: BufferedStore, tenantId: string, traceId: string, closedAtMs: number, before: TraceFacets | null, after: TraceFacets | null): Promise<void> {
  const old = new Map((before === null ? [] : indexedValues(before)).map((v) => [name(v), v]));
  const next = new Map((after === null ? [] : indexedValues(after)).map((v) => [name(v), v]));
  for (const [k, v] of old) {
    if (next.has(k)) continue;
    store.del(VIEW_KEYS.traceIndex(tenantId, v.facet, v.value, closedAtMs, traceId));
    await count(store, tenantId, v, -1);
  }
  for (const [k, v] of next) {
    if (old.has(k)) continue;
    store.put(VIEW_KEYS.traceIndex(tenantId, v.facet, v.value, closedAtMs, traceId), Buffer.alloc(0));
    await count(store, tenantId, v, 1);
  }
}

async function count(store: BufferedStore, tenantId: string, v: FacetValue, delta: number): Promise<void> {
  if (v.facet === SCORE_FACET) return;
  const key = VIEW_KEYS.traceIndexCount(tenantId, v.facet, v.value);
  const n = readCount(await store.get(key)) + delta;
  if (n > 0) store.put(key, countValue(n));
  else store.del(key);
}

export function readCount(raw: Buffer | null): number {
  return raw === null ? 0 : Number(raw.readBigUInt64BE(0));
}

function countValue(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/**
 * The facets a by-time entry carries; entries written before they carried any ('') stand
 * for the trace's facet record, `fallback`.
 */
function carried(raw: Buffer | null, fallback: TraceFacets | null): TraceFacets | null {
  if (raw === null) return null;
  return raw.length > 0 ? (JSON.parse(raw.toString()) as TraceFacets) : fallback;
}

/**
 * Lists (or relists) a trace under its close time with `facets`: the by-time entry and the
 * index entries of every facet value, replacing those of the facets listed there before.
 */
export async function listTrace(store: BufferedStore, tenantId: string, traceId: string, facets: TraceFacets & { closedAtMs: number }, fallback: TraceFacets | null): Promise<void> {
  const key = VIEW_KEYS.traceByTime(tenantId, facets.closedAtMs, traceId);
  const before = carried(await store.get(key), fallback);
  store.put(key, Buffer.from(JSON.stringify(facets)));
  await apply(store, tenantId, traceId, facets.closedAtMs, before, facets);
}

/** Removes the trace's by-time entry at `closedAtMs` and the index entries that came with it. */
export async function unlistTrace(store: BufferedStore, tenantId: string, traceId: string, closedAtMs: number, fallback: TraceFacets | null): Promise<void> {
  const key = VIEW_KEYS.traceByTime(tenantId, closedAtMs, traceId);
  const before = carried(await store.get(key), fallback);
  store.del(key);
  if (before !== null) await apply(store, tenantId, traceId, closedAtMs, before, null);
}

/**
 * The version of the index the store holds entries of, absent until they are built: the
 * layout's, and the failure model's weights the score entries were computed with.
 */
export const TRACE_INDEX_VERSION = `2:${createHash('sha256').update(JSON.stringify(FAILURE_MODEL)).digest('hex').slice(0, 16)}`;

/** Entries of one listed trace and the counts they add, for a store written in bulk (the backfill, the query bench). */
export function indexOpsOf(tenantId: string, traceId: string, facets: TraceFacets & { closedAtMs: number }, counts: Map<string, number>, out: StoreOp[]): void {
  for (const v of indexedValues(facets)) {
    out.push({ type: 'put', key: VIEW_KEYS.traceIndex(tenantId, v.facet, v.value, facets.closedAtMs, traceId), value: Buffer.alloc(0) });
    if (v.facet === SCORE_FACET) continue;
    const k = VIEW_KEYS.traceIndexCount(tenantId, v.facet, v.value).toString('latin1');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
}

/** The count entries and the version marker that complete a bulk build. */
export function indexCompletionOps(counts: ReadonlyMap<string, number>): StoreOp[] {
  const ops: StoreOp[] = [...counts].map(([k, n]) => ({ type: 'put', key: Buffer.from(k, 'latin1'), value: countValue(n) }));
  ops.push({ type: 'put', key: VIEW_KEYS.traceIndexVersion, value: Buffer.from(TRACE_INDEX_VERSION) });
  return ops;
}

const BACKFILL_BATCH = 2000;

/**
 * Builds the index of a store written before it existed, or under another version of it
 * (an earlier layout, other failure-model weights), from its by-time entries, before the
 * views consume anything. Score entries of the earlier version go first; then writes are
 * idempotent and the counts and the version marker come last, in one unit, so a build cut
 * short is simply done again on the next start.
 */
export async function buildTraceIndex(store: StateStore, write: (ops: StoreOp[]) => Promise<void>): Promise<void> {
  const built = await store.get(VIEW_KEYS.traceIndexVersion);
  if (built?.toString() === TRACE_INDEX_VERSION) return;
  let ops: StoreOp[] = [];
  if (built !== null) {
    for await (const [key] of store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.traceIndexAll))) {
      if (VIEW_KEYS.parseTraceIndexKey(key).facet !== SCORE_FACET) continue;
      ops.push({ type: 'del', key });
      if (ops.length >= BACKFILL_BATCH) {
        await write(ops);
        ops = [];
      }
    }
  }
  const counts = new Map<string, number>();
  for await (const [key, value] of store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.traceByTimeAll))) {
    const { tenantId, closedAtMs, traceId } = VIEW_KEYS.parseTraceByTimeKey(key);
    const raw = value.length > 0 ? value : await store.get(VIEW_KEYS.traceFacets(tenantId, traceId));
    if (raw === null) continue;
    indexOpsOf(tenantId, traceId, { ...(JSON.parse(raw.toString()) as TraceFacets), closedAtMs }, counts, ops);
    if (ops.length >= BACKFILL_BATCH) {
      await write(ops);
      ops = [];
    }
  }
  await write([...ops, ...indexCompletionOps(counts)]);
}
