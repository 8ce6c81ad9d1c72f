/**
 * Read-only queries over the views. They read the store only; nothing here writes.
 */
import type { ReadableStore } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import type { Detection, FeedbackRecord, TenantSettings, TraceMetrics, TraceRecord } from '../model/outputs.js';
import { severityRank } from '../model/outputs.js';
import type { SessionRecord } from '../model/session.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord } from '../model/tenant-records.js';
import { VIEW_KEYS, type ApiKeyView, type TenantView, type TraceSummary } from './view-model.js';

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

export class ViewQueries {
  constructor(
    private readonly store: ReadableStore,
    private readonly codecs: Codecs,
  ) {}

  async trace(tenantId: string, traceId: string): Promise<TraceSummary | null> {
    return parse<TraceSummary>(await this.store.get(VIEW_KEYS.trace(tenantId, traceId)));
  }

  async traceBody(tenantId: string, traceId: string): Promise<TraceRecord | null> {
    const raw = await this.store.get(VIEW_KEYS.traceBody(tenantId, traceId));
    return raw === null ? null : this.codecs.trace.decode(raw);
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
  async listDetections(tenantId: string, limit: number, cursor: string | null): Promise<Page<Detection>> {
    const { gte, lt: end } = VIEW_KEYS.prefixRange(VIEW_KEYS.detectionByTimePrefix(tenantId));
    const lt = cursor === null ? end : Buffer.from(cursor, 'base64url');
    const items: Detection[] = [];
    let lastKey: Buffer | null = null;
    for await (const [key] of this.store.range({ gte, lt, reverse: true, limit: limit + 1 })) {
      if (items.length === limit) return { items, nextCursor: lastKey === null ? null : encodeCursor(lastKey) };
      const d = await this.detection(tenantId, VIEW_KEYS.parseDetectionByTime(key));
      if (d !== null) items.push(d);
      lastKey = key;
    }
    return { items, nextCursor: null };
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

  private async all<T>(prefix: Buffer): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.store.range(VIEW_KEYS.prefixRange(prefix))) out.push(JSON.parse(value.toString()) as T);
    return out;
  }
}
