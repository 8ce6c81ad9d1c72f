/**
 * Metric rollups through the API: traces analyzed on a live server show up per minute and
 * per hour, by service, agent and model, with their counts, tokens, cost and percentiles;
 * a later revision replaces its earlier contribution; bad queries are 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERCENTILE_RELATIVE_ERROR } from '../../src/views/rollups.js';
import { otlpPayload, type SpanSpec } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const MINUTE = Date.UTC(2023, 10, 14, 22, 13);
const HOUR = Date.UTC(2023, 10, 14, 22);

/** A run: a root span (agent optional) and one chat call (model and usage optional). */
function run(opts: { startMs: number; durationMs: number; agents?: string[]; model?: string; tokens?: [number, number]; error?: boolean }): SpanSpec[] {
  const [rootAgent, ...others] = opts.agents ?? [];
  const spans: SpanSpec[] = [
    { spanId: 'root', name: 'agent_run', startMs: opts.startMs, durationMs: opts.durationMs, attributes: rootAgent === undefined ? {} : { 'gen_ai.agent.name': rootAgent } },
  ];
  const chat: Record<string, string | number> = { 'gen_ai.operation.name': 'chat' };
  if (opts.model !== undefined) chat['gen_ai.request.model'] = opts.model;
  if (opts.tokens !== undefined) {
    chat['gen_ai.usage.input_tokens'] = opts.tokens[0];
    chat['gen_ai.usage.output_tokens'] = opts.tokens[1];
  }
  if (rootAgent !== undefined) chat['gen_ai.agent.name'] = rootAgent;
  spans.push({ spanId: 'chat', parentSpanId: 'root', name: 'chat', startMs: opts.startMs + 10, durationMs: 50, attributes: chat, ...(opts.error ? { error: 'boom' } : {}) });
  others.forEach((agent, i) =>
    spans.push({ spanId: `sub-${i}`, parentSpanId: 'root', name: 'invoke_agent', startMs: opts.startMs + 20, durationMs: 50, attributes: { 'gen_ai.agent.name': agent } }),
  );
  return spans;
}

function near(actual: number, expected: number): void {
  expect(Math.abs(actual - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(PERCENTILE_RELATIVE_ERROR + 1e-12);
}

describe('metric rollups', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  const rollups = (query: string) => request(`${server.url}/api/v1/tenants/${tenant.tenantId}/metrics/rollups?${query}`, 'GET', { token: tenant.token });
  const window = `from=${new Date(HOUR).toISOString()}&to=${HOUR + 3_600_000}`;

  async function send(traceId: string, service: string, spans: SpanSpec[]): Promise<void> {
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: otlpPayload(traceId, spans, service) })).status).toBe(200);
    const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.status).toBe(200);
  }

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
    tenant = await createTenant(server.url, 'rollups');
    // Minute 22:13: two runs of svc-a.
    await send('run-a', 'svc-a', run({ startMs: T0, durationMs: 1000, agents: ['planner'], model: 'gpt-4o', tokens: [1000, 100] }));
    await send('run-b', 'svc-a', run({ startMs: T0 + 5_000, durationMs: 4000, agents: ['coder'], model: 'mystery-model', tokens: [500, 50], error: true }));
    // Minute 22:15: two runs of svc-b, one with two agents, one with neither agent nor model.
    await send('run-c', 'svc-b', run({ startMs: T0 + 120_000, durationMs: 2000, agents: ['planner', 'coder'], model: 'gpt-4o', tokens: [200, 20] }));
    await send('run-d', 'svc-b', run({ startMs: T0 + 125_000, durationMs: 500 }));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('rolls up by service per minute and per hour', async () => {
    const minutes = await rollups(`granularity=minute&group_by=service&${window}`);
    expect(minutes.status).toBe(200);
    expect(minutes.body).toMatchObject({ tenant_id: tenant.tenantId, granularity: 'minute', group_by: 'service', from: new Date(HOUR).toISOString(), to: new Date(HOUR + 3_600_000).toISOString() });
    const items = minutes.body.items;
    expect(items.map((r: any) => [r.bucket_start, r.group, r.runs])).toEqual([
      [new Date(MINUTE).toISOString(), 'svc-a', 2],
      [new Date(MINUTE + 120_000).toISOString(), 'svc-b', 2],
    ]);
    expect(items[0]).toMatchObject({ spans: 4, input_tokens: 1500, output_tokens: 150, unpriced_runs: 1, error_rate: 0.5, span_error_rate: 0.25 });
    // Only run-a is priced: 1000 × $2.50/M + 100 × $10/M.
    expect(items[0].cost_usd).toBeCloseTo(0.0035, 9);
    near(items[0].p50_duration_ms, 1000);
    near(items[0].p95_duration_ms, 4000);

    const hours = await rollups(`granularity=hour&group_by=service&${window}`);
    expect(hours.body.items.map((r: any) => [r.bucket_start, r.group, r.runs, r.input_tokens])).toEqual([
      [new Date(HOUR).toISOString(), 'svc-a', 2, 1500],
      [new Date(HOUR).toISOString(), 'svc-b', 2, 200],
    ]);
    const svcB = hours.body.items[1];
    expect(svcB).toMatchObject({ unpriced_runs: 0, error_rate: 0 });
    expect(svcB.cost_usd).toBeCloseTo(0.0007, 9);
    near(svcB.p50_duration_ms, 500);
    near(svcB.p95_duration_ms, 2000);
  });

  it('rolls up by agent, a run counting once under each of its agents', async () => {
    const res = await rollups(`granularity=hour&group_by=agent&${window}`);
    expect(res.body.items.map((r: any) => [r.group, r.runs])).toEqual([
      ['', 1],
      ['coder', 2],
      ['planner', 2],
    ]);
    const coder = res.body.items[1];
    near(coder.p50_duration_ms, 2000);
    near(coder.p95_duration_ms, 4000);
    const one = await rollups(`granularity=hour&group_by=agent&group=planner&${window}`);
    expect(one.body.items.map((r: any) => [r.group, r.runs, r.input_tokens])).toEqual([['planner', 2, 1200]]);
  });

  it('rolls up by model', async () => {
    const res = await rollups(`granularity=hour&group_by=model&${window}`);
    expect(res.body.items.map((r: any) => [r.group, r.runs, r.input_tokens, r.output_tokens, r.unpriced_runs])).toEqual([
      ['', 1, 0, 0, 0],
      ['gpt-4o', 2, 1200, 120, 0],
      ['mystery-model', 1, 500, 50, 1],
    ]);
    expect(res.body.items[2].cost_usd).toBeNull();
  });

  it('replaces a trace contribution when a late span makes a new revision', async () => {
    const late = otlpPayload(
      'run-d',
      [{ spanId: 'late', parentSpanId: 'root', name: 'chat', startMs: T0 + 125_100, durationMs: 7_000, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 40, 'gen_ai.usage.output_tokens': 4 } }],
      'svc-b',
    );
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: late })).status).toBe(200);
    const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/run-d/analyze`, 'POST', { token: tenant.token });
    expect(analyzed.body.revision).toBe(2);
    const models = await rollups(`granularity=hour&group_by=model&${window}`);
    // run-d moved from the '' group to gpt-4o; nothing is counted twice.
    expect(models.body.items.map((r: any) => [r.group, r.runs, r.input_tokens])).toEqual([
      ['gpt-4o', 3, 1240],
      ['mystery-model', 1, 500],
    ]);
    const services = await rollups(`granularity=minute&group_by=service&group=svc-b&${window}`);
    expect(services.body.items).toHaveLength(1);
    expect(services.body.items[0]).toMatchObject({ runs: 2, spans: 6, input_tokens: 240 });
    near(services.body.items[0].p95_duration_ms, 7_100);
  });

  it('defaults to the last 24 hours of hours and the last 60 minutes of minutes', async () => {
    for (const [granularity, span] of [
      ['hour', 86_400_000],
      ['minute', 3_600_000],
    ] as const) {
      const res = await rollups(`granularity=${granularity}&group_by=service`);
      expect(res.status).toBe(200);
      expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(span);
      expect(Math.abs(Date.parse(res.body.to) - Date.now())).toBeLessThan(60_000);
      expect(res.body.items).toEqual([]);
    }
  });

  it('answers 400 naming the field for a bad query', async () => {
    const cases: [string, string][] = [
      ['granularity=day&group_by=service', 'query.granularity'],
      ['granularity=hour&group_by=user', 'query.group_by'],
      ['granularity=hour&from=yesterday', 'query.from'],
      [`granularity=hour&from=${T0 + 1}&to=${T0}`, 'query.from'],
      ['granularity=hour&to=soon', 'query.to'],
      ['granularity=hour&limit=10001', 'query.limit'],
      ['granularity=hour&limit=0', 'query.limit'],
    ];
    for (const [query, field] of cases) {
      const res = await rollups(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toBe('INVALID_REQUEST');
      expect(res.body.message, query).toContain(`${field}:`);
    }
  });

  it('needs a token for the tenant', async () => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/metrics/rollups?granularity=hour`, 'GET');
    expect(res.status).toBe(401);
  });
});
