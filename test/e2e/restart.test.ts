/**
 * Restart safety: ingest, stop the process before any window closes (gracefully, and with
 * SIGKILL), start again on the same data dir: every accepted span is assembled exactly
 * once and no detection is emitted twice.
 */
import { describe, expect, it } from 'vitest';
import { createCodecs, LocalSchemaIds } from '../../src/log/serde/index.js';
import { TOPICS } from '../../src/log/topics.js';
import { startChild } from '../support/child.js';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, tempDir } from '../support/server.js';
import { readTopic } from '../support/topic-reader.js';


const TRACES = ['restart-a', 'restart-b', 'restart-c'];
const CALLS = 4; // + 1 root span per trace

describe.each(['SIGTERM', 'SIGKILL'] as const)('restart after %s before windows close', (signal) => {
  it('assembles every accepted span exactly once and emits each detection once', async () => {
    const dataDir = await tempDir(`restart-${signal}`);
    const env = { TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_INACTIVITY_GAP_MS: '600000' };

    const first = await startChild(env);
    const tenant = await createTenant(first.url);
    for (const traceId of TRACES) {
      const res = await request(`${first.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace(traceId, CALLS) });
      expect(res.status).toBe(200);
    }
    // A re-sent batch: the same spans again must not be assembled twice.
    const resend = await request(`${first.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace(TRACES[0]!, CALLS) });
    expect(resend.status).toBe(200);
    expect(await first.kill(signal)).toBe(signal === 'SIGKILL' ? 'SIGKILL' : 0);

    const second = await startChild(env);
    try {
      // Credentials issued before the restart still work: tenants live in the log.
      for (const traceId of TRACES) {
        const res = await request(`${second.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.revision).toBe(1);
        expect(res.body.all_detections.map((d: { detection_type: string }) => d.detection_type)).toEqual(['loop']);
        const trace = await request(`${second.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}`, 'GET', { token: tenant.token });
        expect(trace.body.span_count).toBe(CALLS + 1);
      }
    } finally {
      await second.kill('SIGTERM');
    }

    const codecs = await createCodecs(new LocalSchemaIds());
    const traces = await Promise.all((await readTopic(dataDir, TOPICS.traces)).map((r) => codecs.trace.decode(r.value!)));
    expect(traces.map((t) => t.traceId).sort()).toEqual([...TRACES].sort());
    for (const t of traces) expect(new Set(t.spans.map((s) => s.spanId)).size).toBe(t.spans.length);
    const detections = await Promise.all((await readTopic(dataDir, TOPICS.detections)).map((r) => codecs.detection.decode(r.value!)));
    // One final detection per trace; a live copy fired before the close is confirmed by it
    // (same id) and is never emitted twice either.
    const finals = detections.filter((d) => !d.live);
    const lives = detections.filter((d) => d.live);
    expect(finals).toHaveLength(TRACES.length);
    expect(new Set(finals.map((d) => d.id)).size).toBe(TRACES.length);
    expect(new Set(lives.map((d) => d.id)).size).toBe(lives.length);
    for (const live of lives) expect(finals.map((d) => d.id)).toContain(live.id);
  });
});
