/**
 * Read-only queries over the views. They read the store only; nothing here writes.
 */
import type { ReadableStore } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import type { Detection, FeedbackRecord, TenantSettings, TraceMetrics, TraceRecord } from '../model/outputs.js';
import { severityRank, type Severity } from '../model/outputs.js';
import { errors } from '../model/errors.js';
import { prefixEnd, str, tupleKey, u64 } from '../log/store-keys.js';
import { matches, type TraceFacets, type TraceFilter } from './trace-facets.js';
import { filterValues, readCount, scoreIndexValue, TRACE_INDEX_VERSION, type FacetValue } from './trace-index.js';
import type { SessionRecord } from '../model/session.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord } from '../model/tenant-records.js';
import { VIEW_KEYS, type ApiKeyView, type TenantView, type TraceSummary } from './view-model.js';
import { queryRollups, type RollupQuery, type RollupRow } from './rollups.js';

export type MetricsView = Omit<TraceMetrics, 'startTimeUnixNano'> & { readonly startTimeUnixNano: string };

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

function parse<T>(raw: Buffer | null): T | null {
  return raw === null ? null : (JSON.parse(raw.toString()) as T);
}

/** Cursors are opaque to clients: the last key seen, base64url. */
function encodeCursor(key: Buffer): string {
  return key.toString('base64url');
}

/** A cursor from another list or tenant is refused rather than read from. */
function decodeCursor(cursor: string, prefix: Buffer): Buffer {
  const key = Buffer.from(cursor, 'base64url');
  if (!key.subarray(0, prefix.length).equals(prefix)) throw errors.invalidRequest('query.cursor: not a cursor of this list');
  return key;
}

/** Entries one list page reads at most, whatever its filters keep. */
export const MAX_SCANNED = 5000;

export interface TimeRange {
  readonly fromMs?: number;
  readonly toMs?: number;
}

/** The orders of the trace list. */
export type TraceOrder = 'closed_at' | 'failure_score';

/** Bytes of a score index value in a key: its length (u16) and four digits (trace-index.ts). */
const SCORE_VALUE_BYTES = 2 + 4;

export interface DetectionFilter extends TimeRange {
  readonly type?: string;
  readonly severity?: Severity;
  readonly minSeverity?: Severity;
  readonly minConfidence?: number;
  readonly maxConfidence?: number;
  readonly agent?: string;
  readonly traceId?: string;
}

function detectionMatches(d: Detection, f: DetectionFilter): boolean {
  return (
    (f.type === undefined || d.detectionType === f.type) &&
    (f.severity === undefined || d.severity === f.severity) &&
    (f.minSeverity === undefined || severityRank[d.severity] >= severityRank[f.minSeverity]) &&
    (f.minConfidence === undefined || d.confidence >= f.minConfidence) &&
    (f.maxConfidence === undefined || d.confidence <= f.maxConfidence) &&
    (f.agent === undefined || d.agent === f.agent) &&
    (f.traceId === undefined || d.traceId === f.traceId)
  );
}

export class ViewQueries {
  constructor(
    private readonly store: ReadableStore,
    private readonly codecs: Codecs,
  ) {}

  async trace(tenantId: string, traceId: string): Promise<TraceSummary | null> {
    return parse<TraceSummary>(await this.store.get(VIEW_KEYS.trace(tenantId, traceId)));
  }

  /** The record of one revision, spans included. */
  async traceBody(tenantId: string, traceId: string, revision: number): Promise<TraceRecord | null> {
    // Views written before bodies were kept per revision hold the latest under one key.
    const raw = (await this.store.get(VIEW_KEYS.traceBodyRevision(tenantId, traceId, revision))) ?? (await this.store.get(VIEW_KEYS.traceBody(tenantId, traceId)));
    if (raw === null) return null;
    const body = await this.codecs.trace.decode(raw);
    return body.revision === revision ? body : null;
  }

  async metrics(tenantId: string, traceId: string): Promise<MetricsView | null> {
    return parse<MetricsView>(await this.store.get(VIEW_KEYS.metrics(tenantId, traceId)));
  }

  async detection(tenantId: string, detectionId: string): Promise<Detection | null> {
    return parse<Detection>(await this.store.get(VIEW_KEYS.detection(tenantId, detectionId)));
  }

  /** The latest revision's detections, primary first, then by severity and confidence. */
  async detectionsOfTrace(tenantId: string, traceId: string): Promise<Detection[]> {
    const out: Detection[] = [];
    for await (const [key] of this.store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.detectionByTracePrefix(tenantId, traceId)))) {
      const d = await this.detection(tenantId, VIEW_KEYS.parseDetectionByTrace(key));
      if (d !== null) out.push(d);
    }
    return out.sort(
      (a, b) =>
        Number(b.primary) - Number(a.primary) ||
        Number(a.subsumedBy !== null) - Number(b.subsumedBy !== null) ||
        severityRank[b.severity] - severityRank[a.severity] ||
        b.confidence - a.confidence ||
        (a.id < b.id ? -1 : 1),
    );
  }

  /** Newest first, keyset-paginated, filtered (see pageByTime for how far one page scans). */
  async listDetections(tenantId: string, limit: number, cursor: string | null, filter: DetectionFilter = {}): Promise<Page<Detection>> {
    const prefix = VIEW_KEYS.detectionByTimePrefix(tenantId);
    return this.pageByTime({ scan: prefix, cursor: prefix }, filter, limit, cursor, async (entries) => {
      const values = await this.store.getMany(entries.map(([key]) => VIEW_KEYS.detection(tenantId, VIEW_KEYS.parseDetectionByTime(key))));
      return values.map((raw) => {
        const d = parse<Detection>(raw);
        return d !== null && detectionMatches(d, filter) ? d : null;
      });
    });
  }

  /**
   * Traces by the time their window closed, newest first, filtered. With a filter on an
   * indexed facet value the page runs over that value's index entries (the rarest value's
   * when there are several; trace-index.ts) and checks the other filters on the facets of
   * the by-time entries they point to; otherwise over the by-time index itself. Either way
   * the cursor is a by-time key, so items and cursors do not depend on the path taken.
   *
   * Ordered by failure score (highest first, then newest), the page runs over the score
   * index from the top down to `minFailureScore` and checks every other filter, the time
   * range included, on the facets; its cursors are score-index keys, refused by the
   * by-time order and the other way round.
   */
  async listTraces(tenantId: string, limit: number, cursor: string | null, filter: TraceFilter & TimeRange = {}, order: TraceOrder = 'closed_at'): Promise<Page<TraceFacets>> {
    const byTime = VIEW_KEYS.traceByTimePrefix(tenantId);
    const keep = async (raw: Buffer, key: Buffer): Promise<TraceFacets | null> => {
      // By-time entries written before they carried the facets are completed by a lookup.
      const facets = raw.length > 0 ? (JSON.parse(raw.toString()) as TraceFacets) : parse<TraceFacets>(await this.store.get(VIEW_KEYS.traceFacets(tenantId, VIEW_KEYS.parseTraceByTime(key))));
      return facets !== null && matches(facets, filter) ? facets : null;
    };
    // Index entries end as their by-time entries do: the by-time keys of a chunk, and their facets.
    const viaIndex = (scan: Buffer, valueBytes: number, within: (closedAtMs: number) => boolean) => async (entries: [Buffer, Buffer][]) => {
      const keys = entries.map(([key]) => Buffer.concat([byTime, key.subarray(scan.length + valueBytes)]));
      const values = await this.store.getMany(keys);
      // An entry without its by-time entry (possible only for by-time entries older than
      // the facets they carry) lists nothing.
      return Promise.all(values.map(async (raw, i) => (raw === null || !within(VIEW_KEYS.parseTraceByTimeKey(keys[i]!).closedAtMs) ? null : keep(raw, keys[i]!))));
    };
    if (order === 'failure_score') {
      if (!(await this.traceIndexBuilt())) throw errors.notReady('the failure-score order is being built; retry shortly');
      const scan = VIEW_KEYS.traceScoreOrderPrefix(tenantId);
      const gte = filter.minFailureScore === undefined ? scan : Buffer.concat([scan, str(scoreIndexValue(filter.minFailureScore))]);
      const within = (at: number) => (filter.fromMs === undefined || at >= filter.fromMs) && (filter.toMs === undefined || at < filter.toMs);
      return this.pageByTime({ scan, cursor: scan, gte }, filter, limit, cursor, viaIndex(scan, SCORE_VALUE_BYTES, within));
    }
    const driver = await this.rarestIndexed(tenantId, filter);
    if (driver === null) {
      return this.pageByTime({ scan: byTime, cursor: byTime }, filter, limit, cursor, (entries) => Promise.all(entries.map(([key, value]) => keep(value, key))));
    }
    const scan = VIEW_KEYS.traceIndexPrefix(tenantId, driver.facet, driver.value);
    return this.pageByTime({ scan, cursor: byTime }, filter, limit, cursor, viaIndex(scan, 0, () => true));
  }

  /** The indexed filter value with the fewest traces, or null when none applies or the index is not built yet. */
  private async rarestIndexed(tenantId: string, filter: TraceFilter): Promise<FacetValue | null> {
    const candidates = filterValues(filter);
    if (candidates.length === 0 || !(await this.traceIndexBuilt())) return null;
    const counts = (await this.store.getMany(candidates.map((v) => VIEW_KEYS.traceIndexCount(tenantId, v.facet, v.value)))).map(readCount);
    let best = 0;
    for (let i = 1; i < candidates.length; i++) if (counts[i]! < counts[best]!) best = i;
    return candidates[best]!;
  }

  /** Set once the views built the index (trace-index.ts, buildTraceIndex); it stays built. */
  private indexBuilt = false;

  private async traceIndexBuilt(): Promise<boolean> {
    this.indexBuilt ||= (await this.store.get(VIEW_KEYS.traceIndexVersion))?.toString() === TRACE_INDEX_VERSION;
    return this.indexBuilt;
  }

  /**
   * One page over a by-time index (keys: scan prefix, time, id), newest first, between
   * `range.fromMs` (inclusive) and `range.toMs` (exclusive). Cursors are keys under the
   * `cursor` prefix followed by the same time and id parts, so an index of one facet value
   * pages with the cursors of the by-time index it mirrors. Entries are picked a chunk at a
   * time (one multi-get per chunk, no larger than what the page still needs); a page stops
   * after MAX_SCANNED entries even if it holds fewer than `limit` items, and then carries a
   * cursor, so a selective filter over a large tenant answers in bounded time and the
   * client pages on. An index ordered by something else than time (the score order) gives
   * its own lower bound, `gte`, and its time range is checked by `pick`.
   */
  private async pageByTime<T>(
    index: { readonly scan: Buffer; readonly cursor: Buffer; readonly gte?: Buffer },
    range: TimeRange,
    limit: number,
    cursor: string | null,
    pick: (entries: [Buffer, Buffer][]) => Promise<(T | null)[]>,
  ): Promise<Page<T>> {
    const { scan } = index;
    const byTime = index.gte === undefined;
    const gte = index.gte ?? (range.fromMs === undefined ? scan : Buffer.concat([scan, u64(range.fromMs)]));
    const end = !byTime || range.toMs === undefined ? prefixEnd(scan) : Buffer.concat([scan, u64(range.toMs)]);
    let lt = end;
    if (cursor !== null) {
      const after = decodeCursor(cursor, index.cursor);
      const at = Buffer.concat([scan, after.subarray(index.cursor.length)]);
      if (at.compare(end) < 0) lt = at;
    }
    const toCursor = (key: Buffer) => encodeCursor(Buffer.concat([index.cursor, key.subarray(scan.length)]));
    const items: T[] = [];
    let scanned = 0;
    let lastKey: Buffer | null = null;
    let chunk: [Buffer, Buffer][] = [];
    for await (const entry of this.store.range({ gte, lt, reverse: true })) {
      // A full page (or scan bound) followed by one more entry: there is a next page.
      if (items.length === limit || scanned === MAX_SCANNED) return { items, nextCursor: lastKey === null ? null : toCursor(lastKey) };
      chunk.push(entry);
      if (chunk.length < Math.min(limit - items.length, MAX_SCANNED - scanned)) continue;
      ({ lastKey, scanned } = await this.pickChunk(chunk, pick, items, lastKey, scanned));
      chunk = [];
    }
    if (chunk.length > 0) await this.pickChunk(chunk, pick, items, lastKey, scanned);
    return { items, nextCursor: null };
  }

  private async pickChunk<T>(
    chunk: [Buffer, Buffer][],
    pick: (entries: [Buffer, Buffer][]) => Promise<(T | null)[]>,
    items: T[],
    lastKey: Buffer | null,
    scanned: number,
  ): Promise<{ lastKey: Buffer | null; scanned: number }> {
    const picked = await pick(chunk);
    for (const item of picked) if (item !== null) items.push(item);
    return { lastKey: chunk[chunk.length - 1]![0], scanned: scanned + chunk.length };
  }

  /** A trace of a given revision: its record, metrics and the detections it stood by. */
  async traceRevision(tenantId: string, traceId: string, revision: number): Promise<{ body: TraceRecord; metrics: MetricsView | null; detections: Detection[] } | null> {
    const body = await this.traceBody(tenantId, traceId, revision);
    if (body === null) return null;
    const metrics = parse<MetricsView>(await this.store.get(VIEW_KEYS.metricsRevision(tenantId, traceId, revision)));
    const detections: Detection[] = [];
    for (const id of body.detectionIds) {
      const d = await this.detection(tenantId, id);
      if (d !== null) detections.push(d);
    }
    return { body, metrics, detections };
  }

  /** The tenant's API keys, revoked ones included. */
  async apiKeysOf(tenantId: string): Promise<ApiKeyView[]> {
    const out: ApiKeyView[] = [];
    for await (const [key] of this.store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.apiKeysOfTenantPrefix(tenantId)))) {
      const view = await this.apiKey(VIEW_KEYS.parseApiKeyOfTenant(key));
      if (view !== null) out.push(view);
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.keyId < b.keyId ? -1 : 1));
  }

  /** Every tenant (for the operator). */
  async tenants(): Promise<TenantView[]> {
    return this.all<TenantView>(tupleKey('tn'));
  }

  async feedbackOf(tenantId: string, detectionId: string): Promise<FeedbackRecord[]> {
    const out: FeedbackRecord[] = [];
    for await (const [, value] of this.store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.feedbackPrefix(tenantId, detectionId)))) {
      out.push(JSON.parse(value.toString()) as FeedbackRecord);
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async tenant(tenantId: string): Promise<TenantView | null> {
    return parse<TenantView>(await this.store.get(VIEW_KEYS.tenant(tenantId)));
  }

  /** The session registry's latest record of a session-events session. */
  async session(tenantId: string, sessionId: string): Promise<SessionRecord | null> {
    return parse<SessionRecord>(await this.store.get(VIEW_KEYS.session(tenantId, sessionId)));
  }

  async apiKey(keyId: string): Promise<ApiKeyView | null> {
    return parse<ApiKeyView>(await this.store.get(VIEW_KEYS.apiKey(keyId)));
  }

  /** The tenant's audit chain in sequence order. */
  async auditRecords(tenantId: string): Promise<AuditRecord[]> {
    return this.all<AuditRecord>(VIEW_KEYS.auditPrefix(tenantId));
  }

  /** Latest baseline per service and agent. */
  async baselines(tenantId: string): Promise<BaselineRecord[]> {
    return this.all<BaselineRecord>(VIEW_KEYS.baselinePrefix(tenantId));
  }

  /** The tenant's own settings; nulls (or none stored) keep the deployment's defaults. */
  async settings(tenantId: string): Promise<TenantSettings> {
    return parse<TenantSettings>(await this.store.get(VIEW_KEYS.settings(tenantId))) ?? { baselineSigma: null, baselineMinSamples: null };
  }

  /** Latest calibration per detector that received feedback. */
  async calibrations(tenantId: string): Promise<CalibrationRecord[]> {
    return this.all<CalibrationRecord>(VIEW_KEYS.calibrationPrefix(tenantId));
  }

  /** Metric rollups of one granularity and grouping over a time range (rollups.ts). */
  async rollups(tenantId: string, query: RollupQuery): Promise<RollupRow[]> {
    return queryRollups(this.store, tenantId, query);
  }

  private async all<T>(prefix: Buffer): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.store.range(VIEW_KEYS.prefixRange(prefix))) out.push(JSON.parse(value.toString()) as T);
    return out;
  }
}
