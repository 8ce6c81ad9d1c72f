import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../src/http/prometheus/metrics.js';
import { createDetectors, detectorVersions } from '../../../../src/detectors/registry.js';
import type { CanonicalSpan } from '../../../../src/model/span.js';
import { analyzeWindow, type ClosedWindow } from '../../../../src/stages/trace/analyze.js';
import { spanDigest } from '../../../../src/stages/trace/digest.js';
import { canonicalSpan, double, int, type SpanInit } from '../../semantic/fixtures.js';

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;
const PIPELINE = 'm1;loop@1,span_errors@1';

function span(init: SpanInit): CanonicalSpan {
  return canonicalSpan({ tenantId: 'acme', traceId: 'trace-42', resource: { 'service.name': 'support-bot' }, ...init });
}

function toolSpan(spanId: string, startMs: bigint, extra: SpanInit = {}): CanonicalSpan {
  return span({
    spanId,
    parentSpanId: 'root',
    name: 'execute_tool search',
    start: T0 + startMs * MS,
    end: T0 + (startMs + 10n) * MS,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search',
      'gen_ai.tool.call.arguments': '{"q":"refund policy"}',
      'gen_ai.agent.name': 'planner',
    },
    ...extra,
  });
}

/**
 * A run with a root agent span, two model calls on two models, a loop of three identical
 * searches and a failing fetch that ends after the root.
 */
function sampleSpans(firstModel = 'gpt-4o'): CanonicalSpan[] {
  return [
    span({
      spanId: 'root',
      name: 'agent run',
      start: T0,
      end: T0 + 400n * MS,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' },
    }),
    span({
      spanId: 'c1',
      parentSpanId: 'root',
      name: 'chat',
      start: T0 + 10n * MS,
      end: T0 + 100n * MS,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': firstModel,
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.agent.name': 'planner',
      },
    }),
    toolSpan('t1', 110n),
    toolSpan('t2', 130n),
    toolSpan('t3', 150n),
    span({
      spanId: 'c2',
      parentSpanId: 'root',
      name: 'chat',
      start: T0 + 200n * MS,
      end: T0 + 300n * MS,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'claude-3-5-sonnet',
        'gen_ai.usage.input_tokens': double(50),
        'gen_ai.usage.output_tokens': '10',
        'gen_ai.agent.name': 'writer',
      },
    }),
    span({
      spanId: 't4',
      parentSpanId: 'root',
      name: 'execute_tool fetch',
      start: T0 + 350n * MS,
      end: T0 + 600n * MS,
      status: { code: 2, message: 'HTTP 503' },
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch', 'gen_ai.agent.name': 'writer' },
    }),
  ];
}

function window(spans: readonly CanonicalSpan[], revision = 1): ClosedWindow {
  return {
    tenantId: 'acme',
    traceId: 'trace-42',
    revision,
    closeReason: 'inactivity',
    closeRequestId: '',
    closedAtMs: 1_700_000_060_000,
    spans,
  };
}

const analyze = (spans: readonly CanonicalSpan[], revision = 1) => analyzeWindow(window(spans, revision), createDetectors(), PIPELINE);

describe('analyzeWindow: detections', () => {
  it('gives the same detection and metrics ids for the same input', () => {
    const a = analyze(sampleSpans());
    const b = analyze(sampleSpans());
    expect(a.detections.length).toBeGreaterThan(0);
    expect(b.detections.map((d) => d.id)).toEqual(a.detections.map((d) => d.id));
    expect(b.metrics.id).toBe(a.metrics.id);
  });

  it('gives different ids for another revision of the same trace', () => {
    const first = analyze(sampleSpans(), 1);
    const second = analyze(sampleSpans(), 2);
    const firstIds = new Set(first.detections.map((d) => d.id));
    expect(second.detections).toHaveLength(first.detections.length);
    for (const d of second.detections) {
      expect(firstIds.has(d.id)).toBe(false);
      expect(d.revision).toBe(2);
    }
    expect(second.metrics.id).not.toBe(first.metrics.id);
  });

  it('gives distinct ids to distinct detections', () => {
    const ids = analyze(sampleSpans()).detections.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks the first standing detection, and only it, as primary; subsumed ones point at what explains them', () => {
    const { detections, trace } = analyze(sampleSpans());
    // The failed call's service error explains its tool failure and takes its severity.
    expect(detections.map((d) => d.detectionType)).toEqual(['service_error', 'loop', 'tool_failure']);
    expect(detections.map((d) => d.primary)).toEqual([true, false, false]);
    expect(detections.map((d) => d.severity)).toEqual(['high', 'medium', 'high']);
    expect(detections.map((d) => d.subsumedBy)).toEqual([null, null, detections[0]!.id]);
    expect(trace.detectionIds).toEqual(detections.map((d) => d.id));
  });

  it('fills each detection from its finding and the window', () => {
    const loop = analyze(sampleSpans()).detections.find((d) => d.detectionType === 'loop')!;
    expect(loop).toMatchObject({
      tenantId: 'acme',
      traceId: 'trace-42',
      revision: 1,
      pipelineVersion: PIPELINE,
      detectorId: 'loop',
      detectorVersion: detectorVersions().loop,
      confidence: 0.7,
      confidenceTier: 'likely',
      severity: 'medium',
      affectedSpanIds: ['t1', 't2', 't3'],
      agent: 'planner',
      live: false,
      detectedAtMs: 1_700_000_060_000,
    });
    expect(JSON.parse(loop.evidence[0]!.dataJson)).toMatchObject({ tool: 'search', repeats: 3 });
  });

  it('gives no detections for a clean run', () => {
    const clean = sampleSpans().filter((s) => s.spanId !== 't4' && s.spanId !== 't3');
    expect(analyze(clean).detections).toEqual([]);
  });

  // Five identical calls give 0.7 + 0.05 * 2, which is 0.7999999999999999 in floating point:
  // the record shows confidence 0.8 (rounded) but the tier is computed from the unrounded value.
  it('puts a detection whose reported confidence is 0.8 in the high tier', () => {
    const spans = [...sampleSpans().slice(0, 5), toolSpan('t5', 160n), toolSpan('t6', 170n)];
    const loop = analyze(spans).detections.find((d) => d.detectionType === 'loop')!;
    expect(loop.affectedSpanIds).toHaveLength(5);
    expect(loop.confidence).toBe(0.8);
    expect(loop.confidenceTier).toBe('high');
  });
});

describe('analyzeWindow: metrics and trace record', () => {
  it('counts spans, tokens, model and tool calls', () => {
    const { metrics } = analyze(sampleSpans());
    expect(metrics).toMatchObject({
      tenantId: 'acme',
      traceId: 'trace-42',
      revision: 1,
      pipelineVersion: PIPELINE,
      serviceName: 'support-bot',
      spanCount: 7,
      errorCount: 1,
      inputTokens: 150,
      outputTokens: 30,
      llmCallCount: 2,
      toolCallCount: 4,
    });
  });

  it('measures the duration from the earliest start to the latest end, even when a child outlives the root', () => {
    const { metrics, trace } = analyze(sampleSpans().reverse());
    expect(metrics.startTimeUnixNano).toBe(T0);
    expect(metrics.durationMs).toBe(600);
    expect(trace.startTimeUnixNano).toBe(T0);
    expect(trace.endTimeUnixNano).toBe(T0 + 600n * MS);
  });

  it('lists agents and models sorted and unique', () => {
    const { metrics } = analyze(sampleSpans());
    expect(metrics.agents).toEqual(['planner', 'writer']);
    expect(metrics.models).toEqual(['claude-3-5-sonnet', 'gpt-4o']);
  });

  it('says hasError when a span failed, and not otherwise', () => {
    expect(analyze(sampleSpans()).trace.hasError).toBe(true);
    const clean = analyze(sampleSpans().filter((s) => s.spanId !== 't4'));
    expect(clean.trace.hasError).toBe(false);
    expect(clean.metrics.errorCount).toBe(0);
  });

  it('names the root and the service, and carries the close details', () => {
    const { trace } = analyze(sampleSpans());
    expect(trace).toMatchObject({
      rootName: 'agent run',
      serviceName: 'support-bot',
      closeReason: 'inactivity',
      closedAtMs: 1_700_000_060_000,
      pipelineVersion: PIPELINE,
    });
    expect(trace.spans).toHaveLength(7);
  });
});

describe('analyzeWindow: digest', () => {
  it('does not depend on the order spans arrived in', () => {
    const spans = sampleSpans();
    const shuffled = [spans[3]!, spans[6]!, spans[0]!, spans[5]!, spans[1]!, spans[4]!, spans[2]!];
    const a = analyze(spans);
    const b = analyze(shuffled);
    expect(b.trace.digest).toBe(a.trace.digest);
    expect(b.trace.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.detections.map((d) => d.id)).toEqual(a.detections.map((d) => d.id));
    expect(spanDigest(shuffled)).toBe(spanDigest(spans));
  });

  it('changes when one attribute value changes', () => {
    expect(spanDigest(sampleSpans('gpt-4o-mini'))).not.toBe(spanDigest(sampleSpans('gpt-4o')));
    expect(analyze(sampleSpans('gpt-4o-mini')).trace.digest).not.toBe(analyze(sampleSpans('gpt-4o')).trace.digest);
  });

  it('changes when an attribute keeps its value but changes type', () => {
    const asInt = [span({ spanId: 'x', attributes: { n: int(1) } })];
    const asDouble = [span({ spanId: 'x', attributes: { n: double(1) } })];
    const asString = [span({ spanId: 'x', attributes: { n: '1' } })];
    const digests = new Set([spanDigest(asInt), spanDigest(asDouble), spanDigest(asString)]);
    expect(digests.size).toBe(3);
  });
});

describe('analyzeWindow: detectors run isolated', () => {
  it('a detector that throws loses only its own findings; the others stand and the failure is counted', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const throwing = { id: 'explodes', version: 1, detect: () => { throw new Error('detector bug'); } };
    const outputs = analyzeWindow(window(sampleSpans()), [throwing, ...createDetectors()], PIPELINE, () => 0, metrics.detectorRuns);
    expect(outputs.detections.map((d) => d.detectionType)).toEqual(analyze(sampleSpans()).detections.map((d) => d.detectionType));
    const text = await metrics.registry.metrics();
    expect(text).toContain('tracefold_detector_failures_total{detector="explodes"} 1');
    expect(text).toMatch(/tracefold_detector_duration_seconds_count\{detector="loop"\} 1/);
  });
});
