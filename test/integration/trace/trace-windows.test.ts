/**
 * The trace stage's windows on a real embedded log (RocksDB): records are appended with
 * explicit timestamps, and the stage's wall clock is pinned at 0, so every window here
 * closes by stream time alone.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Detector } from '../../../src/detectors/detector.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { spanRecord } from '../../../src/ingest/append-raw.js';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import type { LogRecord } from '../../../src/log/port.js';
import { partitionFor } from '../../../src/log/partitioner.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';
import type { TraceRecord } from '../../../src/model/outputs.js';
import { HEADER, traceKey } from '../../../src/model/record-keys.js';
import type { CanonicalSpan } from '../../../src/model/span.js';
import { TRACE_STAGE_GROUP, TraceStage, type TraceStageOptions } from '../../../src/stages/trace/trace-stage.js';
import { expiryKey, expiryRange, spanKey, traceRef, windowKey } from '../../../src/stages/trace/window-keys.js';
import { canonicalSpan } from '../../unit/semantic/fixtures.js';
import { consumeUntil, tempDir } from '../log/helpers.js';

const TENANT = 'acme';
const T0 = 1_000_000_000_000; // 2001: a replay of old records
const GAP = 30_000;
const SETTLE = 5000;
const HORIZON = 3_600_000;

let dir: Awaited<ReturnType<typeof tempDir>>;
let log: EmbeddedLog;
let codecs: Codecs;
let stage: TraceStage | null = null;
let partitions: number;
let groups = 0;

beforeEach(async () => {
  dir = await tempDir();
  log = await createEmbeddedLog({ dataDir: dir.path });
  const declarations = await loadTopicDeclarations();
  await log.ensureTopics(declarations);
  partitions = declarations.find((d) => d.name === TOPICS.raw)!.partitions;
  codecs = await createCodecs(new LocalSchemaIds());
});

afterEach(async () => {
  await stage?.stop();
  stage = null;
  await log.close();
  await dir.remove();
});

function startStage(options: Partial<TraceStageOptions> = {}): TraceStage {
  stage = new TraceStage({
    log,
    codecs,
    detectors: createDetectors(),
    pipelineVersion: 'test',
    inactivityGapMs: GAP,
    rootSettleMs: SETTLE,
    latenessHorizonMs: HORIZON,
    tombstoneRetentionMs: 7 * 86_400_000,
    logger: pino({ level: 'silent' }),
    // The wall clock never moves: only stream time closes windows.
    now: () => 0,
    ...options,
  });
  return stage;
}

function span(traceId: string, spanId: string, parentSpanId: string, atMs: number, name = spanId): CanonicalSpan {
  return { ...canonicalSpan({ tenantId: TENANT, traceId, spanId, parentSpanId, name }), receivedAtMs: atMs };
}

async function send(...spans: CanonicalSpan[]): Promise<void> {
  await log.append(TOPICS.raw, await Promise.all(spans.map((s) => spanRecord(codecs, s))));
}

/** A trace id on the same raw partition as `traceId`: its spans move that partition's stream time. */
function tickerFor(traceId: string): string {
  const p = partitionFor(traceKey(TENANT, traceId), partitions);
  for (let i = 0; ; i++) if (partitionFor(traceKey(TENANT, `tick-${i}`), partitions) === p) return `tick-${i}`;
}

/** Moves the stream time of `traceId`'s partition to `atMs`. */
async function tick(traceId: string, atMs: number): Promise<void> {
  await send(span(tickerFor(traceId), `tick-${atMs}`, 'tick-parent', atMs));
}

/** Waits until `count` revisions of `traceId` are on tracefold.traces.v1; returns them in order. */
async function traces(traceId: string, count: number): Promise<TraceRecord[]> {
  const key = traceKey(TENANT, traceId).toString();
  const matching = (records: readonly LogRecord[]) => records.filter((r) => r.key?.toString() === key);
  const records = await consumeUntil(log, `reader-${groups++}`, [TOPICS.traces], (rs) => matching(rs).length >= count);
  return Promise.all(matching(records).map((r) => codecs.trace.decode(r.value!)));
}

describe('trace windows', () => {
  it('close when the root span has settled, before the inactivity gap', async () => {
    await startStage().start();
    await send(span('t-root', 'child', 'root', T0), span('t-root', 'root', '', T0 + 100));
    await tick('t-root', T0 + 100 + SETTLE);
    const [trace] = await traces('t-root', 1);
    expect(trace).toMatchObject({ revision: 1, closeReason: 'root_settled', closedAtMs: T0 + 100 + SETTLE, truncated: false });
    expect(trace!.spans.map((s) => s.spanId).sort()).toEqual(['child', 'root']);
  });

  it('without a root, wait for the inactivity gap', async () => {
    await startStage().start();
    await send(span('t-gap', 'a', 'missing', T0));
    await tick('t-gap', T0 + SETTLE + 1);
    await tick('t-gap', T0 + GAP);
    const [trace] = await traces('t-gap', 1);
    expect(trace).toMatchObject({ closeReason: 'inactivity', closedAtMs: T0 + GAP, orphanSpanIds: ['a'] });
  });

  it('run detectors isolated: one that throws loses only its own findings, and the trace closes', async () => {
    const failures: string[] = [];
    const failing = { id: 'explodes', version: 1, detect: () => { throw new Error('detector bug'); } };
    const running = startStage({
      detectors: [...createDetectors(), failing],
      detectorRuns: { observe: (id, _seconds, error) => void (error !== undefined && failures.push(id)) },
    });
    await running.start();
    await send(span('t-isolated', 'root', '', T0));
    await tick('t-isolated', T0 + SETTLE);
    const [trace] = await traces('t-isolated', 1);
    expect(trace).toMatchObject({ revision: 1, closeReason: 'root_settled' });
    expect(failures).toContain('explodes');
    expect(running.stats.windowsFailed).toBe(0);
  });

  it('send a trace whose outputs cannot be encoded to the dead-letter topic and keep going with the others', async () => {
    const unencodable = {
      id: 'unencodable',
      version: 1,
      detect: (trace: { traceId: string; spans: readonly { spanId: string }[] }) =>
        trace.traceId !== 't-poison'
          ? []
          : [
              {
                detectionType: 'loop',
                title: 'x',
                description: 'x',
                confidence: 0.9,
                severity: 'not-a-severity',
                evidence: [],
                affectedSpanIds: [trace.spans[0]!.spanId],
                agent: null,
                suggestedFix: 'x',
                fingerprint: 'x',
              },
            ],
    } as unknown as Detector;
    const running = startStage({ detectors: [...createDetectors(), unencodable] });
    await running.start();
    await send(span('t-poison', 'root', '', T0), span('t-healthy', 'root', '', T0));
    await tick('t-poison', T0 + SETTLE);
    await tick('t-healthy', T0 + SETTLE);
    const [healthy] = await traces('t-healthy', 1);
    expect(healthy).toMatchObject({ revision: 1, closeReason: 'root_settled' });
    const key = traceKey(TENANT, 't-poison').toString();
    const dead = await consumeUntil(log, `reader-${groups++}`, [TOPICS.deadLetter], (rs) => rs.some((r) => r.key?.toString() === key));
    const record = dead.find((r) => r.key?.toString() === key)!;
    expect(record.headers[HEADER.reason]).toMatch(/^analysis: /);
    expect(record.headers).toMatchObject({ [HEADER.stage]: 'trace', [HEADER.sourceTopic]: TOPICS.raw, [HEADER.sourceOffset]: '-1' });
    expect(running.stats.windowsFailed).toBe(1);
    expect(running.poison.counts.of('analysis')).toBe(1);
  });

  it('close at the size cap, truncated, and start the next revision with what follows', async () => {
    await startStage({ windowMaxSpans: 3 }).start();
    await send(span('t-cap', 's1', 'p', T0), span('t-cap', 's2', 'p', T0 + 1), span('t-cap', 's3', 'p', T0 + 2), span('t-cap', 's4', 'p', T0 + 3));
    await tick('t-cap', T0 + 3 + GAP);
    const [first, second] = await traces('t-cap', 2);
    expect(first).toMatchObject({ revision: 1, closeReason: 'size_cap', truncated: true, closedAtMs: T0 + 2 });
    expect(first!.spans.map((s) => s.spanId).sort()).toEqual(['s1', 's2', 's3']);
    expect(second).toMatchObject({ revision: 2, closeReason: 'inactivity', truncated: false });
    expect(second!.spans.map((s) => s.spanId)).toEqual(['s4']);
  });

  it('close at the byte cap too', async () => {
    await startStage({ windowMaxBytes: 1024 }).start();
    const big = (id: string, at: number) => span('t-bytes', id, 'p', at, 'x'.repeat(600));
    await send(big('b1', T0), big('b2', T0 + 1));
    const [trace] = await traces('t-bytes', 1);
    expect(trace).toMatchObject({ closeReason: 'size_cap', truncated: true });
  });

  it('assemble a re-sent span once, a changed re-send replacing it', async () => {
    const running = startStage();
    await running.start();
    // b arrives twice with the same content (only its arrival time differs); a is changed.
    await send(span('t-dup', 'a', 'root', T0, 'first'), span('t-dup', 'b', 'root', T0 + 1), span('t-dup', 'b', 'root', T0 + 2));
    await send(span('t-dup', 'a', 'root', T0 + 3, 'changed'));
    await tick('t-dup', T0 + 3 + GAP);
    const [trace] = await traces('t-dup', 1);
    expect(trace!.spans.map((s) => [s.spanId, s.name]).sort()).toEqual([
      ['a', 'changed'],
      ['b', 'b'],
    ]);
    expect(running.stats.duplicateSpans).toBe(1);
    expect(running.stats.replacedSpans).toBe(1);
  });

  it('leave a closed trace as it is when its spans are re-sent unchanged, and reopen it when one changed', async () => {
    const running = startStage();
    await running.start();
    const run = [span('t-resend', 'root', '', T0), span('t-resend', 'c1', 'root', T0 + 1), span('t-resend', 'c2', 'root', T0 + 2)];
    await send(...run);
    await tick('t-resend', T0 + 2 + GAP);
    await traces('t-resend', 1);
    // The same request again, later (a client whose answer was lost), within the horizon.
    const later = T0 + 3 * GAP;
    await send(...run.map((s, i) => ({ ...s, receivedAtMs: later + i })));
    await tick('t-resend', later + 3 * GAP);
    await expect.poll(() => running.stats.duplicateSpans).toBe(3);
    // One changed span does reopen it, as revision 2 holding every span once: had the
    // re-send reopened the trace, its unchanged revision would be the second record here.
    const changedAt = later + 4 * GAP;
    await send({ ...span('t-resend', 'c2', 'root', changedAt), name: 'c2 retried' });
    await tick('t-resend', changedAt + GAP);
    const [first, second] = await traces('t-resend', 2);
    expect(first).toMatchObject({ revision: 1 });
    expect(second).toMatchObject({ revision: 2 });
    expect(second!.spans.map((s) => [s.spanId, s.name]).sort()).toEqual([
      ['c1', 'c1'],
      ['c2', 'c2 retried'],
      ['root', 'root'],
    ]);
    expect(running.stats.windowsClosed).toBeGreaterThanOrEqual(2);
  });

  it('reopen a closed trace for a late span as revision n+1; past the horizon dead-letter and count it', async () => {
    const running = startStage();
    await running.start();
    await send(span('t-late', 'a', 'p', T0));
    await tick('t-late', T0 + GAP);
    await send(span('t-late', 'late', 'p', T0 + GAP + 10));
    await tick('t-late', T0 + 2 * GAP + 10);
    const [first, second] = await traces('t-late', 2);
    expect(first).toMatchObject({ revision: 1 });
    expect(second).toMatchObject({ revision: 2 });
    expect(second!.spans.map((s) => s.spanId).sort()).toEqual(['a', 'late']);

    await send(span('t-late', 'too-late', 'p', T0 + 2 * GAP + 10 + HORIZON + 1));
    const dead = await consumeUntil(log, 'dead-reader', [TOPICS.deadLetter], (rs) => rs.length >= 1);
    // Its stream time closed the ticker's window, and a dead-lettered span opens none. The
    // count is the stage's, set just after the unit that wrote the dead letter committed.
    await expect.poll(() => running.openWindows).toBe(0);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers[HEADER.spanId]).toBe('too-late');
    expect(dead[0]!.headers[HEADER.reason]).toMatch(/^late: /);
    expect(running.stats.lateSpansDeadLettered).toBe(1);
  });

  it('replay a backlog of old records by stream time without waiting for the wall clock', async () => {
    const count = 50;
    const backlog: CanonicalSpan[] = [];
    for (let i = 0; i < count; i++) {
      const at = T0 + i * (GAP + 1);
      backlog.push(span(`replay-${i}`, 'child', 'root', at), span(`replay-${i}`, 'root', '', at + 1));
    }
    await send(...backlog);
    const started = Date.now();
    const running = startStage();
    await running.start();
    // Every partition's stream time passes the last trace's deadlines.
    const end = T0 + count * (GAP + 1) + GAP;
    for (let p = 0; p < partitions; p++) {
      let i = 0;
      while (partitionFor(traceKey(TENANT, `end-${i}`), partitions) !== p) i++;
      await send(span(`end-${i}`, 'x', 'p', end));
    }
    await expect.poll(() => running.stats.windowsClosed, { timeout: 10_000, interval: 20 }).toBe(count);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [first] = await traces('replay-0', 1);
    expect(first).toMatchObject({ closeReason: 'root_settled', closedAtMs: T0 + 1 + SETTLE });
  });

  it('rebuild its open windows from the store on restart, reading metas an earlier version stored as JSON and dropping its expiry index', async () => {
    const first = startStage();
    await first.start();
    await send(span('t-restart', 'a', 'missing', T0));
    await expect.poll(() => first.stats.spansAssembled).toBe(1);
    await first.stop();
    stage = null;

    // A window as an earlier version left it: JSON meta, its span, an expiry index entry.
    const p = partitionFor(traceKey(TENANT, 't-restart'), partitions);
    let legacyId = '';
    for (let i = 0; legacyId === ''; i++) if (partitionFor(traceKey(TENANT, `legacy-${i}`), partitions) === p) legacyId = `legacy-${i}`;
    const ref = traceRef(TENANT, legacyId);
    const meta = { tenantId: TENANT, traceId: legacyId, revision: 1, state: 'open', spanCount: 1, byteCount: 1, lastArrivalMs: T0, closedAtMs: 0, deadlineMs: T0 + GAP };
    const store = await log.openStore(TRACE_STAGE_GROUP, 'windows');
    const unit = log.beginUnit(TRACE_STAGE_GROUP, { partition: p });
    unit.write(store, [
      { type: 'put', key: windowKey(p, ref), value: Buffer.from(JSON.stringify(meta)) },
      { type: 'put', key: spanKey(p, ref, 'old'), value: (await spanRecord(codecs, span(legacyId, 'old', 'missing', T0))).value! },
      { type: 'put', key: expiryKey(p, T0 + GAP, ref), value: Buffer.alloc(0) },
    ]);
    await unit.commit();

    await startStage().start();
    await tick('t-restart', T0 + GAP);
    const [restarted] = await traces('t-restart', 1);
    const [legacy] = await traces(legacyId, 1);
    expect(restarted).toMatchObject({ revision: 1, closeReason: 'inactivity', closedAtMs: T0 + GAP });
    expect(legacy).toMatchObject({ revision: 1, closeReason: 'inactivity', closedAtMs: T0 + GAP });
    expect(legacy!.spans.map((s) => s.spanId)).toEqual(['old']);
    const expiryEntries = async () => {
      let n = 0;
      for await (const _entry of store.range(expiryRange(p, Number.MAX_SAFE_INTEGER - 1))) n++;
      return n;
    };
    await expect.poll(expiryEntries).toBe(0);
  });
});
