import { auditRecordFor, type AuditEventInput } from '../../../src/audit/chain.js';
import type { AuditRecord } from '../../../src/model/tenant-records.js';

export const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
export const MINUTE = 60_000;

/** A tenant's history: one event of every kind, a minute apart from T0. */
export function sampleEvents(tenantId = 'acme'): AuditEventInput[] {
  const at = (i: number) => T0 + i * MINUTE;
  return [
    { tenantId, type: 'tenant_created', subjectId: tenantId, atMs: at(0), payload: { name: 'Acme' } },
    { tenantId, type: 'api_key_created', subjectId: 'key-1', atMs: at(1), payload: { keyId: 'key-1' } },
    {
      tenantId,
      type: 'trace_closed',
      subjectId: 'trace-1',
      atMs: at(2),
      payload: { traceId: 'trace-1', spanDigest: 'ab'.repeat(32), models: ['gpt-4o', 'claude-sonnet'], tools: ['search'], agents: ['planner'] },
    },
    {
      tenantId,
      type: 'detection_emitted',
      subjectId: 'det-1',
      atMs: at(3),
      payload: { detectionId: 'det-1', traceId: 'trace-1', detectionType: 'loop', severity: 'high', confidence: 0.9 },
    },
    // No models or tools: the summary must cope.
    { tenantId, type: 'trace_closed', subjectId: 'trace-2', atMs: at(4), payload: { traceId: 'trace-2', models: ['gpt-4o'], agents: 'not-an-array' } },
    {
      tenantId,
      type: 'detection_emitted',
      subjectId: 'det-2',
      atMs: at(5),
      payload: { detectionId: 'det-2', traceId: 'trace-2', detectionType: 'retry_storm', severity: 'medium' },
    },
    {
      tenantId,
      type: 'feedback_recorded',
      subjectId: 'det-1',
      atMs: at(6),
      payload: { detectionId: 'det-1', feedbackType: 'true_positive', comment: 'confirmed: agent looped on search' },
    },
    { tenantId, type: 'feedback_recorded', subjectId: 'det-2', atMs: at(7), payload: { detectionId: 'det-2', feedbackType: 'false_positive' } },
    { tenantId, type: 'api_key_revoked', subjectId: 'key-1', atMs: at(8), payload: { keyId: 'key-1' } },
  ];
}

/** Builds a chain from genesis the way the tenant stage does: each record on the previous head. */
export function buildChain(events: readonly AuditEventInput[] = sampleEvents()): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const event of events) {
    const last = records.at(-1);
    records.push(auditRecordFor(last === undefined ? null : { seq: last.seq, hash: last.hash }, event));
  }
  return records;
}
