/**
 * The tenant stage end to end on the embedded log: the audit chain of a tenant (verify and
 * export), baselines and the anomalies they find, and feedback calibration that changes a
 * later detection for that tenant only.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditExport } from '../../src/audit/export.js';
import { loopingTrace, otlpPayload, type SpanSpec } from '../support/otlp.js';
import { eventually } from '../support/poll.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const T0 = 1_700_000_000_000;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tracefold.js');

/** Runs the tracefold command; resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** A run of `calls` distinct tool calls lasting `durationMs`. */
function run(traceId: string, calls: number, durationMs: number) {
  const spans: SpanSpec[] = [
    { spanId: 'root', name: 'agent_run', startMs: T0, durationMs, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' } },
  ];
  for (let i = 0; i < calls; i++) {
    spans.push({
      spanId: `t${i}`,
      parentSpanId: 'root',
      name: 'execute_tool lookup',
      startMs: T0 + 10 + i * 5,
      durationMs: 2,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup', 'gen_ai.tool.call.arguments': `{"n":${i}}` },
    });
  }
  return otlpPayload(traceId, spans, 'billing-bot');
}

describe('tenant stage', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let other: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_BASELINE_MIN_SAMPLES: '5', TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    tenant = await createTenant(server.url, 'audited');
    other = await createTenant(server.url, 'bystander');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const api = (t: typeof tenant, path: string, method: 'GET' | 'POST' | 'PUT' = 'GET', body?: unknown) =>
    request(`${server.url}/api/v1/tenants/${t.tenantId}${path}`, method, { token: t.token, ...(body === undefined ? {} : { body }) });

  async function ingestAndAnalyze(t: typeof tenant, traceId: string, payload: unknown) {
    const ingest = await request(`${server.url}/v1/traces`, 'POST', { token: t.apiKey, body: payload });
    expect(ingest.status).toBe(200);
    const analyzed = await api(t, `/traces/${traceId}/analyze`, 'POST');
    expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
    return analyzed.body;
  }

  it('chains every fact of a tenant and verifies and exports the chain', async () => {
    await ingestAndAnalyze(tenant, 'audit-loop', loopingTrace('audit-loop', 4));
    const verified = await eventually('the chain to hold the trace and its detection', async () => {
      const res = await api(tenant, '/audit/verify');
      expect(res.status).toBe(200);
      return res.body.checked >= 4 ? res.body : undefined;
    });
    // tenant created, its key, the trace closed, its loop detection.
    expect(verified).toMatchObject({ ok: true, first_broken: null, head: { seq: verified.checked } });

    const exported = await api(tenant, '/audit/export?format=eu-ai-act');
    expect(exported.status).toBe(200);
    expect(verifyAuditExport(exported.body)).toMatchObject({ ok: true, firstBroken: null });
    const types: string[] = exported.body.records.map((r: any) => r.type);
    // The summary counts the exported records by type, and their detections by type.
    const counted: Record<string, number> = {};
    for (const type of types) counted[type] = (counted[type] ?? 0) + 1;
    const summary = exported.body.summary;
    expect(summary.event_counts).toMatchObject(counted);
    expect(Object.values(summary.event_counts as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(types.length);
    expect(summary.detections.total).toBe(counted.detection_emitted);
    expect(summary.detections.by_type.loop).toBeGreaterThanOrEqual(1);
    expect(types.slice(0, 2)).toEqual(['tenant_created', 'api_key_created']);
    expect(types).toContain('trace_closed');
    expect(types).toContain('detection_emitted');

    // An edited payload in the export is caught offline and located.
    const tampered = structuredClone(exported.body);
    const at = tampered.records.findIndex((r: any) => r.type === 'trace_closed');
    tampered.records[at].payload_json = tampered.records[at].payload_json.replace('"revision":1', '"revision":2');
    const check = verifyAuditExport(tampered);
    expect(check.ok).toBe(false);
    expect(check.firstBroken?.index).toBe(at);

    const bad = await api(tenant, '/audit/export?format=soc2');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('format');
  });

  it('finds a trace far outside its baseline, and not the ordinary ones', async () => {
    for (let i = 0; i < 6; i++) {
      const result = await ingestAndAnalyze(tenant, `usual-${i}`, run(`usual-${i}`, 3, i % 2 === 0 ? 1000 : 1100));
      expect(result.all_detections).toEqual([]);
    }
    await ingestAndAnalyze(tenant, 'unusual', run('unusual', 40, 1050));
    const anomalies = await eventually('the anomaly', async () => {
      const res = await api(tenant, '/traces/unusual/anomalies');
      expect(res.status).toBe(200);
      return res.body.anomalous ? res.body : undefined;
    });
    expect(anomalies.anomalies.map((a: any) => a.metric)).toContain('tool_calls');
    const calls = anomalies.anomalies.find((a: any) => a.metric === 'tool_calls');
    expect(calls).toMatchObject({ value: 40, mean: 3, scope: { service: 'billing-bot' } });

    const usual = await api(tenant, '/traces/usual-5/anomalies');
    expect(usual.body).toMatchObject({ anomalous: false, anomalies: [] });

    const baselines = await api(tenant, '/baselines');
    const service = baselines.body.baselines.find((b: any) => b.service === 'billing-bot' && b.agent === null);
    expect(service.metrics.tool_calls.samples).toBeGreaterThanOrEqual(7);
    // Another tenant's baselines are its own.
    expect((await api(other, '/baselines')).body.baselines).toEqual([]);
  });

  it('judges each tenant by its own sigma and sample settings', async () => {
    const bad = await api(other, '/settings', 'PUT', { baseline_sigma: 0.1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('baseline_sigma');
    const set = await api(other, '/settings', 'PUT', { baseline_sigma: 20, baseline_min_samples: 4 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ baseline_sigma: 20, baseline_min_samples: 4 });
    expect((await api(other, '/settings')).body).toMatchObject({ baseline_sigma: 20, baseline_min_samples: 4 });

    for (let i = 0; i < 4; i++) await ingestAndAnalyze(other, `own-${i}`, run(`own-${i}`, 3 + (i % 2), i % 2 === 0 ? 1000 : 1100));
    // Ten calls against a baseline of 3.5 ± 0.58: some 11 sigma, inside this tenant's 20.
    await ingestAndAnalyze(other, 'own-wide', run('own-wide', 10, 1050));
    await eventually('the baseline to take in the trace', async () => {
      const res = await api(other, '/baselines');
      const service = res.body.baselines.find((b: any) => b.agent === null);
      return service?.metrics.tool_calls.samples === 5 ? true : undefined;
    });
    expect((await api(other, '/traces/own-wide/anomalies')).body.anomalous).toBe(false);

    // The wide run joined the baseline (now 4.8 ± 2.95 calls): 30 calls are some 8.5 sigma
    // out, inside 20 but beyond 5.
    await api(other, '/settings', 'PUT', { baseline_sigma: 5, baseline_min_samples: 4 });
    await ingestAndAnalyze(other, 'own-narrow', run('own-narrow', 30, 1050));
    const anomalies = await eventually('the anomaly under the narrower setting', async () => {
      const res = await api(other, '/traces/own-narrow/anomalies');
      return res.body.anomalous ? res.body : undefined;
    });
    expect(anomalies.anomalies.map((a: any) => a.metric)).toContain('tool_calls');
    expect((await api(other, '/baselines')).body).toMatchObject({ sigma_threshold: 5, min_samples: 4 });
    // The first tenant keeps the deployment's settings.
    expect((await api(tenant, '/settings')).body).toMatchObject({ baseline_sigma: 2, defaults: { baseline_sigma: 2 } });
  });

  it('lets repeated false-positive feedback suppress a later detection for that tenant only', async () => {
    const first = await ingestAndAnalyze(tenant, 'fp-loop-0', loopingTrace('fp-loop-0', 3));
    const loop = first.all_detections.find((d: any) => d.detection_type === 'loop');
    expect(loop).toBeDefined();
    for (let i = 0; i < 5; i++) {
      const res = await api(tenant, '/feedback', 'POST', { detection_id: loop.id, feedback_type: 'false_positive', comment: 'polling is intended' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const stats = await eventually('the calibration', async () => {
      const res = await api(tenant, '/feedback/stats');
      const entry = res.body.detectors.find((d: any) => d.detector === 'loop');
      return entry?.false_positives === 5 ? entry : undefined;
    });
    expect(stats).toMatchObject({ true_positives: 0, precision: 0 });
    expect(stats.confidence_shift).toBeGreaterThan(0.2);

    // The trace stage reads the calibration back: this tenant's next identical loop is
    // suppressed, while the other tenant still gets it.
    let attempt = 0;
    await eventually('the calibration to reach the trace stage', async () => {
      const traceId = `fp-loop-${++attempt}`;
      const result = await ingestAndAnalyze(tenant, traceId, loopingTrace(traceId, 3));
      return result.all_detections.some((d: any) => d.detection_type === 'loop') ? undefined : true;
    });
    console.log(`calibration reached the trace stage after ${attempt} trace(s)`);
    const bystander = await ingestAndAnalyze(other, 'fp-loop-x', loopingTrace('fp-loop-x', 3));
    expect(bystander.all_detections.map((d: any) => d.detection_type)).toContain('loop');

    // A trace that lacked a detection can be reported as missed, naming the detector.
    const missed = await api(tenant, '/feedback', 'POST', { feedback_type: 'missed', trace_id: 'usual-0', detector: 'retry_storm' });
    expect(missed.status, JSON.stringify(missed.body)).toBe(201);
    expect(missed.body).toMatchObject({ feedback_type: 'missed', detection_id: null, detector: 'retry_storm', trace_id: 'usual-0' });
    const wrong = await api(tenant, '/feedback', 'POST', { feedback_type: 'missed', trace_id: 'usual-0', detector: 'nonsense' });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('detector');
  });

  it('gates on a trace being anomalous, and exports and verifies the chain from the command line', async () => {
    const remote = ['--tenant', tenant.tenantId, '--url', server.url, '--token', tenant.token];
    const unusual = await cli(['baseline', 'check', ...remote, '--trace', 'unusual']);
    expect(unusual.code, unusual.out).toBe(1);
    expect(unusual.out).toContain('tool_calls');
    const usual = await cli(['baseline', 'check', ...remote, '--trace', 'usual-5']);
    expect(usual.code, usual.out).toBe(0);

    const file = path.join(server.dataDir, 'audit-export.json');
    const exported = await cli(['audit', 'export', ...remote, '--format', 'eu-ai-act', '--output', file]);
    expect(exported.code, exported.out).toBe(0);
    expect((await cli(['audit', 'verify', '--from-export', file])).code).toBe(0);
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    pkg.records[1].at_ms += 1;
    pkg.records[1].at = new Date(pkg.records[1].at_ms).toISOString();
    await writeFile(file, JSON.stringify(pkg));
    const broken = await cli(['audit', 'verify', '--from-export', file]);
    expect(broken.code, broken.out).toBe(1);
    expect(broken.out).toMatch(/seq 2\b/);

    // With tracefold stopped, the chain is read from its data dir.
    const verifiedRemotely = await cli(['audit', 'verify', ...remote]);
    expect(verifiedRemotely.code, verifiedRemotely.out).toBe(0);
    await server.stop();
    const local = await cli(['audit', 'verify', '--tenant', tenant.tenantId], { TRACEFOLD_DATA_DIR: server.dataDir, TRACEFOLD_KAFKA_BROKERS: '' });
    expect(local.code, local.out).toBe(0);
    expect(local.out).toContain('verified');
  }, 60_000);
});
