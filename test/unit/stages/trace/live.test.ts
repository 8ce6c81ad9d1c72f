import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../../src/detectors/registry.js';
import type { CanonicalSpan } from '../../../../src/model/span.js';
import { toSemanticSpan } from '../../../../src/semantic/mapper.js';
import type { SemanticSpan } from '../../../../src/semantic/semantic-span.js';
import { analyzeWindow, detectionId } from '../../../../src/stages/trace/analyze.js';
import { applyLive, LIVE_SPANS_PER_DETECTOR, liveSavepoint, parseLiveState, planLive, serializeLiveState, type LiveState } from '../../../../src/stages/trace/live.js';
import { canonicalSpan, type SpanInit } from '../../semantic/fixtures.js';

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;
const TRACE = { tenantId: 'acme', traceId: 'trace-live', serviceName: 'svc' };
const detectors = createDetectors();

function tool(spanId: string, startMs: number, init: SpanInit = {}): CanonicalSpan {
  return canonicalSpan({
    tenantId: 'acme',
    traceId: 'trace-live',
    spanId,
    parentSpanId: 'root',
    name: 'execute_tool search',
    start: T0 + BigInt(startMs) * MS,
    end: T0 + BigInt(startMs + 10) * MS,
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': '{"q":"refunds"}' },
    ...init,
  });
}

/** What the trace stage does with one span: plan, then apply to the window's state. */
function liveStep(state: LiveState, span: SemanticSpan) {
  return applyLive(state, span, planLive(span, detectors, TRACE), TRACE);
}

/** Feeds spans one by one, through a serialised state as the stage keeps it. */
function feed(spans: readonly CanonicalSpan[]) {
  let state: LiveState = parseLiveState(null);
  const fired: { after: string; type: string; fingerprint: string; detectorId: string; version: number }[] = [];
  for (const span of spans) {
    for (const f of liveStep(state, toSemanticSpan(span))) {
      fired.push({ after: span.spanId, type: f.finding.detectionType, fingerprint: f.finding.fingerprint, detectorId: f.detectorId, version: f.detectorVersion });
    }
    state = parseLiveState(serializeLiveState(state));
  }
  return { fired, state };
}

describe('live detection', () => {
  it('fires a loop on the call that completes it, and only once', () => {
    const { fired } = feed([tool('t1', 10), tool('t2', 20), tool('t3', 30), tool('t4', 40)]);
    expect(fired.map((f) => [f.after, f.type])).toEqual([['t3', 'loop']]);
  });

  it('fires a failing call as soon as it arrives', () => {
    const { fired } = feed([tool('ok', 10, { attributes: { 'gen_ai.tool.name': 'fetch' } }), tool('bad', 20, { status: { code: 2, message: 'ENOENT' } })]);
    expect(fired.map((f) => [f.after, f.type])).toEqual([['bad', 'tool_failure']]);
  });

  it('gives a live finding the id the closed window gives the same finding', () => {
    const spans = [tool('t1', 10), tool('t2', 20), tool('t3', 30), tool('bad', 40, { status: { code: 2, message: 'boom' } })];
    const { fired } = feed(spans);
    const final = analyzeWindow(
      { tenantId: 'acme', traceId: 'trace-live', revision: 3, closeReason: 'analyze', closeRequestId: '', closedAtMs: 1, spans },
      detectors,
      'p',
    );
    const liveIds = fired.map((f) =>
      detectionId('acme', 'trace-live', 3, { detectorId: f.detectorId, detectorVersion: f.version, finding: { fingerprint: f.fingerprint } as never }),
    );
    expect(liveIds).toHaveLength(2);
    for (const id of liveIds) expect(final.trace.detectionIds).toContain(id);
  });

  it('keeps nothing for spans no live detector reads', () => {
    const chat = canonicalSpan({ spanId: 'c', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' } });
    const { state } = feed([chat]);
    expect(state).toEqual({ spans: {}, reported: {} });
  });

  it('replaces a re-sent span instead of counting it twice', () => {
    const { fired, state } = feed([tool('t1', 10), tool('t2', 20), tool('t2', 20), tool('t2', 20)]);
    expect(fired).toEqual([]);
    expect(state.spans.loop!.map((s) => s.spanId)).toEqual(['t1', 't2']);
  });

  it('holds a bounded number of spans per detector, then leaves the rest to the close', () => {
    const spans = Array.from({ length: LIVE_SPANS_PER_DETECTOR + 10 }, (_, i) =>
      tool(`t${i}`, i * 10, { attributes: { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': `{"q":${i}}` } }),
    );
    const { state } = feed(spans);
    expect(state.spans.loop).toHaveLength(LIVE_SPANS_PER_DETECTOR);
  });

  it('shortens long texts to head, digest and tail, so equal texts still match and different ones do not', () => {
    const long = (middle: string) => 'a'.repeat(5000) + middle + 'b'.repeat(5000) + 'END';
    const call = (id: string, at: number, middle: string) =>
      tool(id, at, { attributes: { 'gen_ai.tool.name': 'search', 'gen_ai.tool.call.arguments': long(middle) } });
    const { state, fired } = feed([call('t1', 10, 'x'), call('t2', 20, 'x'), call('t3', 30, 'y'), call('t4', 40, 'x')]);
    const kept = state.spans.loop!.map((s) => s.toolArguments as string);
    expect(kept[0]!.length).toBeLessThan(400);
    expect(kept[0]!.endsWith('END')).toBe(true);
    expect(kept[0]).toBe(kept[1]);
    expect(kept[2]).not.toBe(kept[0]);
    // Three identical long calls among four: the loop fires on the fourth.
    expect(fired.map((f) => [f.after, f.type])).toEqual([['t4', 'loop']]);
  });
});

describe('live detection: detectors run isolated', () => {
  it('a live detector that throws loses only its own findings, and each failure is reported', () => {
    const failures: string[] = [];
    const observer = { observe: (id: string, _seconds: number, error: unknown) => void (error !== undefined && failures.push(id)) };
    const throwing = { id: 'explodes', version: 1, detect: () => { throw new Error('detector bug'); }, live: { relevant: () => true, perSpan: true } };
    const span = toSemanticSpan(tool('a', 0));
    const isolated = planLive(span, [throwing, ...detectors], TRACE, observer);
    const alone = planLive(span, detectors, TRACE);
    expect(isolated.perSpan).toEqual(alone.perSpan);
    expect(isolated.stateful.map((d) => d.id)).toEqual(alone.stateful.map((d) => d.id));
    expect(failures).toEqual(['explodes']);
  });

  it('puts a state back as it was before a span was applied, from a savepoint taken with its plan', () => {
    const state = parseLiveState(null);
    for (let i = 0; i < 3; i++) liveStep(state, toSemanticSpan(tool(`t${i}`, i * 100)));
    const before = serializeLiveState(state).toString();
    const span = toSemanticSpan(tool('t3', 300));
    const plan = planLive(span, detectors, TRACE);
    expect(plan.stateful.length + plan.perSpan.length).toBeGreaterThan(0);
    const restore = liveSavepoint(state, plan);
    applyLive(state, span, plan, TRACE);
    expect(serializeLiveState(state).toString()).not.toBe(before);
    restore();
    expect(serializeLiveState(state).toString()).toBe(before);
  });
});
