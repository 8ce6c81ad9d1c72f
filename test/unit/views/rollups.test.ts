import { describe, expect, it } from 'vitest';
import type { StoreOp } from '../../../src/log/port.js';
import type { TraceMetrics } from '../../../src/model/outputs.js';
import { BufferedStore } from '../../../src/runtime/buffered-store.js';
import { MemoryStore } from '../../../src/runtime/memory-log.js';
import { applyRollups, histogramIndex, queryRollups, type MetricsLike, type RollupQuery } from '../../../src/views/rollups.js';
import { VIEW_KEYS } from '../../../src/views/view-model.js';

/** The rollup cells, by key, as stored. */
async function cells(store: MemoryStore): Promise<Map<string, string>> {
  const prefix = Buffer.from('ru|');
  const out = new Map<string, string>();
  for await (const [key, value] of store.range(VIEW_KEYS.prefixRange(prefix))) out.set(key.toString('hex'), value.toString());
  return out;
}

const TENANT = 't1';
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

function metrics(traceId: string, overrides: Partial<TraceMetrics> & { startMs?: number } = {}): TraceMetrics {
  const { startMs = T0, ...rest } = overrides;
  const revision = rest.revision ?? 1;
  return {
    id: `${traceId}-m-${revision}`,
    tenantId: TENANT,
    traceId,
    revision,
    pipelineVersion: 'test',
    serviceName: 'svc',
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    durationMs: 1000,
    criticalPathMs: 1000,
    criticalPathSpanIds: [],
    spanCount: 3,
    llmCallCount: 1,
    toolCallCount: 1,
    agentCount: 1,
    inputTokens: 100,
    outputTokens: 10,
    cachedInputTokens: 0,
    costUsd: 0.001,
    unpricedModels: [],
    priceTable: '2026-11-25',
    errorCount: 0,
    errorRate: 0,
    toolErrorCount: 0,
    toolErrorRate: 0,
    retryCount: 0,
    retryRate: 0,
    blastRadius: 0,
    filesWritten: [],
    agents: ['planner'],
    models: ['gpt-4o'],
    ...rest,
  };
}

/** What the metrics view does with one admitted record, committed as one batch. */
async function admit(mem: MemoryStore, ...records: TraceMetrics[]): Promise<void> {
  const store = new BufferedStore(mem);
  for (const m of records) {
    const key = VIEW_KEYS.metrics(m.tenantId, m.traceId);
    const held = await store.get(key);
    await applyRollups(store, held === null ? null : (JSON.parse(held.toString()) as MetricsLike), m);
    store.put(key, Buffer.from(JSON.stringify({ ...m, startTimeUnixNano: m.startTimeUnixNano.toString() })));
  }
  const ops: StoreOp[] = [];
  store.flushInto({ append() {}, write: (_s, o) => ops.push(...o), consumed() {}, commit: async () => {} });
  mem.apply(ops);
}

const query = (over: Partial<RollupQuery> = {}): RollupQuery => ({ granularity: 'minute', groupBy: 'service', fromMs: T0 - 3_600_000, toMs: T0 + 3_600_000, limit: 100, ...over });

describe('applyRollups', () => {
  it('counts a trace in each granularity and group', async () => {
    const mem = new MemoryStore('views');
    await admit(mem, metrics('a', { agents: ['planner', 'coder'], models: [], durationMs: 2000, errorCount: 1, spanCount: 4, startMs: T0 + 61_000 }));
    const [service] = await queryRollups(mem, TENANT, query());
    expect(service).toMatchObject({ bucketStartMs: T0 + 60_000, group: 'svc', runs: 1, spans: 4, inputTokens: 100, outputTokens: 10, costUsd: 0.001, unpricedRuns: 0, errorRate: 1, spanErrorRate: 0.25 });
    const agents = await queryRollups(mem, TENANT, query({ groupBy: 'agent' }));
    expect(agents.map((r) => r.group)).toEqual(['coder', 'planner']);
    const models = await queryRollups(mem, TENANT, query({ groupBy: 'model' }));
    expect(models.map((r) => [r.group, r.runs])).toEqual([['', 1]]);
    const hours = await queryRollups(mem, TENANT, query({ granularity: 'hour' }));
    expect(hours.map((r) => r.bucketStartMs)).toEqual([T0]);
    // 2 granularities × (1 service + 2 agents + 1 model)
    expect((await cells(mem)).size).toBe(8);
  });

  it('replaces revision 1 by revision 2 exactly', async () => {
    const r1 = metrics('a', { revision: 1, durationMs: 500, inputTokens: 10, models: ['gpt-4o'], agents: ['planner'], startMs: T0 + 5_000 });
    const r2 = metrics('a', { revision: 2, durationMs: 9000, inputTokens: 70, costUsd: null, models: ['mystery'], agents: ['coder'], startMs: T0 + 125_000, errorCount: 2 });
    const other = metrics('b', { durationMs: 123, costUsd: 0.5 });

    const replaced = new MemoryStore('views');
    await admit(replaced, other, r1);
    await admit(replaced, r2);
    const direct = new MemoryStore('views');
    await admit(direct, other, r2);
    expect((await cells(replaced))).toEqual((await cells(direct)));

    const minutes = await queryRollups(replaced, TENANT, query({ groupBy: 'model' }));
    expect(minutes.map((r) => [r.bucketStartMs - T0, r.group, r.runs, r.inputTokens, r.costUsd, r.unpricedRuns])).toEqual([
      [0, 'gpt-4o', 1, 100, 0.5, 0],
      [120_000, 'mystery', 1, 70, null, 1],
    ]);
  });

  it('counts a redelivered record once, in the same batch or a later one', async () => {
    const mem = new MemoryStore('views');
    const m = metrics('a');
    await admit(mem, m, m);
    await admit(mem, m);
    const once = new MemoryStore('views');
    await admit(once, m);
    expect((await cells(mem))).toEqual((await cells(once)));
    expect((await queryRollups(mem, TENANT, query()))[0]!.runs).toBe(1);
  });

  it('follows a replay that changes the figures under the same id', async () => {
    const mem = new MemoryStore('views');
    await admit(mem, metrics('a', { costUsd: 0.001 }));
    await admit(mem, metrics('a', { costUsd: 0.002 }));
    expect((await queryRollups(mem, TENANT, query()))[0]).toMatchObject({ runs: 1, costUsd: 0.002 });
  });

  it('does not subtract a record stored before rollups counted it', async () => {
    const mem = new MemoryStore('views');
    const legacy = metrics('a');
    mem.apply([{ type: 'put', key: VIEW_KEYS.metrics(TENANT, 'a'), value: Buffer.from(JSON.stringify({ ...legacy, startTimeUnixNano: legacy.startTimeUnixNano.toString() })) }]);
    await admit(mem, metrics('a', { revision: 2, startMs: T0 + 3_000_000 }));
    const rows = await queryRollups(mem, TENANT, query());
    expect(rows.map((r) => [r.bucketStartMs - T0, r.runs])).toEqual([[3_000_000, 1]]);
  });

  it('keeps sums exact and drops emptied cells', async () => {
    const mem = new MemoryStore('views');
    const costs = [0.1, 0.2, 0.3, 0.000000007];
    await admit(mem, ...costs.map((costUsd, i) => metrics(`t${i}`, { costUsd })));
    expect((await queryRollups(mem, TENANT, query()))[0]!.costUsd).toBe(0.600000007);
    // Every trace moves to another hour: the first cells must vanish, not linger as zeros.
    await admit(mem, ...costs.map((costUsd, i) => metrics(`t${i}`, { costUsd, revision: 2, startMs: T0 + 7_200_000 })));
    expect(await queryRollups(mem, TENANT, query({ toMs: T0 + 3_600_000 }))).toEqual([]);
    // Only the new hour's cells: 2 granularities × (service + agent + model).
    expect((await cells(mem)).size).toBe(6);
  });

  it('reports costs as null only when no run had one, and error rates', async () => {
    const mem = new MemoryStore('views');
    await admit(mem, metrics('a', { costUsd: null }), metrics('b', { costUsd: null, errorCount: 3, spanCount: 6 }));
    expect((await queryRollups(mem, TENANT, query()))[0]).toMatchObject({ runs: 2, spans: 9, costUsd: null, unpricedRuns: 2, errorRate: 0.5, spanErrorRate: 3 / 9 });
    await admit(mem, metrics('c', { costUsd: 0 }));
    expect((await queryRollups(mem, TENANT, query()))[0]).toMatchObject({ runs: 3, costUsd: 0, unpricedRuns: 2 });
  });
});

describe('queryRollups', () => {
  async function filled(): Promise<MemoryStore> {
    const mem = new MemoryStore('views');
    const records: TraceMetrics[] = [];
    // Three minutes; in each, two services and durations 1..10 s.
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 1; i <= 10; i++) {
        records.push(metrics(`m${minute}-${i}`, { startMs: T0 + minute * 60_000 + i, durationMs: i * 1000, serviceName: i % 2 === 0 ? 'even' : 'odd' }));
      }
    }
    await admit(mem, ...records);
    return mem;
  }

  it('returns buckets overlapping [from, to) in time order, groups by name', async () => {
    const mem = await filled();
    const rows = await queryRollups(mem, TENANT, query({ fromMs: T0 + 30_000, toMs: T0 + 120_000 }));
    expect(rows.map((r) => [r.bucketStartMs - T0, r.group, r.runs])).toEqual([
      [0, 'even', 5],
      [0, 'odd', 5],
      [60_000, 'even', 5],
      [60_000, 'odd', 5],
    ]);
  });

  it('filters one group and applies the limit', async () => {
    const mem = await filled();
    expect((await queryRollups(mem, TENANT, query({ group: 'odd' }))).map((r) => r.group)).toEqual(['odd', 'odd', 'odd']);
    expect(await queryRollups(mem, TENANT, query({ group: 'none' }))).toEqual([]);
    expect(await queryRollups(mem, TENANT, query({ limit: 3 }))).toHaveLength(3);
    expect(await queryRollups(mem, 'other-tenant', query())).toEqual([]);
    expect(await queryRollups(mem, TENANT, query({ fromMs: T0, toMs: T0 }))).toEqual([]);
  });

  it('estimates p50 and p95 from the histogram', async () => {
    const mem = await filled();
    const [hour] = await queryRollups(mem, TENANT, query({ granularity: 'hour', groupBy: 'agent' }));
    // 30 runs: three each of 1..10 s; nearest rank 15 is 5 s, rank 29 is 10 s.
    expect(hour!.runs).toBe(30);
    expect(histogramIndex(hour!.p50DurationMs!)).toBe(histogramIndex(5000));
    expect(histogramIndex(hour!.p95DurationMs!)).toBe(histogramIndex(10_000));
    expect(Math.abs(hour!.p50DurationMs! - 5000) / 5000).toBeLessThan(0.091);
  });
});
