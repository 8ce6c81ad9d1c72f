/**
 * The trace list's facet value indexes (src/views/trace-index.ts) on a real embedded log:
 * the views keep exactly one index entry per facet value of each listed trace as
 * revisions change a trace's service, status, agents and detections; an indexed filter
 * answers what a scan of every listed trace would, pages through keyset cursors exactly
 * once, the failure-score order holds one entry per trace at its current score, and a
 * store written before the index existed, or under other failure-model weights, gets it
 * built on start.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../../../src/log/serde/index.js';
import { parseTupleKey } from '../../../src/log/store-keys.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';
import type { Detection, Severity, TraceMetrics, TraceRecord } from '../../../src/model/outputs.js';
import { traceKey } from '../../../src/model/record-keys.js';
import { ViewQueries } from '../../../src/views/queries.js';
import { failureScoreOf, matches, type TraceFacets, type TraceFilter } from '../../../src/views/trace-facets.js';
import { scoreIndexValue } from '../../../src/views/trace-index.js';
import { VIEW_KEYS } from '../../../src/views/view-model.js';
import { Views } from '../../../src/views/views.js';
import { detection as detectionFixture, metrics as metricsFixture, traceRecord } from '../../unit/serde/fixtures.js';
import { tempDir } from '../log/helpers.js';

const TENANT = 'acme';
const T0 = 1_800_000_000_000;
const logger = pino({ level: 'silent' });

let dir: Awaited<ReturnType<typeof tempDir>>;
let log: EmbeddedLog;
let codecs: Codecs;
let views: Views;
let queries: ViewQueries;

beforeEach(async () => {
  dir = await tempDir();
  log = await createEmbeddedLog({ dataDir: dir.path });
  await log.ensureTopics(await loadTopicDeclarations());
  codecs = await createCodecs(new LocalSchemaIds());
  views = new Views({ log, codecs, group: 'tracefold-views', logger });
  await views.start();
  queries = new ViewQueries(views.readStore, codecs);
});

afterEach(async () => {
  await views.stop();
  await log.close();
  await dir.remove();
});

interface Shape {
  readonly traceId: string;
  readonly revision?: number;
  readonly closedAtMs: number;
  readonly service: string;
  readonly hasError?: boolean;
  readonly agents?: string[];
  readonly detections?: { type: string; severity: Severity }[];
}

const detectionId = (s: Shape, i: number) => `${s.traceId}-r${s.revision ?? 1}-d${i}`;

/** A trace's three records (trace, its detections, metrics), appended and read by the views one topic after the other. */
async function close(s: Shape): Promise<void> {
  const revision = s.revision ?? 1;
  const record = (value: Buffer) => ({ key: traceKey(TENANT, s.traceId), value, timestamp: s.closedAtMs });
  const detections: Detection[] = (s.detections ?? []).map((d, i) => ({
    ...detectionFixture,
    id: detectionId(s, i),
    tenantId: TENANT,
    traceId: s.traceId,
    revision,
    detectionType: d.type,
    severity: d.severity,
    live: false,
    primary: i === 0,
    subsumedBy: null,
    detectedAtMs: s.closedAtMs,
  }));
  const trace: TraceRecord = {
    ...traceRecord,
    tenantId: TENANT,
    traceId: s.traceId,
    revision,
    closedAtMs: s.closedAtMs,
    serviceName: s.service,
    rootName: `invoke_agent ${s.service}`,
    hasError: s.hasError ?? false,
    detectionIds: detections.map((d) => d.id),
  };
  const metrics: TraceMetrics = { ...metricsFixture, id: `${s.traceId}-m${revision}`, tenantId: TENANT, traceId: s.traceId, revision, serviceName: s.service, agents: s.agents ?? [], models: ['m1'] };
  await log.append(TOPICS.traces, [record(await codecs.trace.encode(trace))]);
  await views.catchUp([TOPICS.traces], 10_000);
  if (detections.length > 0) {
    await log.append(TOPICS.detections, await Promise.all(detections.map(async (d) => record(await codecs.detection.encode(d)))));
    await views.catchUp([TOPICS.detections], 10_000);
  }
  await log.append(TOPICS.metrics, [record(await codecs.metrics.encode(metrics))]);
  await views.catchUp([TOPICS.metrics], 10_000);
}

/** Every facet index entry of the tenant, as "facet=value trace" (the score order apart: scoreEntries). */
async function indexEntries(): Promise<string[]> {
  return (await allIndexEntries()).filter((e) => !e.startsWith('score='));
}

async function scoreEntries(): Promise<string[]> {
  return (await allIndexEntries()).filter((e) => e.startsWith('score='));
}

async function allIndexEntries(): Promise<string[]> {
  const out: string[] = [];
  for await (const [key] of views.readStore.range(VIEW_KEYS.prefixRange(VIEW_KEYS.traceIndexPrefix(TENANT, '', '').subarray(0, -4)))) {
    const [, facet, value, , trace] = parseTupleKey(key, 'tx', ['s', 's', 's', 'n', 's']);
    out.push(`${facet}=${value} ${trace}`);
  }
  return out.sort();
}

async function count(facet: string, value: string): Promise<number> {
  const raw = await views.readStore.get(VIEW_KEYS.traceIndexCount(TENANT, facet, value));
  return raw === null ? 0 : Number(raw.readBigUInt64BE(0));
}

/** Every page of a filtered list, in order. */
async function allPages(filter: TraceFilter, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await queries.listTraces(TENANT, limit, cursor, filter);
    ids.push(...page.items.map((f) => f.traceId));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null);
  return { ids, pages };
}

/** What the list must answer: the unfiltered list, filtered here. */
async function expected(filter: TraceFilter & { fromMs?: number; toMs?: number }): Promise<string[]> {
  const all: TraceFacets[] = [];
  let cursor: string | null = null;
  do {
    const page = await queries.listTraces(TENANT, 1000, cursor);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  const inRange = (at: number) => at >= (filter.fromMs ?? 0) && at < (filter.toMs ?? Infinity);
  return all.filter((f) => matches(f, filter) && inRange(f.closedAtMs!)).map((f) => f.traceId);
}

describe('trace list facet indexes', () => {
  it('replace a trace’s entries when a new revision changes its service, status, agents and detections', async () => {
    await close({ traceId: 't1', closedAtMs: T0, service: 'alpha', agents: ['a1'], detections: [{ type: 'loop', severity: 'high' }] });
    await close({ traceId: 't2', closedAtMs: T0 + 1, service: 'beta', agents: ['a1'] });
    expect((await indexEntries()).filter((e) => e.endsWith(' t1'))).toEqual(
      ['agent=a1', 'detection=loop', 'failures=true', 'model=m1', 'service=alpha', 'severity=high', 'severity=info', 'severity=low', 'severity=medium', 'status=ok'].map(
        (e) => `${e} t1`,
      ),
    );
    expect((await queries.listTraces(TENANT, 10, null, { service: 'alpha' })).items.map((f) => f.traceId)).toEqual(['t1']);
    expect(await count('agent', 'a1')).toBe(2);

    // Revision 2 moves t1 to another service, fails, changes agent and detection.
    await close({ traceId: 't1', revision: 2, closedAtMs: T0 + 2, service: 'gamma', hasError: true, agents: ['a2'], detections: [{ type: 'tool_failure', severity: 'critical' }] });
    expect((await indexEntries()).filter((e) => e.endsWith(' t1'))).toEqual(
      [
        'agent=a2',
        'detection=tool_failure',
        'failures=true',
        'model=m1',
        'service=gamma',
        'severity=critical',
        'severity=high',
        'severity=info',
        'severity=low',
        'severity=medium',
        'status=error',
      ].map((e) => `${e} t1`),
    );
    expect(await count('service', 'alpha')).toBe(0);
    expect(await count('detection', 'loop')).toBe(0);
    expect(await count('agent', 'a1')).toBe(1);
    expect(await count('model', 'm1')).toBe(2);
    const ids = async (filter: TraceFilter) => (await queries.listTraces(TENANT, 10, null, filter)).items.map((f) => f.traceId);
    expect(await ids({ service: 'alpha' })).toEqual([]);
    expect(await ids({ service: 'gamma' })).toEqual(['t1']);
    expect(await ids({ detectionType: 'loop' })).toEqual([]);
    expect(await ids({ detectionType: 'tool_failure' })).toEqual(['t1']);
    expect(await ids({ agent: 'a1' })).toEqual(['t2']);
    expect(await ids({ status: 'error' })).toEqual(['t1']);
    expect(await ids({ status: 'ok', agent: 'a1' })).toEqual(['t2']);
    expect(await ids({ minSeverity: 'critical' })).toEqual(['t1']);
    expect(await ids({ hasFailures: false })).toEqual(['t2']);
    expect(await ids({ model: 'm1' })).toEqual(['t1', 't2']);
    const listed = (await queries.listTraces(TENANT, 10, null, { service: 'gamma' })).items[0]!;
    expect(listed).toMatchObject({ revision: 2, hasError: true, agents: ['a2'] });
    // One score entry per trace, at the score of its latest facets; the failing trace first.
    const t2 = (await queries.listTraces(TENANT, 10, null, { service: 'beta' })).items[0]!;
    expect(await scoreEntries()).toEqual([`score=${scoreIndexValue(failureScoreOf(t2))} t2`, `score=${scoreIndexValue(failureScoreOf(listed))} t1`].sort());
    expect((await queries.listTraces(TENANT, 10, null, {}, 'failure_score')).items.map((f) => f.traceId)).toEqual(['t1', 't2']);
  });

  it('page through an indexed filter newest first, exactly once, with the answers of a full scan', async () => {
    const shapes: Shape[] = [];
    for (let i = 0; i < 40; i++) {
      shapes.push({
        traceId: `t${String(i).padStart(2, '0')}`,
        closedAtMs: T0 + i * 1000,
        service: i % 4 === 0 ? 'rare' : 'common',
        hasError: i % 3 === 0,
        agents: [i % 2 === 0 ? 'even' : 'odd'],
        detections: i % 5 === 0 ? [{ type: 'loop', severity: 'medium' }] : [],
      });
    }
    for (const s of shapes) await close(s);
    const filters: (TraceFilter & { fromMs?: number; toMs?: number })[] = [
      { service: 'rare' },
      { service: 'rare', status: 'error' },
      { status: 'error', agent: 'even', detectionType: 'loop' },
      { minSeverity: 'low', service: 'common' },
      { service: 'common', nameContains: 'COMMON' },
      { service: 'common', fromMs: T0 + 5000, toMs: T0 + 30_000 },
    ];
    for (const filter of filters) {
      const want = await expected(filter);
      expect(want.length).toBeGreaterThan(0);
      const { ids, pages } = await allPages(filter, 3);
      expect(ids, JSON.stringify(filter)).toEqual(want);
      // Pages fill: at most one more (empty) page, when entries the other filters drop end the scan.
      expect(pages).toBeLessThanOrEqual(Math.ceil(want.length / 3) + 1);
    }
    // One indexed value alone reads only its own traces: full pages, and no empty last one.
    expect(await allPages({ service: 'rare' }, 3)).toEqual({ ids: await expected({ service: 'rare' }), pages: 4 });
    // A cursor is a by-time key whichever index a page ran over: one from the unfiltered
    // list continues a filtered one after the same trace.
    const first = await queries.listTraces(TENANT, 5, null);
    const rest = await queries.listTraces(TENANT, 100, first.nextCursor, { service: 'rare' });
    expect(rest.items.map((f) => f.traceId)).toEqual((await expected({ service: 'rare' })).filter((id) => id < 't35'));
  });

  it('leave out a value longer than ingest allows, and a filter on it still finds its trace', async () => {
    const long = 'a'.repeat(300);
    await close({ traceId: 't-long', closedAtMs: T0, service: 'alpha', agents: [long, 'short'] });
    const entries = await indexEntries();
    expect(entries).toContain('agent=short t-long');
    expect(entries.some((e) => e.startsWith(`agent=${long}`))).toBe(false);
    expect((await queries.listTraces(TENANT, 10, null, { agent: long })).items.map((f) => f.traceId)).toEqual(['t-long']);
    expect((await queries.listTraces(TENANT, 10, null, { agent: long, service: 'alpha' })).items.map((f) => f.traceId)).toEqual(['t-long']);
  });

  it('are built on start for a store written before they existed', async () => {
    await close({ traceId: 'old-1', closedAtMs: T0, service: 'alpha', agents: ['a1'] });
    await close({ traceId: 'old-2', closedAtMs: T0 + 1, service: 'beta', agents: ['a1'] });
    // Take the store back to before the index: no entries, counts or version.
    const store = views.readStore;
    const ops = [];
    for (const kind of ['tx', 'tc']) for await (const [key] of store.range(VIEW_KEYS.prefixRange(Buffer.from(`${kind}|`)))) ops.push({ type: 'del' as const, key });
    ops.push({ type: 'del' as const, key: VIEW_KEYS.traceIndexVersion });
    const unit = log.beginUnit('tracefold-views');
    unit.write(store, ops);
    await unit.commit();
    await views.stop();
    expect(await indexEntries()).toEqual([]);

    views = new Views({ log, codecs, group: 'tracefold-views', logger });
    await views.start();
    queries = new ViewQueries(views.readStore, codecs);
    expect(await indexEntries()).toContain('service=alpha old-1');
    expect(await count('agent', 'a1')).toBe(2);
    expect((await queries.listTraces(TENANT, 10, null, { service: 'beta' })).items.map((f) => f.traceId)).toEqual(['old-2']);
  });

  it('rebuild the score order on start when the store holds one of other failure-model weights', async () => {
    await close({ traceId: 'r-1', closedAtMs: T0, service: 'alpha', detections: [{ type: 'loop', severity: 'high' }] });
    await close({ traceId: 'r-2', closedAtMs: T0 + 1, service: 'alpha' });
    const right = await scoreEntries();
    // What other weights left: scores that are not this model's, under an older version marker.
    const store = views.readStore;
    const ops = [];
    for await (const [key] of store.range(VIEW_KEYS.prefixRange(VIEW_KEYS.traceScoreOrderPrefix(TENANT)))) ops.push({ type: 'del' as const, key });
    ops.push({ type: 'put' as const, key: VIEW_KEYS.traceIndex(TENANT, 'score', '0001', T0, 'r-1'), value: Buffer.alloc(0) });
    ops.push({ type: 'put' as const, key: VIEW_KEYS.traceIndex(TENANT, 'score', '0999', T0 + 1, 'r-2'), value: Buffer.alloc(0) });
    ops.push({ type: 'put' as const, key: VIEW_KEYS.traceIndexVersion, value: Buffer.from('1') });
    const unit = log.beginUnit('tracefold-views');
    unit.write(store, ops);
    await unit.commit();
    await views.stop();
    expect(await scoreEntries()).toEqual(['score=0001 r-1', 'score=0999 r-2']);

    views = new Views({ log, codecs, group: 'tracefold-views', logger });
    await views.start();
    queries = new ViewQueries(views.readStore, codecs);
    expect(await scoreEntries()).toEqual(right);
    expect((await queries.listTraces(TENANT, 10, null, {}, 'failure_score')).items.map((f) => f.traceId)).toEqual(['r-1', 'r-2']);
    expect(await count('service', 'alpha')).toBe(2);
  });
});
