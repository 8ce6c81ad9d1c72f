/**
 * Redelivery is absorbed by the views on both transports: output records delivered again
 * (a retried producer, a replay, a consumer that lost its position) change nothing a
 * client sees: no duplicate traces or detections through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/log/port.js';
import { TOPICS } from '../../src/log/topics.js';
import { kafkaBrokers, registryEnv } from '../support/kafka.js';
import { loopingTrace } from '../support/otlp.js';
import { readRecords } from '../support/topic-reader.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

/** Every record of `topic` whose key starts with `prefix`. */
function readBack(server: TestServer, topic: string, prefix: string): Promise<LogRecord[]> {
  return readRecords(server.tracefold.log, topic, (r) => r.key?.toString().startsWith(prefix) ?? false);
}

const transports = [
  { name: 'embedded', env: {} as Record<string, string>, enabled: true },
  {
    name: 'kafka',
    env: { TRACEFOLD_KAFKA_BROKERS: kafkaBrokers().join(','), TRACEFOLD_JWT_SECRET: 'redelivery-secret-0123456789-abcdefgh', ...registryEnv() },
    enabled: kafkaBrokers().length > 0,
  },
];

describe.each(transports)('redelivered outputs on the $name log', ({ env, enabled }) => {
  let server: TestServer;

  beforeAll(async () => {
    if (enabled) server = await startServer({ ...env, TRACEFOLD_INACTIVITY_GAP_MS: '60000' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.runIf(enabled)('leaves one trace and one detection visible', async () => {
    const tenant = await createTenant(server.url, 'redelivery');
    const traceId = `redelivered-${Date.now()}`;
    const ingest = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace(traceId, 4) });
    expect(ingest.status).toBe(200);
    const first = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(first.status).toBe(200);
    expect(first.body.failure_count).toBe(1);

    const prefix = `${tenant.tenantId}/${traceId}`;
    for (const topic of [TOPICS.traces, TOPICS.detections, TOPICS.metrics]) {
      const records = await readBack(server, topic, prefix);
      expect(records.length, topic).toBeGreaterThan(0);
      // Deliver the same records again, twice.
      const again = records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
      await server.tracefold.log.append(topic, [...again, ...again]);
    }
    await server.tracefold.views!.catchUp([TOPICS.traces, TOPICS.detections, TOPICS.metrics], 10_000);

    const list = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/detections`, 'GET', { token: tenant.token });
    expect(list.body.filter((d: any) => d.trace_id === traceId)).toHaveLength(1);
    const detail = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
    expect(detail.body.revision).toBe(1);
    expect(detail.body.span_count).toBe(5);
    expect(detail.body.detections).toHaveLength(1);
    const again = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(again.body.all_detections.map((d: any) => d.id)).toEqual(first.body.all_detections.map((d: any) => d.id));
  }, 60_000);
});
