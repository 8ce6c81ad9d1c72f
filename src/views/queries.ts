/**
 * Read-only queries over the views. They read the store only; nothing here writes.
 */
import type { ReadableStore } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import type { Detection, FeedbackRecord, TenantSettings, TraceMetrics, TraceRecord } from '../model/outputs.js';
import { severityRank, type Severity } from '../model/outputs.js';
import { errors } from '../model/errors.js';
import { prefixEnd, tupleKey, u64 } from '../log/store-keys.js';
import { matches, type TraceFacets, type TraceFilter } from './trace-facets.js';
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

  /** Newest first, keyset-paginated. */
  /** Newest first, keyset-paginated, filtered (see pageByTime for how far one page scans). */
  async listDetections(tenantId: string, limit: number, cursor: string | null, filter: DetectionFilter = {}): Promise<Page<Detection>> {
    return this.pageByTime(VIEW_KEYS.detectionByTimePrefix(tenantId), filter, limit, cursor, async (key) => {
      const d = await this.detection(tenantId, VIEW_KEYS.parseDetectionByTime(key));
      return d !== null && detectionMatches(d, filter) ? d : null;
    });
  }

  /** Traces by the time their window closed, newest first, filtered. */
  async listTraces(tenantId: string, limit: number, cursor: string | null, filter: TraceFilter & TimeRange = {}): Promise<Page<TraceFacets>> {
    return this.pageByTime(VIEW_KEYS.traceByTimePrefix(tenantId), filter, limit, cursor, async (key, value) => {
      // Index entries written before they carried the facets are completed by a lookup.
      const facets =
        value.length > 0 ? (JSON.parse(value.toString()) as TraceFacets) : parse<TraceFacets>(await this.store.get(VIEW_KEYS.traceFacets(tenantId, VIEW_KEYS.parseTraceByTime(key))));
      return facets !== null && matches(facets, filter) ? facets : null;
    });
  }

  /**
   * One page over a by-time index (keys: prefix, time, id), newest first, between
   * `range.fromMs` (inclusive) and `range.toMs` (exclusive). Filters are applied as entries
   * are read; a page stops after MAX_SCANNED entries even if it holds fewer than `limit`
   * items, and then carries a cursor, so a selective filter over a large tenant answers in
   * bounded time and the client pages on.
   */
  private async pageByTime<T>(
    prefix: Buffer,
    range: TimeRange,
    limit: number,
    cursor: string | null,
    pick: (key: Buffer, value: Buffer) => Promise<T | null>,
  ): Promise<Page<T>> {
    const gte = range.fromMs === undefined ? prefix : Buffer.concat([prefix, u64(range.fromMs)]);
    const end = range.toMs === undefined ? prefixEnd(prefix) : Buffer.concat([prefix, u64(range.toMs)]);
    let lt = end;
    if (cursor !== null) {
      const after = decodeCursor(cursor, prefix);
      if (after.compare(end) < 0) lt = after;
    }
    const items: T[] = [];
    let scanned = 0;
    let lastKey: Buffer | null = null;
    for await (const [key, value] of this.store.range({ gte, lt, reverse: true })) {
      if (items.length === limit || scanned === MAX_SCANNED) return { items, nextCursor: lastKey === null ? null : encodeCursor(lastKey) };
      scanned++;
      const item = await pick(key, value);
      if (item !== null) items.push(item);
      lastKey = key;
    }
    return { items, nextCursor: null };
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
