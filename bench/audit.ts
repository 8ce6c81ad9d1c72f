/**
 * The audit chain: appending a record (canonical JSON, payload digest, link hash), verifying
 * a chain, and building and verifying an export package offline. Baseline, in the same run:
 * one SHA-256 over the same canonical payloads, the least any digesting scheme must do.
 *
 * Environment: AUDIT_BENCH_RECORDS (records per chain, default 100,000).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../src/audit/canonical-json.js';
import { auditRecordFor, verifyAuditChain, type ChainHead } from '../src/audit/chain.js';
import { buildAuditExport, verifyAuditExport } from '../src/audit/export.js';
import type { AuditRecord } from '../src/model/tenant-records.js';
import { formatCount, formatRatio, medianMs, table } from './stats.js';

const RUNS = 5;

/** Payloads shaped like the trace stage's: a closed trace every third record, else a detection. */
function payloadOf(i: number): unknown {
  return i % 3 === 0
    ? { traceId: `trace-${i}`, revision: 1, digest: 'a'.repeat(64), models: ['gpt-4o', 'claude-sonnet-4'], tools: ['search', 'fetch'], agents: ['planner'], metrics: { durationMs: 1234.5, costUsd: 0.0123, spanCount: 12 } }
    : { id: `det-${i}`, traceId: `trace-${i - (i % 3)}`, detectorId: 'loop', detectionType: 'loop', severity: 'medium', confidence: 0.75, agent: 'planner', primary: true, subsumedBy: null };
}

function buildChain(n: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head: ChainHead | null = null;
  for (let i = 0; i < n; i++) {
    const record = auditRecordFor(head, { tenantId: 'bench', type: i % 3 === 0 ? 'trace_closed' : 'detection_emitted', subjectId: `s-${i}`, atMs: 1_700_000_000_000 + i, payload: payloadOf(i) });
    records.push(record);
    head = { seq: record.seq, hash: record.hash };
  }
  return records;
}

export async function runAuditBench(): Promise<void> {
  const n = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
  const payloads = Array.from({ length: n }, (_, i) => canonicalJson(payloadOf(i)));
  const baseline = await medianMs(RUNS, 1, () => {
    for (const p of payloads) createHash('sha256').update(p).digest('hex');
  });
  let records: AuditRecord[] = [];
  const append = await medianMs(RUNS, 1, () => (records = buildChain(n)));
  const verify = await medianMs(RUNS, 1, () => {
    if (!verifyAuditChain(records).ok) throw new Error('the chain does not verify');
  });
  const pkg = buildAuditExport('bench', records, { generatedAtMs: Date.now() });
  const text = JSON.stringify(pkg);
  const exportMs = await medianMs(3, 0, () => JSON.stringify(buildAuditExport('bench', records, { generatedAtMs: Date.now() })));
  const verifyExportMs = await medianMs(3, 0, () => {
    if (!verifyAuditExport(JSON.parse(text)).ok) throw new Error('the export does not verify');
  });
  const us = (ms: number) => ((ms * 1000) / n).toFixed(2);
  console.log(`audit chain of ${formatCount(n)} records, medians of ${RUNS} runs (export: 3)`);
  console.log(
    table([
      ['', 'µs/record', 'records/s', 'vs one SHA-256 of the payload'],
      ['baseline: SHA-256 of the canonical payload', us(baseline), formatCount((n * 1000) / baseline), '1.00x'],
      ['append (canonical JSON, digest, link hash)', us(append), formatCount((n * 1000) / append), formatRatio(append / baseline)],
      ['verify the chain', us(verify), formatCount((n * 1000) / verify), formatRatio(verify / baseline)],
      ['build the eu-ai-act export (to JSON text)', us(exportMs), formatCount((n * 1000) / exportMs), formatRatio(exportMs / baseline)],
      ['verify the export offline (from JSON text)', us(verifyExportMs), formatCount((n * 1000) / verifyExportMs), formatRatio(verifyExportMs / baseline)],
    ]),
  );
  console.log(`export package: ${(text.length / 1e6).toFixed(1)} MB for ${formatCount(n)} records`);
}
