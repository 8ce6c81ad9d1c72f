/**
 * Kafka mode end to end: ingest, trace stage, tenant stage and api run as separate OS processes against
 * a real broker and give the same answers as the embedded mode for the same input.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../support/child.js';
import { describeKafka, kafkaBrokers, registryEnv } from '../support/kafka.js';
import { loopingTrace, otlpPayload } from '../support/otlp.js';
import { createTenant, request, startServer, tempDir, type TestServer } from '../support/server.js';

const RUNS = {
  'loop-run': loopingTrace('loop-run', 5),
  'clean-run': otlpPayload('clean-run', [
    { spanId: 'root', name: 'agent_run', startMs: 1_700_000_000_000, durationMs: 3000, attributes: { 'gen_ai.agent.name': 'planner' } },
    { spanId: 'llm', parentSpanId: 'root', name: 'chat', startMs: 1_700_000_000_100, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 40 } },
  ]),
  'failing-run': otlpPayload('failing-run', [
    { spanId: 'root', name: 'agent_run', startMs: 1_700_000_000_000, durationMs: 3000 },
    { spanId: 'bad', parentSpanId: 'root', name: 'execute_tool read_file', startMs: 1_700_000_000_100, error: 'ENOENT', attributes: { 'gen_ai.tool.name': 'read_file', 'gen_ai.agent.name': 'coder' } },
  ]),
};

/** What must match between the two transports (ids differ: they include the tenant). */
function comparable(analysis: any) {
  return {
    has_failures: analysis.has_failures,
    failure_count: analysis.failure_count,
    detections: analysis.all_detections.map((d: any) => ({
      type: d.detection_type,
      severity: d.severity,
      confidence: d.confidence,
      affected: d.affected_span_ids,
      agent: d.agent,
      primary: d.primary,
    })),
  };
}

async function runAll(ingestUrl: string, apiUrl: string, tenant: { tenantId: string; apiKey: string; token: string }) {
  const out: Record<string, unknown> = {};
  for (const payload of Object.values(RUNS)) {
    const ingest = await request(`${ingestUrl}/v1/traces`, 'POST', { token: tenant.apiKey, body: payload });
    expect(ingest.status, JSON.stringify(ingest.body)).toBe(200);
  }
  for (const traceId of Object.keys(RUNS)) {
    const analysis = await request(`${apiUrl}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(analysis.status, JSON.stringify(analysis.body)).toBe(200);
    const detail = await request(`${apiUrl}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    out[traceId] = { ...comparable(analysis.body), span_count: detail.body.span_count, metrics: detail.body.metrics };
  }
  return out;
}

describeKafka('Kafka mode with one process per role', () => {
  const children: ChildServer[] = [];
  let embedded: TestServer;
  let ingest: ChildServer;
  let api: ChildServer;

  beforeAll(async () => {
    const common = {
      TRACEFOLD_KAFKA_BROKERS: kafkaBrokers().join(','),
      TRACEFOLD_JWT_SECRET: 'kafka-e2e-secret-0123456789-abcdefghij',
      TRACEFOLD_INACTIVITY_GAP_MS: '60000',
      // Values go through the schema registry when the test run has one.
      ...registryEnv(),
    };
    const started = await Promise.allSettled(
      (['trace', 'ingest', 'api', 'tenant'] as const).map(async (role) =>
        startChild({ ...common, TRACEFOLD_DATA_DIR: await tempDir(`kafka-${role}`) }, ['--role', role]),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') children.push(result.value);
    // A role that failed to start must not leave the others running after the suite.
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(children.map((c) => c.kill('SIGTERM')));
      children.length = 0;
      throw failure.reason;
    }
    const [, ingestChild, apiChild] = children;
    ingest = ingestChild!;
    api = apiChild!;
    embedded = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
  }, 120_000);

  afterAll(async () => {
    // SIGTERM is a clean shutdown: every role exits 0 (a role that did not shows what it wrote).
    const codes = await Promise.all(children.map((c) => c.kill('SIGTERM')));
    const unclean = children.flatMap((c, i) => (codes[i] === 0 ? [] : [`exit ${codes[i]}:\n${c.output()}`]));
    expect(unclean.join('\n\n')).toBe('');
    await embedded?.stop();
  });

  it('answers as the embedded mode does for the same input', async () => {
    const kafkaTenant = await createTenant(api.url, 'kafka-roles');
    // The ingest process learns of the new key from tracefold.tenants.v1.
    await expect
      .poll(async () => (await request(`${ingest.url}/v1/traces`, 'POST', { token: kafkaTenant.apiKey, body: { resourceSpans: [] } })).status, {
        timeout: 60_000,
        interval: 100,
      })
      .toBe(200);
    const viaKafka = await runAll(ingest.url, api.url, kafkaTenant);
    const embeddedTenant = await createTenant(embedded.url, 'embedded');
    const viaEmbedded = await runAll(embedded.url, embedded.url, embeddedTenant);
    expect(viaKafka).toEqual(viaEmbedded);
    expect((viaKafka['loop-run'] as any).detections[0].type).toBe('loop');

    // The tenant process chained every fact of the tenant: created, its key, three runs
    // closed and their detections.
    const detections = Object.values(viaKafka).reduce((n: number, run: any) => n + run.detections.length, 0);
    const verify = async () => (await request(`${api.url}/api/v1/tenants/${kafkaTenant.tenantId}/audit/verify`, 'GET', { token: kafkaTenant.token })).body;
    await expect.poll(async () => (await verify()).checked, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(2 + 3 + detections);
    expect(await verify()).toMatchObject({ ok: true, checked: 2 + 3 + detections, first_broken: null });
  }, 120_000);

  it('serves health on every role and readiness with the log reachable', async () => {
    for (const child of children) {
      const ready = await request(`${child.url}/readyz`, 'GET');
      expect(ready.status).toBe(200);
      expect(ready.body.log).toEqual({ kind: 'kafka', healthy: true });
    }
  });
});
