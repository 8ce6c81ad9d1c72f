/**
 * Poison records on a real embedded log (RocksDB), written straight to the topics as a
 * producer that bypasses ingest would: every consumer dead-letters them once, with their
 * source and reason, processes every valid record around them, and stays up across a
 * restart of the log and the stages without dead-lettering anything twice.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { spanRecord } from '../../../src/ingest/append-raw.js';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import type { LogRecord } from '../../../src/log/port.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';
import { HEADER, traceKey } from '../../../src/model/record-keys.js';
import type { CanonicalSpan } from '../../../src/model/span.js';
import { TenantStage } from '../../../src/stages/tenant/tenant-stage.js';
import { TraceStage } from '../../../src/stages/trace/trace-stage.js';
import { VIEW_KEYS } from '../../../src/views/view-model.js';
import { Views } from '../../../src/views/views.js';
import { canonicalSpan } from '../../unit/semantic/fixtures.js';
import { consumeUntil, tempDir } from '../log/helpers.js';

const TENANT = 'acme';
const T0 = 1_000_000_000_000;
const SETTLE = 5000;
const HUGE = 'S'.repeat(70_000);

let dir: Awaited<ReturnType<typeof tempDir>>;
let log: EmbeddedLog;
let codecs: Codecs;
const running: { stop(): Promise<void> }[] = [];
let readers = 0;
const logger = pino({ level: 'silent' });

beforeEach(async () => {
  dir = await tempDir();
  log = await createEmbeddedLog({ dataDir: dir.path });
  await log.ensureTopics(await loadTopicDeclarations());
  codecs = await createCodecs(new LocalSchemaIds());
});

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
  await log.close();
  await dir.remove();
});

async function startPipeline() {
  const trace = new TraceStage({
    log,
    codecs,
    detectors: createDetectors(),
    pipelineVersion: 'test',
    inactivityGapMs: 30_000,
    rootSettleMs: SETTLE,
    latenessHorizonMs: 3_600_000,
    tombstoneRetentionMs: 7 * 86_400_000,
    logger,
    now: () => 0,
  });
  const tenant = new TenantStage({ log, codecs, pipelineVersion: 'test', logger });
  const views = new Views({ log, codecs, group: 'tracefold-views', logger });
  for (const stage of [trace, tenant, views]) {
    await stage.start();
    running.push(stage);
  }
  return { trace, tenant, views };
}

async function restart(): Promise<Awaited<ReturnType<typeof startPipeline>>> {
  for (const r of running.splice(0).reverse()) await r.stop();
  await log.close();
  log = await createEmbeddedLog({ dataDir: dir.path });
  return startPipeline();
}

function rootSpan(traceId: string, atMs: number, serviceName = 'svc'): CanonicalSpan {
  return { ...canonicalSpan({ tenantId: TENANT, traceId, spanId: 'root', resource: { 'service.name': serviceName } }), receivedAtMs: atMs };
}

async function deadLetters(count: number): Promise<LogRecord[]> {
  return consumeUntil(log, `dead-reader-${readers++}`, [TOPICS.deadLetter], (rs) => rs.length >= count);
}

async function deadLetterCount(): Promise<number> {
  return (await log.endOffsets(TOPICS.deadLetter)).reduce((sum, end) => sum + end, 0);
}

const garbage = { key: traceKey(TENANT, 't-garbage'), value: Buffer.from('not avro at all'), headers: { [HEADER.type]: 'span', [HEADER.spanId]: 'g' }, timestamp: T0 };
const badKey = { key: Buffer.from('no-slash-here'), value: Buffer.from('x'), headers: { [HEADER.type]: 'span', [HEADER.spanId]: 'k' }, timestamp: T0 };

describe('poison records', () => {
  it('are dead-lettered once by each consumer, with their source and reason; valid records around them are processed; a restart is clean', async () => {
    let stages = await startPipeline();
    await log.append(TOPICS.raw, [garbage, await spanRecord(codecs, rootSpan('t-ok-1', T0)), badKey]);
    await log.append(TOPICS.raw, [await spanRecord(codecs, rootSpan('t-huge', T0, HUGE)), await spanRecord(codecs, rootSpan('t-ok-2', T0))]);
    await log.append(TOPICS.tenantEvents, [{ key: Buffer.from(TENANT), value: Buffer.from('garbage'), timestamp: T0 }]);
    // Move every raw partition's stream time past the settle time, so all three traces close.
    const late = [];
    for (let i = 0; i < 24; i++) late.push(await spanRecord(codecs, rootSpan(`tick-${i}`, T0 + SETTLE + 1)));
    await log.append(TOPICS.raw, late);

    for (const id of ['t-ok-1', 't-ok-2']) {
      await expect.poll(() => stages.views.readStore.get(VIEW_KEYS.trace(TENANT, id)), { timeout: 20_000 }).not.toBeNull();
    }
    const bySource = (records: readonly LogRecord[]) =>
      new Map(records.map((r) => [`${r.headers[HEADER.stage]} ${r.headers[HEADER.sourceTopic]} ${r.headers[HEADER.reason]?.split(':')[0]}`, r]));
    // trace: the garbage value, the malformed key and the span whose service name is over
    // its key-part limit (so that neither the tenant stage nor the views ever key by it);
    // tenant: the undecodable event.
    const dead = await deadLetters(4);
    const found = bySource(dead);
    const raw = found.get(`trace ${TOPICS.raw} decode`)!;
    expect(raw.value).toEqual(garbage.value);
    expect(raw.key).toEqual(garbage.key);
    expect(raw.headers).toMatchObject({ [HEADER.spanId]: 'g', [HEADER.sourcePartition]: expect.stringMatching(/^\d+$/), [HEADER.sourceOffset]: expect.stringMatching(/^\d+$/) });
    const keyLetters = dead.filter((r) => r.headers[HEADER.stage] === 'trace' && r.headers[HEADER.reason]?.startsWith('key'));
    expect(keyLetters.map((r) => r.key)).toEqual(expect.arrayContaining([badKey.key, traceKey(TENANT, 't-huge')]));
    expect(keyLetters.find((r) => r.key?.equals(traceKey(TENANT, 't-huge')))?.headers[HEADER.reason]).toMatch(/service\.name.*70000 characters/);
    expect(found.get(`tenant ${TOPICS.tenantEvents} decode`)?.value).toEqual(Buffer.from('garbage'));
    expect(stages.trace.poison.counts.of('decode')).toBe(1);
    expect(stages.trace.poison.counts.of('key')).toBe(2);
    expect(stages.tenant.poison.counts.of('decode')).toBe(1);
    for (const stage of [stages.trace, stages.tenant, stages.views]) expect(stage.health.status).toEqual({ state: 'running' });
    const before = await deadLetterCount();
    expect(before).toBe(dead.length);

    stages = await restart();
    // Something new after the restart: once it is in the views, everything before was re-read.
    await log.append(TOPICS.raw, [await spanRecord(codecs, rootSpan('t-after', T0 + SETTLE + 2))]);
    await log.append(TOPICS.raw, late.map((r) => ({ ...r, timestamp: T0 + 2 * SETTLE + 3 })));
    await expect.poll(() => stages.views.readStore.get(VIEW_KEYS.trace(TENANT, 't-after')), { timeout: 20_000 }).not.toBeNull();
    expect(await deadLetterCount()).toBe(before);
    for (const stage of [stages.trace, stages.tenant, stages.views]) expect(stage.health.status).toEqual({ state: 'running' });
  });
});
