/**
 * The tenant stage's input records (tracefold.tenant-events.v1), built where each fact
 * happens: the trace stage (trace closed, detection emitted) and the API (tenant and key
 * changes, feedback). Keyed by tenant, so a tenant's facts share one partition and its
 * audit chain has one order, the same on every replay.
 */
import { canonicalJson } from '../../audit/canonical-json.js';
import type { Codecs } from '../../log/serde/index.js';
import type { OutgoingRecord } from '../../log/port.js';
import type { Detection } from '../../model/outputs.js';
import type { AuditEventType, TenantStageEvent } from '../../model/tenant-records.js';

export function tenantStageEvent(tenantId: string, type: AuditEventType, subjectId: string, atMs: number, payload: unknown): TenantStageEvent {
  return { tenantId, type, subjectId, atMs, payloadJson: canonicalJson(payload) };
}

/** What the audit chain records of an emitted detection (the trace stage's and the tenant stage's own). */
export function detectionEmitted(d: Detection, atMs: number): TenantStageEvent {
  return tenantStageEvent(d.tenantId, 'detection_emitted', d.id, atMs, {
    id: d.id,
    traceId: d.traceId,
    revision: d.revision,
    detectorId: d.detectorId,
    detectorVersion: d.detectorVersion,
    detectionType: d.detectionType,
    severity: d.severity,
    confidence: d.confidence,
    agent: d.agent,
    primary: d.primary,
    subsumedBy: d.subsumedBy,
  });
}

export async function tenantStageRecord(codecs: Codecs, event: TenantStageEvent): Promise<OutgoingRecord> {
  return { key: Buffer.from(event.tenantId), value: await codecs.tenantStageEvent.encode(event), timestamp: event.atMs };
}

/** The tenant stage's own detector: trace metrics against the tenant's baselines. */
export const BASELINE_DETECTOR = { id: 'baseline', version: 2 } as const;
