import { describe, expect, it } from 'vitest';
import { createMetrics, rejectionReason } from '../../../src/http/prometheus/metrics.js';
import type { Log } from '../../../src/log/port.js';
import type { TraceStageStats } from '../../../src/stages/trace/trace-stage.js';
import { Positions } from '../../../src/runtime/positions.js';
import type { Views } from '../../../src/views/views.js';

/** `name{labels} value` lines of the exposition text, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describe('rejectionReason', () => {
  it('maps statuses and error codes to reasons', () => {
    expect(rejectionReason(400, 'INVALID_REQUEST')).toBe('bad_request');
    expect(rejectionReason(400, 'FST_ERR_CTP_INVALID_JSON_BODY')).toBe('bad_request');
    expect(rejectionReason(401, 'UNAUTHORIZED')).toBe('unauthorized');
    expect(rejectionReason(403, undefined)).toBe('forbidden');
    expect(rejectionReason(404, 'NOT_FOUND')).toBe('not_found');
    expect(rejectionReason(413, 'FST_ERR_CTP_BODY_TOO_LARGE')).toBe('too_large');
    expect(rejectionReason(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE')).toBe('unsupported_media_type');
    expect(rejectionReason(429, 'RATE_LIMITED')).toBe('rate_limited');
    expect(rejectionReason(503, 'BUFFER_FULL')).toBe('buffer_full');
    expect(rejectionReason(503, 'LOG_UNAVAILABLE')).toBe('log_unavailable');
    expect(rejectionReason(503, 'TIMEOUT')).toBe('timeout');
    expect(rejectionReason(500, 'INTERNAL')).toBe('internal');
    expect(rejectionReason(422, undefined)).toBe('client_error');
  });
});

describe('createMetrics', () => {
  it('keeps each registry apart and carries no process metrics when asked not to', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.spansAccepted.inc(5);
    expect(samples(await a.registry.metrics()).get('tracefold_ingest_spans_accepted_total')).toBe(5);
    expect(samples(await b.registry.metrics()).get('tracefold_ingest_spans_accepted_total')).toBe(0);
    expect(await a.registry.metrics()).not.toContain('process_cpu');
    expect(await createMetrics().registry.metrics()).toContain('tracefold_process_cpu_seconds_total');
  });

  it('reads the trace stage counters at each scrape', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const stats: TraceStageStats = { spansAssembled: 7, duplicateSpans: 1, replacedSpans: 2, windowsClosed: 2, lateSpansDeadLettered: 0, detectionsEmitted: 3, liveDetectionsEmitted: 2, detectionsSuppressed: 1, detectionsByType: { loop: 2, tool_failure: 1 }, windowsFailed: 0 };
    let open = 4;
    metrics.observeTraceStage(stats, () => open, async () => 7);
    let read = samples(await metrics.registry.metrics());
    expect(read.get('tracefold_trace_spans_assembled_total')).toBe(7);
    expect(read.get('tracefold_trace_windows_closed_total')).toBe(2);
    expect(read.get('tracefold_trace_live_detections_emitted_total')).toBe(2);
    expect(read.get('tracefold_trace_detections_suppressed_total')).toBe(1);
    expect(read.get('tracefold_trace_open_windows')).toBe(4);
    expect(read.get('tracefold_trace_stage_lag_records')).toBe(7);
    expect(await metrics.registry.metrics()).toContain('tracefold_detections_emitted_total{detection_type="loop"} 2');
    open = 1;
    expect(samples(await metrics.registry.metrics()).get('tracefold_trace_open_windows')).toBe(1);
    stats.spansAssembled = 12;
    stats.lateSpansDeadLettered = 4;
    read = samples(await metrics.registry.metrics());
    expect(read.get('tracefold_trace_spans_assembled_total')).toBe(12);
    expect(read.get('tracefold_trace_duplicate_spans_total')).toBe(1);
    expect(read.get('tracefold_trace_replaced_spans_total')).toBe(2);
    expect(read.get('tracefold_trace_late_spans_dead_lettered_total')).toBe(4);
    expect(read.get('tracefold_trace_detections_emitted_total')).toBe(3);
  });

  it('reports view lag per topic, and keeps the last value when the log does not answer', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const positions = new Positions();
    positions.set('tracefold.traces.v1', 0, 3);
    const views = { topics: ['tracefold.traces.v1'], positions } as unknown as Views;
    let answer: () => Promise<number[]> = async () => [10, 5];
    const log = { endOffsets: () => answer() } as unknown as Log;
    metrics.observeViews(views, log);
    expect(samples(await metrics.registry.metrics()).get('tracefold_view_lag_records{topic="tracefold.traces.v1"}')).toBe(12);
    answer = () => Promise.reject(new Error('down'));
    expect(samples(await metrics.registry.metrics()).get('tracefold_view_lag_records{topic="tracefold.traces.v1"}')).toBe(12);
  });

  it('counts spans rejected by reason, ignoring empty counts', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.countSpansRejected('rate_limited', 4);
    metrics.countSpansRejected('invalid_span', 0);
    const read = samples(await metrics.registry.metrics());
    expect(read.get('tracefold_ingest_spans_rejected_total{reason="rate_limited"}')).toBe(4);
    expect(read.has('tracefold_ingest_spans_rejected_total{reason="invalid_span"}')).toBe(false);
  });
});
