/**
 * The stages are processors: they run on the in-memory log (no RocksDB, no broker) with
 * the very runtime that runs them in production, deterministically.
 */
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src/audit/chain.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { spanRecord } from '../../../src/ingest/append-raw.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../../../src/log/serde/index.js';
import { TOPICS } from '../../../src/log/topics.js';
import type { CanonicalSpan } from '../../../src/model/span.js';
import { MemoryLog } from '../../../src/runtime/memory-log.js';
import { tenantStageEvent, tenantStageRecord } from '../../../src/stages/tenant/events.js';
import { TenantStage } from '../../../src/stages/tenant/tenant-stage.js';
import { TraceStage } from '../../../src/stages/trace/trace-stage.js';
import { canonicalSpan } from '../semantic/fixtures.js';

const logger = pino({ level: 'silent' });
const T0 = 1_000_000_000_000;
let codecs: Codecs;

beforeAll(async () => {
  codecs = await createCodecs(new LocalSchemaIds());
});

function traceStage(log: MemoryLog): TraceStage {
  return new TraceStage({
    log,
    codecs,
    detectors: createDetectors(),
    pipelineVersion: 'test',
    inactivityGapMs: 30_000,
    rootSettleMs: 5000,
    latenessHorizonMs: 3_600_000,
    tombstoneRetentionMs: 86_400_000,
    logger,
    now: () => 0,
  });
}

const span = (traceId: string, spanId: string, parentSpanId: string, atMs: number): CanonicalSpan => ({
  ...canonicalSpan({ tenantId: 'acme', traceId, spanId, parentSpanId, name: spanId }),
  receivedAtMs: atMs,
});

describe('stages on the in-memory log', () => {
  it('the trace stage closes a settled window into one trace record, and a restarted stage does not close it again', async () => {
    const log = new MemoryLog();
    const first = traceStage(log);
    await first.start();
    const spans = [span('t1', 'root', '', T0), span('t1', 'child', 'root', T0 + 10), span('t2', 'tick', '', T0 + 6000)];
    await log.append(TOPICS.raw, await Promise.all(spans.map((s) => spanRecord(codecs, s))));
    await log.drain();
    const traces = await Promise.all(log.records(TOPICS.traces).map((r) => codecs.trace.decode(r.value!)));
    expect(traces.map((t) => [t.traceId, t.closeReason, t.spans.length])).toEqual([['t1', 'root_settled', 2]]);
    expect(first.openWindows).toBe(1);
    await first.stop();

    const second = traceStage(log);
    await second.start();
    await log.append(TOPICS.raw, [await spanRecord(codecs, span('t3', 'later', '', T0 + 12_000))]);
    await log.drain();
    const closed = await Promise.all(log.records(TOPICS.traces).map((r) => codecs.trace.decode(r.value!)));
    // t2 (rebuilt from the store on assignment) closes now; t1 is not emitted twice.
    expect(closed.map((t) => t.traceId)).toEqual(['t1', 't2']);
    expect(await second.lag()).toBe(0);
  });

  it('the tenant stage chains every event of a tenant exactly once across a restart', async () => {
    const log = new MemoryLog();
    const events = (from: number) =>
      Promise.all([0, 1, 2].map((i) => tenantStageRecord(codecs, tenantStageEvent('acme', 'api_key_created', `k${from + i}`, T0 + from + i, { keyId: `k${from + i}` }))));
    const first = new TenantStage({ log, codecs, pipelineVersion: 'test', logger });
    await first.start();
    await log.append(TOPICS.tenantEvents, await events(0));
    await log.drain();
    await first.stop();
    const second = new TenantStage({ log, codecs, pipelineVersion: 'test', logger });
    await second.start();
    await log.append(TOPICS.tenantEvents, await events(3));
    await log.drain();

    const audit = await Promise.all(log.records(TOPICS.audit).map((r) => codecs.audit.decode(r.value!)));
    expect(audit.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(verifyAuditChain(audit)).toMatchObject({ ok: true });
    expect(second.stats.auditRecords).toBe(3);
  });
});
