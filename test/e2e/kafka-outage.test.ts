/**
 * The broker goes away during ingest: tracefold answers 503 with Retry-After, never 202
 * for data it could not append, and ingest resumes when the broker is back. Runs its own
 * local broker (scripts/kafka.sh on a dedicated port) so stopping it disturbs no other
 * suite.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { startChild, type ChildServer } from '../support/child.js';
import { describeKafka } from '../support/kafka.js';
import { loopingTrace } from '../support/otlp.js';
import { eventually } from '../support/poll.js';
import { createTenant, request, tempDir } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Its own broker, stopped and started by the test; KAFKA_OUTAGE_PORT moves it off the default.
const PORT = Number(process.env.KAFKA_OUTAGE_PORT ?? 19392);
const brokerEnv = { ...process.env, KAFKA_PORT: String(PORT), KAFKA_HOME_DIR: path.join(root, '.cache', 'kafka-outage') };
const kafka = (command: 'start' | 'stop') =>
  promisify(execFile)(path.join(root, 'scripts', 'kafka.sh'), [command], { env: brokerEnv, timeout: 120_000 });

describeKafka('ingest while the broker is down', () => {
  let server: ChildServer;

  beforeAll(async () => {
    await kafka('start');
    server = await startChild({
      TRACEFOLD_KAFKA_BROKERS: `127.0.0.1:${PORT}`,
      TRACEFOLD_JWT_SECRET: 'outage-secret-0123456789-abcdefghijkl',
      TRACEFOLD_DATA_DIR: await tempDir('outage'),
      TRACEFOLD_INACTIVITY_GAP_MS: '60000',
    });
  }, 180_000);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await kafka('stop');
  }, 60_000);

  it('answers 503 with Retry-After while the broker is away and accepts again once it is back', async () => {
    onTestFailed(() => console.log(`tracefold output:\n${server.output()}`));
    const tenant = await createTenant(server.url, 'outage');
    const before = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('before-outage', 3) });
    expect(before.status).toBe(200);

    await kafka('stop');
    const started = Date.now();
    const during = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('during-outage', 3) });
    expect(during.status).toBe(503);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(during.body.error).toBe('LOG_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(30_000);
    // Readiness probes the cluster at most once a second: it turns within a few seconds.
    await expect.poll(async () => (await request(`${server.url}/readyz`, 'GET')).status, { timeout: 5_000, interval: 250 }).toBe(503);

    await kafka('start');
    await expect
      .poll(async () => (await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('after-outage', 3) })).status, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe(200);

    for (const traceId of ['before-outage', 'after-outage']) {
      // After an outage the trace stage rejoins its group and catches up; until then analyze
      // answers 503 with Retry-After, and a client retries as this one does.
      const retryAfter: number[] = [];
      const analysis = await eventually(`analyze of ${traceId} to answer other than 503`, async () => {
        const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
        if (res.status !== 503) return res;
        retryAfter.push(Number(res.headers.get('retry-after')));
        return undefined;
      }, { timeoutMs: 12_000, intervalMs: 1000 });
      expect(retryAfter.filter((seconds) => !(seconds >= 1)), 'every 503 carries a Retry-After of a second or more').toEqual([]);
      expect(analysis.status, JSON.stringify(analysis.body)).toBe(200);
      expect(analysis.body.primary_failure.detection_type).toBe('loop');
    }
    // What was refused was not half-accepted behind the client's back.
    const refused = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/during-outage/analyze`, 'POST', { token: tenant.token });
    expect(refused.status).toBe(404);
  }, 240_000);
});
