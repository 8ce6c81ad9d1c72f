/**
 * What the views store and under which keys. Values are JSON (bigint times as decimal
 * strings) except trace bodies, kept in their topic encoding.
 *
 *   tr  tenant trace               → TraceSummary of the latest revision
 *   tt  tenant closedAt trace      → TraceFacets (traces by time; '' in entries written before)
 *   tx  tenant facet value closedAt trace
 *                                  → '' (listed traces by facet value, trace-index.ts: the
 *                                    by-time entry's facets; closedAt and trace as in tt;
 *                                    facet 'score': the failure score in thousandths)
 *   tc  tenant facet value         → count of the value's tx entries (u64; none for 'score')
 *   ix                             → version of the tx/tc layout and failure model, once complete
 *   tb  tenant trace               → the latest encoded TraceRecord (read only: written before tbr)
 *   tbr tenant trace revision      → the encoded TraceRecord (spans included) of each revision
 *   tf  tenant trace               → TraceFacets of the latest revision (what the list filters on)
 *   mr  tenant trace revision      → TraceMetrics of each revision
 *   rv  tenant trace               → latest revision seen on any topic
 *   d   tenant detectionId         → Detection
 *   dt  tenant trace detectionId   → '' (detections by trace)
 *   dd  tenant detectedAt id       → '' (detections by time)
 *   m   tenant trace               → TraceMetrics
 *   ru  tenant granularity groupBy bucketStart group
 *                                  → RollupCell (rollups.ts); bucketStart (u64 ms) before group,
 *                                    so one tenant × granularity × groupBy scans in time order
 *   rc  tenant trace               → id of the metrics record the rollups count for the trace
 *   fb  tenant detectionId fbId    → FeedbackRecord
 *   tn  tenant                     → TenantView
 *   k   keyId                      → ApiKeyView
 *   kt  tenant keyId               → '' (a tenant's keys)
 *   ss  tenant session             → SessionRecord (the session registry)
 *   au  tenant seq                 → AuditRecord (the tenant's audit chain, in topic order)
 *   bl  tenant service agent       → BaselineRecord (latest)
 *   cb  tenant detector            → CalibrationRecord (latest)
 *   st  tenant                     → TenantSettings
 *   pos topic partition            → next offset (u64)
 */
import { parseTupleKey, prefixEnd, tupleKey } from '../log/store-keys.js';
import type { TraceRecord } from '../model/outputs.js';

type TreeFields = 'truncated' | 'orphanSpanIds' | 'cycleSpanIds';

/** A trace's latest revision without its spans; times as decimal strings for JSON. */
export type TraceSummary = Omit<TraceRecord, 'spans' | 'startTimeUnixNano' | 'endTimeUnixNano' | TreeFields> &
  /** Absent in summaries stored before traces carried them. */
  Partial<Pick<TraceRecord, TreeFields>> & {
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly spanCount: number;
};

/** The summary the views keep of a trace record (also built for an earlier revision's detail). */
export function traceSummaryOf(trace: TraceRecord): TraceSummary {
  const { spans, ...rest } = trace;
  return { ...rest, startTimeUnixNano: trace.startTimeUnixNano.toString(), endTimeUnixNano: trace.endTimeUnixNano.toString(), spanCount: spans.length };
}

export interface TenantView {
  readonly tenantId: string;
  readonly name: string;
  readonly createdAtMs: number;
}

export interface ApiKeyView {
  readonly keyId: string;
  readonly tenantId: string;
  readonly secretHash: string;
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
}

export const VIEW_KEYS = {
  trace: (tenant: string, trace: string) => tupleKey('tr', tenant, trace),
  traceByTime: (tenant: string, closedAtMs: number, trace: string) => tupleKey('tt', tenant, closedAtMs, trace),
  traceByTimePrefix: (tenant: string) => tupleKey('tt', tenant),
  parseTraceByTime: (key: Buffer) => parseTupleKey(key, 'tt', ['s', 'n', 's'])[2] as string,
  /** Every tenant's by-time entries (the index build reads them all). */
  traceByTimeAll: tupleKey('tt'),
  parseTraceByTimeKey: (key: Buffer) => {
    const [tenantId, closedAtMs, traceId] = parseTupleKey(key, 'tt', ['s', 'n', 's']);
    return { tenantId: tenantId as string, closedAtMs: closedAtMs as number, traceId: traceId as string };
  },
  traceIndex: (tenant: string, facet: string, value: string, closedAtMs: number, trace: string) => tupleKey('tx', tenant, facet, value, closedAtMs, trace),
  /** Ends where traceByTimePrefix ends, so both are followed by the same closedAt and trace parts. */
  traceIndexPrefix: (tenant: string, facet: string, value: string) => tupleKey('tx', tenant, facet, value),
  /** Traces by failure score: the facet's entries, whatever their value. */
  traceScoreOrderPrefix: (tenant: string) => tupleKey('tx', tenant, 'score'),
  /** Every tenant's index entries (a rebuild reads them all). */
  traceIndexAll: tupleKey('tx'),
  parseTraceIndexKey: (key: Buffer) => {
    const [tenantId, facet, value, closedAtMs, traceId] = parseTupleKey(key, 'tx', ['s', 's', 's', 'n', 's']);
    return { tenantId: tenantId as string, facet: facet as string, value: value as string, closedAtMs: closedAtMs as number, traceId: traceId as string };
  },
  traceIndexCount: (tenant: string, facet: string, value: string) => tupleKey('tc', tenant, facet, value),
  traceIndexVersion: tupleKey('ix'),
  traceBody: (tenant: string, trace: string) => tupleKey('tb', tenant, trace),
  traceBodyRevision: (tenant: string, trace: string, revision: number) => tupleKey('tbr', tenant, trace, revision),
  traceFacets: (tenant: string, trace: string) => tupleKey('tf', tenant, trace),
  metricsRevision: (tenant: string, trace: string, revision: number) => tupleKey('mr', tenant, trace, revision),
  revision: (tenant: string, trace: string) => tupleKey('rv', tenant, trace),
  detection: (tenant: string, id: string) => tupleKey('d', tenant, id),
  detectionByTrace: (tenant: string, trace: string, id: string) => tupleKey('dt', tenant, trace, id),
  detectionByTracePrefix: (tenant: string, trace: string) => tupleKey('dt', tenant, trace),
  parseDetectionByTrace: (key: Buffer) => parseTupleKey(key, 'dt', ['s', 's', 's'])[2] as string,
  detectionByTime: (tenant: string, atMs: number, id: string) => tupleKey('dd', tenant, atMs, id),
  detectionByTimePrefix: (tenant: string) => tupleKey('dd', tenant),
  parseDetectionByTime: (key: Buffer) => parseTupleKey(key, 'dd', ['s', 'n', 's'])[2] as string,
  metrics: (tenant: string, trace: string) => tupleKey('m', tenant, trace),
  rollup: (tenant: string, granularity: string, groupBy: string, bucketStartMs: number, group: string) =>
    tupleKey('ru', tenant, granularity, groupBy, bucketStartMs, group),
  /** Where the cells of buckets starting at `bucketStartMs` begin: a range bound for time scans. */
  rollupAt: (tenant: string, granularity: string, groupBy: string, bucketStartMs: number) => tupleKey('ru', tenant, granularity, groupBy, bucketStartMs),
  rollupPrefix: (tenant: string, granularity: string, groupBy: string) => tupleKey('ru', tenant, granularity, groupBy),
  parseRollup: (key: Buffer) => {
    const [, , , bucketStartMs, group] = parseTupleKey(key, 'ru', ['s', 's', 's', 'n', 's']);
    return { bucketStartMs: bucketStartMs as number, group: group as string };
  },
  rollupCounted: (tenant: string, trace: string) => tupleKey('rc', tenant, trace),
  feedback: (tenant: string, detectionId: string, id: string) => tupleKey('fb', tenant, detectionId, id),
  feedbackPrefix: (tenant: string, detectionId: string) => tupleKey('fb', tenant, detectionId),
  tenant: (tenant: string) => tupleKey('tn', tenant),
  apiKey: (keyId: string) => tupleKey('k', keyId),
  apiKeyOfTenant: (tenant: string, keyId: string) => tupleKey('kt', tenant, keyId),
  apiKeysOfTenantPrefix: (tenant: string) => tupleKey('kt', tenant),
  parseApiKeyOfTenant: (key: Buffer) => parseTupleKey(key, 'kt', ['s', 's'])[1] as string,
  session: (tenant: string, session: string) => tupleKey('ss', tenant, session),
  audit: (tenant: string, seq: number) => tupleKey('au', tenant, seq),
  auditPrefix: (tenant: string) => tupleKey('au', tenant),
  baseline: (tenant: string, service: string, agent: string) => tupleKey('bl', tenant, service, agent),
  baselinePrefix: (tenant: string) => tupleKey('bl', tenant),
  calibration: (tenant: string, detector: string) => tupleKey('cb', tenant, detector),
  calibrationPrefix: (tenant: string) => tupleKey('cb', tenant),
  settings: (tenant: string) => tupleKey('st', tenant),
  // 'pos': the runtime's position of each input partition (src/runtime/processing-runtime.ts).
  prefixRange: (prefix: Buffer) => ({ gte: prefix, lt: prefixEnd(prefix) }),
} as const;
