/**
 * Replaying history after a detector change, on both transports: runs with loops are ingested
 * under the default settings; a replay with the loop threshold raised reports exactly the
 * loops it no longer finds, and changes nothing that is in force (detections, the audit
 * chain) while it runs and after. Promoted, its change is what the API and the detections
 * topic show, as one audit fact and nothing counted again; rolled back, the earlier state.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/log/topics.js';
import { createCodecs, createSchemaIds } from '../../src/log/serde/index.js';
import { parseTraceKey } from '../../src/model/record-keys.js';
import { ViewQueries } from '../../src/views/queries.js';
import { waitFor } from '../support/poll.js';
import { readRecords } from '../support/topic-reader.js';
import { kafkaBrokers, registryEnv } from '../support/kafka.js';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, startServer, tempDir, type TestServer } from '../support/server.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tracefold.js');

const transports = [
  { name: 'embedded', env: {} as Record<string, string>, enabled: true },
  {
    name: 'kafka',
    env: { TRACEFOLD_KAFKA_BROKERS: kafkaBrokers().join(','), TRACEFOLD_JWT_SECRET: 'replay-secret-0123456789-abcdefghijkl', ...registryEnv() },
    enabled: kafkaBrokers().length > 0,
  },
];

// The Kafka broker is shared with other suites: every run here names its tenants.
describe.each(transports)('replay on the $name log', ({ env, enabled }) => {
  let dataDir: string;
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let other: Awaited<ReturnType<typeof createTenant>>;

  const api = (path: string, method = 'GET', body?: unknown) => request(`${server.url}${path}`, method, body === undefined ? {} : { body });
  const tenantStageApi = (t: typeof tenant, path: string) => request(`${server.url}/api/v1/tenants/${t.tenantId}${path}`, 'GET', { token: t.token });

  async function send(t: typeof tenant, traceId: string, repeats: number) {
    expect((await request(`${server.url}/v1/traces`, 'POST', { token: t.apiKey, body: loopingTrace(traceId, repeats) })).status).toBe(200);
    expect((await request(`${server.url}/api/v1/tenants/${t.tenantId}/traces/${traceId}/analyze`, 'POST', { token: t.token })).status).toBe(200);
  }

  async function finished(replayId: string) {
    const run = await waitFor(async () => {
      const res = await api(`/api/v1/replays/${replayId}`);
      return res.body.state === 'running' ? null : res.body;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(run, `replay ${replayId} finished`).not.toBeNull();
    return run;
  }

  beforeAll(async () => {
    if (!enabled) return;
    dataDir = await tempDir('replay');
    server = await startServer(env, dataDir);
    tenant = await createTenant(server.url, 'replayed');
    other = await createTenant(server.url, 'other');
    for (const id of ['four-a', 'four-b', 'four-c']) await send(tenant, id, 4);
    await send(tenant, 'seven', 7);
    await send(tenant, 'two', 2);
    await send(other, 'other-four', 4);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 90_000);

  it.runIf(enabled)('reports the loops a raised threshold no longer finds, and changes nothing in force', async () => {
    const loopsBefore = (await tenantStageApi(tenant, '/detections?detection_type=loop')).body.length;
    expect(loopsBefore).toBe(4);
    const auditBefore = (await tenantStageApi(tenant, '/audit/verify')).body.checked;

    const started = await api('/api/v1/replays', 'POST', { settings: { loop: { minRepeats: 5 } }, tenants: [tenant.tenantId] });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ state: 'running', scope: { tenants: [tenant.tenantId] } });
    expect(started.body.pipeline_version).toMatch(/;s[0-9a-f]{12}$/);
    const run = await finished(started.body.replay_id);
    expect(run).toMatchObject({ state: 'finished', error: null });
    expect(run.records_read).toBe(run.records_total);

    const diff = await api(`/api/v1/replays/${run.replay_id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body.traces).toBe(5);
    expect(diff.body.total).toMatchObject({ added: 0, removed: 3 });
    const loop = diff.body.by_tenant[tenant.tenantId].loop;
    // The seven-call loop is still found (its confidence may move with the threshold).
    expect(loop).toMatchObject({ added: 0, removed: 3 });
    expect(loop.changed + loop.unchanged).toBe(1);
    expect([...loop.examples.removed].sort()).toEqual(['four-a', 'four-b', 'four-c']);
    expect(diff.body.by_tenant[other.tenantId]).toBeUndefined();

    // What is in force is untouched: the replay emitted nothing.
    expect((await tenantStageApi(tenant, '/detections?detection_type=loop')).body.length).toBe(loopsBefore);
    expect((await tenantStageApi(tenant, '/audit/verify')).body.checked).toBe(auditBefore);
  }, 90_000);

  it.runIf(enabled)('with the settings in force finds what is in force, and lists runs newest first', async () => {
    const started = await api('/api/v1/replays', 'POST', { tenants: [tenant.tenantId, other.tenantId] });
    expect(started.status).toBe(201);
    const run = await finished(started.body.replay_id);
    const diff = await api(`/api/v1/replays/${run.replay_id}/diff`);
    expect(diff.body.traces).toBe(6);
    expect(diff.body.total).toMatchObject({ added: 0, removed: 0, changed: 0 });
    expect(diff.body.total.unchanged).toBeGreaterThanOrEqual(5);
    const list = await api('/api/v1/replays');
    expect(list.body.items[0].replay_id).toBe(run.replay_id);
    // An ended run is removed, state and all.
    const removed = await api(`/api/v1/replays/${run.replay_id}`, 'DELETE');
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ replay_id: run.replay_id, state: 'finished' });
    expect((await api(`/api/v1/replays/${run.replay_id}`)).status).toBe(404);
    expect((await api('/api/v1/replays')).body.items.map((r: { replay_id: string }) => r.replay_id)).not.toContain(run.replay_id);
  }, 90_000);

  it.runIf(enabled)('tracefold replay start follows the run with progress lines and prints the diff', async () => {
    const env = { ...process.env, TRACEFOLD_URL: server.url };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'replay', 'start', '--tenant', tenant.tenantId, '--settings', '{"loop":{"minRepeats":5}}'], { env, timeout: 60_000 });
    const [id, summary] = stdout.split('\n');
    expect(stderr).toContain(`replay ${id} started`);
    expect(stderr).toMatch(/\] 100% (\d+)\/\1 records/);
    expect(summary).toMatch(/^5 traces replayed, \d+ with other detections: 0 added, 3 removed/);
    expect(stdout).toContain(`${tenant.tenantId} loop: +0 -3`);
    const status = await promisify(execFile)(process.execPath, [bin, 'replay', 'status', id!], { env, timeout: 30_000 });
    expect(status.stdout).toContain(`${id} finished`);
    const bad = await promisify(execFile)(process.execPath, [bin, 'replay', 'start', '--settings', '{"lop":{}}'], { env, timeout: 30_000 }).catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('detector lop: no such detector');
  }, 90_000);

  it.runIf(enabled)('refuses bad settings and scopes naming the field, and an unknown run with 404', async () => {
    const bad = await api('/api/v1/replays', 'POST', { settings: { loop: { minRepeat: 5 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('detector loop: minRepeat: unknown setting');
    const badRange = await api('/api/v1/replays', 'POST', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect(badRange.status).toBe(400);
    expect(badRange.body.message).toContain('body.to');
    const unknownField = await api('/api/v1/replays', 'POST', { tenant: 'x' });
    expect(unknownField.status).toBe(400);
    expect((await api('/api/v1/replays/nope')).status).toBe(404);
  }, 90_000);

  it.runIf(enabled)('a run interrupted by a restart goes on from its state and ends with the same diff', async () => {
    const started = await api('/api/v1/replays', 'POST', { settings: { loop: { minRepeats: 5 } }, tenants: [tenant.tenantId, other.tenantId] });
    expect(started.status).toBe(201);
    await server.stop();
    server = await startServer(env, dataDir);
    const run = await finished(started.body.replay_id);
    expect(run.state).toBe('finished');
    const diff = await api(`/api/v1/replays/${run.replay_id}/diff`);
    expect(diff.body.traces).toBe(6);
    expect(diff.body.total).toMatchObject({ added: 0, removed: 4 });
    expect([...diff.body.by_tenant[other.tenantId].loop.examples.removed]).toEqual(['other-four']);
  }, 90_000);

  /** The tenant's detections as a subscriber holds them: upserted by id, withdrawals applied. */
  async function subscriberView(tenantId: string): Promise<string[]> {
    // Values as the server framed them: through the registry when it has one.
    const codecs = await createCodecs(createSchemaIds(env.TRACEFOLD_SCHEMA_REGISTRY_URL ?? null));
    const held = new Set<string>();
    for (const record of await readRecords(server.tracefold.log, TOPICS.detections, (r) => parseTraceKey(r.key)?.tenantId === tenantId)) {
      const d = await codecs.detection.decode(record.value!);
      if (d.withdrawn === undefined) held.add(d.id);
      else held.delete(d.id);
    }
    return [...held].sort();
  }

  async function apiView(t: typeof tenant): Promise<string[]> {
    const all = (await tenantStageApi(t, '/detections?limit=500')).body as { id: string }[];
    return all.map((d) => d.id).sort();
  }

  async function auditRecords(tenantId: string) {
    return new ViewQueries(server.tracefold.views!.readStore, await createCodecs(createSchemaIds(env.TRACEFOLD_SCHEMA_REGISTRY_URL ?? null))).auditRecords(tenantId);
  }

  it.runIf(enabled)('promotes a run: the API and the topic show its loops withdrawn, one audit fact, baselines as they were; rollback restores them', async () => {
    const loopsBefore = ((await tenantStageApi(tenant, '/detections?detection_type=loop')).body as { trace_id: string }[]).map((d) => d.trace_id).sort();
    expect(loopsBefore).toEqual(['four-a', 'four-b', 'four-c', 'seven']);
    const inForce = await apiView(tenant);
    expect(await subscriberView(tenant.tenantId)).toEqual(inForce);
    const otherInForce = await apiView(other);
    const auditBefore = (await tenantStageApi(tenant, '/audit/verify')).body.checked as number;
    const baselinesBefore = (await tenantStageApi(tenant, '/baselines')).body;

    const started = await api('/api/v1/replays', 'POST', { settings: { loop: { minRepeats: 5 } }, tenants: [tenant.tenantId, other.tenantId] });
    const run = await finished(started.body.replay_id);
    // Not before it has finished; a tenant at a time, and not twice.
    const promoted = await api(`/api/v1/replays/${run.replay_id}/promote`, 'POST', { tenants: [tenant.tenantId] });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body.promotions).toEqual([
      expect.objectContaining({ tenant_id: tenant.tenantId, rolled_back_at: null, withdrawn: 3, skipped: 0, digest: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    ]);
    expect((await api(`/api/v1/replays/${run.replay_id}/promote`, 'POST', { tenants: [tenant.tenantId] })).status).toBe(409);
    expect((await api(`/api/v1/replays/${run.replay_id}`, 'DELETE')).status, 'a promoted run is not removed').toBe(409);

    // What is in force: the loops of four calls are gone from the lists, the detail and the topic.
    const loopsAfter = ((await tenantStageApi(tenant, '/detections?detection_type=loop')).body as { trace_id: string }[]).map((d) => d.trace_id);
    expect(loopsAfter).toEqual(['seven']);
    const detail = await tenantStageApi(tenant, '/traces/four-a');
    expect((detail.body.detections as { detection_type: string }[]).map((d) => d.detection_type)).not.toContain('loop');
    const promotedView = await apiView(tenant);
    expect(promotedView.length).toBe(inForce.length - 3);
    expect(await subscriberView(tenant.tenantId)).toEqual(promotedView);
    // The other tenant was not named: untouched.
    expect(await apiView(other)).toEqual(otherInForce);
    expect((await api(`/api/v1/replays/${run.replay_id}/diff`)).body.by_tenant[tenant.tenantId].loop).toMatchObject({ added: 0, removed: 0 });

    // One audit fact carrying the digest; the chain still verifies; baselines did not move.
    await waitFor(async () => ((await tenantStageApi(tenant, '/audit/verify')).body.checked === auditBefore + 1 ? true : null), { timeoutMs: 30_000, intervalMs: 200 });
    const verify = (await tenantStageApi(tenant, '/audit/verify')).body;
    expect(verify).toMatchObject({ ok: true, checked: auditBefore + 1 });
    const fact = (await auditRecords(tenant.tenantId)).at(-1)!;
    expect(fact.type).toBe('replay_promoted');
    expect(JSON.parse(fact.payloadJson)).toMatchObject({ replayId: run.replay_id, diffDigest: promoted.body.promotions[0].digest, withdrawn: 3 });
    expect((await tenantStageApi(tenant, '/baselines')).body).toEqual(baselinesBefore);

    // Rollback: the earlier detections stand again, on the API and the topic; one more fact.
    const rolledBack = await api(`/api/v1/replays/${run.replay_id}/rollback`, 'POST', {});
    expect(rolledBack.status, JSON.stringify(rolledBack.body)).toBe(200);
    expect(rolledBack.body.promotions[0].rolled_back_at).not.toBeNull();
    expect(await apiView(tenant)).toEqual(inForce);
    expect(await subscriberView(tenant.tenantId)).toEqual(inForce);
    await waitFor(async () => ((await tenantStageApi(tenant, '/audit/verify')).body.checked === auditBefore + 2 ? true : null), { timeoutMs: 30_000, intervalMs: 200 });
    expect((await auditRecords(tenant.tenantId)).at(-1)!.type).toBe('replay_rolled_back');
    expect((await api(`/api/v1/replays/${run.replay_id}/rollback`, 'POST', {})).status).toBe(409);
    expect((await api(`/api/v1/replays/${run.replay_id}`, 'DELETE')).status).toBe(200);
    expect((await tenantStageApi(tenant, '/baselines')).body).toEqual(baselinesBefore);
  }, 120_000);
});
