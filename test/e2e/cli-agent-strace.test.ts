/**
 * Seed 001's CLI (agent-strace "Baseline anomaly detection" and "EU AI Act Audit
 * Packages") as tracefold's command runs it against a real server: baseline check, show and
 * update, --threshold and --format json, the exit codes a CI gate relies on (0 within, 1
 * anomalous, 2 usage error, never 1 for a mistake), export of one trace and of a range,
 * verify --from-export and audit-readiness.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditExport } from '../../src/audit/export.js';
import { otlpPayload, type SpanSpec } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const T0 = 1_700_000_000_000;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tracefold.js');

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs `tracefold ARGS` (or, with `shell`, a shell line in which `tracefold` is the command). */
function cli(args: string[], env: Record<string, string> = {}, shell?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child =
      shell === undefined
        ? spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })
        : spawn('sh', ['-c', shell.replaceAll('tracefold ', `"${process.execPath}" "${BIN}" `)], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** A run of `calls` tool calls with arguments, under an agent span carrying a prompt. */
function run(traceId: string, calls: number, durationMs: number) {
  const spans: SpanSpec[] = [
    {
      spanId: 'root',
      name: 'agent_run',
      startMs: T0,
      durationMs,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', 'gen_ai.prompt': 'Reconcile the March invoices' },
    },
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

describe('seed 001: agent-strace baseline and audit commands', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let env: Record<string, string>;
  let remote: string[];

  const api = (p: string) => request(`${server.url}/api/v1/tenants/${tenant.tenantId}${p}`, 'GET', { token: tenant.token });

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_BASELINE_MIN_SAMPLES: '5', TRACEFOLD_INACTIVITY_GAP_MS: '600000' });
    tenant = await createTenant(server.url, 'strace-cli');
    env = { TRACEFOLD_URL: server.url, TRACEFOLD_TOKEN: tenant.token, TRACEFOLD_TENANT: tenant.tenantId };
    remote = ['--url', server.url, '--token', tenant.token];
    const runs: [string, number, number][] = [
      ...Array.from({ length: 6 }, (_, i) => [`usual-${i}`, 3 + (i % 2), i % 2 === 0 ? 1000 : 1100] as [string, number, number]),
      ['unusual', 40, 1050],
    ];
    // One at a time: each run joins the baseline the next is judged against.
    for (const [traceId, calls, durationMs] of runs) {
      expect((await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: run(traceId, calls, durationMs) })).status).toBe(200);
      const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
      expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the runs close into the baselines and the unusual one is anomalous (the tenant stage, before any command)', async () => {
    await expect.poll(async () => (await api('/traces/unusual/anomalies')).body.anomalous, { timeout: 15_000 }).toBe(true);
    await expect.poll(async () => (await api('/baselines')).body.baselines?.[0]?.metrics?.tool_calls?.samples, { timeout: 15_000 }).toBe(7);
  });

  it('baseline check <id>: exit 1 when anomalous, 0 within, and `check $ID || echo` tells them apart', async () => {
    const [unusual, usual, gate, within] = await Promise.all([
      cli(['baseline', 'check', 'unusual'], env),
      cli(['baseline', 'check', 'usual-5'], env),
      cli([], { ...env, SESSION_ID: 'unusual' }, 'tracefold baseline check $SESSION_ID || echo "Session outside baseline"'),
      cli([], { ...env, SESSION_ID: 'usual-5' }, 'tracefold baseline check $SESSION_ID || echo "Session outside baseline"'),
    ]);
    expect(unusual.code, unusual.err).toBe(1);
    expect(unusual.out).toContain('tool_calls: 40');
    expect(usual.code, usual.err).toBe(0);
    expect(usual.out).toContain('within the baseline');
    expect(gate.out).toContain('Session outside baseline');
    expect(within.out).not.toContain('Session outside baseline');
  });

  it('baseline check <id> --threshold 2.5 --format json; a higher threshold lets the run pass; one below the tenant setting is refused', async () => {
    const [json, wide, narrow, bad] = await Promise.all([
      cli(['baseline', 'check', 'unusual', '--threshold', '2.5', '--format', 'json'], env),
      cli(['baseline', 'check', 'unusual', '--threshold', '100'], env),
      cli(['baseline', 'check', 'unusual', '--threshold', '1'], env),
      cli(['baseline', 'check', 'unusual', '--threshold', 'lots'], env),
    ]);
    expect(json.code, json.err).toBe(1);
    const answer = JSON.parse(json.out);
    expect(answer).toMatchObject({ tenant_id: tenant.tenantId, trace_id: 'unusual', threshold: 2.5, anomalous: true });
    const calls = answer.anomalies.find((a: { metric: string }) => a.metric === 'tool_calls');
    expect(Math.abs(calls.z_score)).toBeGreaterThan(2.5);
    expect(Math.abs(calls.z_score)).toBeLessThan(100);
    expect(wide.code, wide.err).toBe(0);
    expect(wide.out).toContain('within the baseline at 100 sigma');
    expect(narrow.code).toBe(2);
    expect(narrow.err).toContain('--threshold 1 is below');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--threshold: expected a number');
  });

  it('baseline show, as text and --format json', async () => {
    const [text, json] = await Promise.all([cli(['baseline', 'show'], env), cli(['baseline', 'show', '--format', 'json'], env)]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`baselines of tenant ${tenant.tenantId}: threshold 2 sigma, judging from 5 samples`);
    expect(text.out).toContain('service billing-bot (updated');
    expect(text.out).toMatch(/tool_calls\s+samples 7, mean /);
    expect(json.code, json.err).toBe(0);
    const shown = JSON.parse(json.out);
    expect(shown).toMatchObject({ tenant_id: tenant.tenantId, sigma_threshold: 2, min_samples: 5 });
    expect(shown.baselines.find((b: { agent: string | null }) => b.agent === 'planner').metrics.tool_calls.samples).toBe(7);
  });

  it('baseline update stores the threshold for later traces; --sessions is refused with exit 2, naming it', async () => {
    const sessions = await cli(['baseline', 'update', '--sessions', '50'], env);
    expect(sessions.code).toBe(2);
    expect(sessions.err).toContain('--sessions: ');
    const tooSmall = await cli(['baseline', 'update', '--threshold', '0.1'], env);
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.err).toContain('--threshold: expected a number of standard deviations from 0.5 to 100, got "0.1"');

    const updated = await cli(['baseline', 'update', '--threshold', '2.5'], env);
    expect(updated.code, updated.err).toBe(0);
    expect(updated.out).toContain('now judges at 2.5 sigma from 5 samples');
    // The samples setting stayed the server's default.
    expect((await api('/settings')).body).toMatchObject({ baseline_sigma: 2.5, baseline_min_samples: 5 });
    const noop = await cli(['baseline', 'update', '--format', 'json'], env);
    expect(noop.code, noop.err).toBe(0);
    expect(JSON.parse(noop.out)).toMatchObject({ sigma_threshold: 2.5, settings_changed: false });
    expect((await cli(['baseline', 'update', '--threshold', '2'], env)).code).toBe(0);
  });

  it('export <id> --format eu-ai-act --output FILE, then verify --from-export', async () => {
    const file = path.join(server.dataDir, 'compliance-report.json');
    const exported = await cli(['export', 'unusual', '--format', 'eu-ai-act', '--output', file, ...remote], env);
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toMatch(/audit export of trace unusual of tenant .* records, .*of them about the trace/);
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    expect(verifyAuditExport(pkg, { tenantId: tenant.tenantId }).ok).toBe(true);
    const closed = pkg.records.filter((r: { type: string }) => r.type === 'trace_closed');
    expect(closed.at(0).subject_id).toBe('unusual');
    expect(pkg.records.some((r: { type: string; payload_json: string }) => r.type === 'detection_emitted' && r.payload_json.includes('"traceId":"unusual"'))).toBe(true);
    expect(pkg.summary.data_categories).toEqual(['prompts', 'tool_arguments']);
    const verified = await cli(['verify', '--from-export', file]);
    expect(verified.code, verified.err).toBe(0);
    expect(verified.out).toContain('records verified');
  });

  it('export --all --since --until --format eu-ai-act --output FILE covers the range; tracefold audit export still works', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const file = path.join(server.dataDir, 'Q-audit.json');
    const exported = await cli(['export', '--all', '--since', '7d', '--until', today, '--format', 'eu-ai-act', '--output', file, ...remote], env);
    expect(exported.code, exported.err).toBe(0);
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    expect(pkg.records.filter((r: { type: string }) => r.type === 'trace_closed')).toHaveLength(7);
    expect(pkg.range.to).toBe(new Date(Date.parse(today) + 86_400_000).toISOString());
    expect((await cli(['verify', '--from-export', file, '--tenant', tenant.tenantId])).code).toBe(0);
    const empty = await cli(['export', '--all', '--since', '2000-01-01', '--until', '2000-01-31', '--format', 'eu-ai-act', '--output', file, ...remote], env);
    expect(empty.code, empty.err).toBe(0);
    expect(empty.out).toContain('no records in the range');
    const classic = await cli(['audit', 'export', '--format', 'eu-ai-act', '--output', file, ...remote], env);
    expect(classic.code, classic.err).toBe(0);
  });

  it('audit-readiness reports the chain, period, models, tools, data categories, detections and oversight points', async () => {
    const [text, json] = await Promise.all([cli(['audit-readiness', ...remote], env), cli(['audit-readiness', '--format', 'json', ...remote], env)]);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`audit readiness of tenant ${tenant.tenantId}: ready for export`);
    expect(text.out).toMatch(/OK\s+audit chain\s+\d+ records verified, head seq \d+/);
    expect(text.out).toMatch(/data categories processed\s+prompts, tool_arguments/);
    // Anomalies were detected and nobody reviewed them: a warning, not a failure.
    expect(text.out).toMatch(/WARN human oversight points/);
    const report = JSON.parse(json.out);
    expect(report).toMatchObject({ tenant_id: tenant.tenantId, ready: true });
    expect(report.checks.find((c: { check: string }) => c.check === 'tools observed').detail).toBe('lookup');
    expect(report.checks.find((c: { check: string }) => c.check === 'baselines').detail).toMatch(/^2 scopes/);
  });

  it('usage errors exit 2, naming the flag or command, on every command; an unknown trace is 2 as well', async () => {
    const out = path.join(server.dataDir, 'never.json');
    const cases: [string[], string][] = [
      [['frobnicate'], 'unknown command "frobnicate"'],
      [['detectors', 'extra'], 'unexpected argument "extra"'],
      [['topics'], 'unknown command "topics"'],
      [['baseline'], 'baseline needs a subcommand'],
      [['baseline', 'rebuild'], 'unknown command "baseline rebuild"'],
      [['baseline', 'check'], '--trace is required'],
      [['baseline', 'check', 'unusual', '--bogus'], "'--bogus'"],
      [['baseline', 'check', 'unusual', '--format', 'yaml'], '--format must be text or json'],
      [['baseline', 'check', 'no-such-trace'], 'trace no-such-trace is unknown'],
      [['baseline', 'show', '--threshold', '3'], '--threshold does not apply to baseline show'],
      [['audit'], 'audit needs a subcommand'],
      [['audit', 'export', '--format', 'eu-ai-act'], '--output is required'],
      [['export', '--format', 'eu-ai-act', '--output', out], 'export needs a trace id, or --all'],
      [['export', 'unusual', '--all', '--format', 'eu-ai-act', '--output', out], 'not both'],
      [['export', 'unusual', '--format', 'otlp-genai', '--output', out], '--format: unknown export format "otlp-genai"'],
      [['export', 'unusual', '--since', '7d', '--format', 'eu-ai-act', '--output', out], '--since does not apply'],
      [['export', '--all', '--since', 'yesterday', '--format', 'eu-ai-act', '--output', out], '--since: expected'],
      [['export', 'unusual', '--endpoint', 'http://localhost:4318'], "'--endpoint'"],
      [['export', 'no-such-trace', '--format', 'eu-ai-act', '--output', out, ...remote], 'trace no-such-trace has no records'],
      [['verify'], '--tenant is required'],
      [['audit-readiness', 'now'], 'unexpected argument "now"'],
      [['audit-readiness', '--format', 'xml', ...remote], '--format must be text or json'],
      [['replay'], 'usage'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args, args[0] === 'verify' ? {} : env)));
    for (const [i, [args, message]] of cases.entries()) {
      const result = results[i]!;
      expect(result.code, `tracefold ${args.join(' ')}: ${result.err}`).toBe(2);
      expect(result.err + result.out, `tracefold ${args.join(' ')}`).toContain(message);
    }
  }, 90_000);
});
