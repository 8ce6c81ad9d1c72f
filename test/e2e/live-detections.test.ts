/**
 * Live detection end to end: a detection fires while the run is still open, and the close
 * settles it: the same id comes back final, or, when the whole run no longer supports it,
 * the live detection is withdrawn. Windows here stay open until analyze closes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpPayload, invoiceCall, type SpanSpec } from '../support/otlp.js';
import { eventually } from '../support/poll.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const T0 = 1_700_000_000_000;

const call = (spanId: string, startMs: number, error?: string): SpanSpec => invoiceCall(spanId, startMs, error, T0);

describe('live detections', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_INACTIVITY_GAP_MS: '600000', TRACEFOLD_ROOT_SETTLE_MS: '600000' });
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server.stop();
  });

  const send = async (traceId: string, spans: SpanSpec[]) => {
    const res = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: otlpPayload(traceId, spans) });
    expect(res.status).toBe(200);
  };

  async function detectionsOf(traceId: string): Promise<any[]> {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/detections?limit=500`, 'GET', { token: tenant.token });
    expect(res.status).toBe(200);
    return (res.body as any[]).filter((d) => d.trace_id === traceId);
  }

  async function waitForDetection(traceId: string, type: string): Promise<{ detection: any; waitedMs: number }> {
    const started = Date.now();
    const detection = await eventually(`a live ${type} detection for ${traceId}`, async () => (await detectionsOf(traceId)).find((d) => d.detection_type === type), {
      intervalMs: 25,
    });
    return { detection, waitedMs: Date.now() - started };
  }

  const analyze = async (traceId: string) => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(res.status).toBe(200);
    return res.body;
  };

  it('fires while the run is open and is confirmed at close under the same id', async () => {
    await send('live-retry', [call('c1', 100, 'HTTP 500'), call('c2', 200, 'HTTP 500'), call('c3', 300, 'HTTP 500')]);
    const { detection: live, waitedMs } = await waitForDetection('live-retry', 'retry_storm');
    console.log(`live retry_storm visible through the API ${waitedMs} ms after ingest answered`);
    expect(live).toMatchObject({ live: true, primary: false, affected_span_ids: ['c1', 'c2', 'c3'] });

    const result = await analyze('live-retry');
    const storms = result.all_detections.filter((d: any) => d.detection_type === 'retry_storm');
    expect(storms).toHaveLength(1);
    expect(storms[0]).toMatchObject({ id: live.id, live: false });
    // Listing shows one copy of it too.
    expect((await detectionsOf('live-retry')).filter((d) => d.id === live.id)).toHaveLength(1);
  });

  it('withdraws a live detection that the whole run does not support', async () => {
    // Three failures in a row as far as the stage has seen...
    await send('live-withdrawn', [call('c1', 100, 'HTTP 500'), call('c2', 200, 'HTTP 500'), call('c4', 400, 'HTTP 500')]);
    const { detection: live } = await waitForDetection('live-withdrawn', 'retry_storm');
    // ...until a call that succeeded between them arrives late and breaks the run.
    await send('live-withdrawn', [call('c3', 300)]);
    const result = await analyze('live-withdrawn');
    expect(result.all_detections.map((d: any) => d.detection_type)).not.toContain('retry_storm');
    expect(result.all_detections.filter((d: any) => d.detection_type === 'tool_failure')).toHaveLength(3);
    expect((await detectionsOf('live-withdrawn')).map((d) => d.id)).not.toContain(live.id);
  });
});
