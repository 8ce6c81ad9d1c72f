/**
 * API representations (snake_case, DESIGN.md "Views and API"). One function per resource,
 * so every route shows a resource the same way.
 */
import type { Detection, FeedbackRecord } from '../model/outputs.js';
import type { CanonicalSpan, KeyValue } from '../model/span.js';
import { toPlain } from '../model/span.js';
import { toSemanticSpan } from '../semantic/mapper.js';
import type { MetricsView } from '../views/queries.js';
import type { TraceSummary } from '../views/view-model.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function presentFeedback(f: FeedbackRecord) {
  return {
    id: f.id,
    detection_id: f.detectionId,
    trace_id: f.traceId,
    feedback_type: f.feedbackType,
    comment: f.comment,
    created_at: iso(f.createdAtMs),
  };
}

export function presentDetection(d: Detection, feedback: readonly FeedbackRecord[] = []) {
  return {
    id: d.id,
    trace_id: d.traceId,
    revision: d.revision,
    detection_type: d.detectionType,
    detector: { id: d.detectorId, version: d.detectorVersion },
    pipeline_version: d.pipelineVersion,
    title: d.title,
    description: d.description,
    confidence: d.confidence,
    confidence_tier: d.confidenceTier,
    severity: d.severity,
    evidence: d.evidence.map((e) => ({ description: e.description, span_ids: e.spanIds, data: JSON.parse(e.dataJson) as unknown })),
    affected_span_ids: d.affectedSpanIds,
    agent: d.agent,
    suggested_fix: d.suggestedFix,
    live: d.live,
    primary: d.primary,
    detected_at: iso(d.detectedAtMs),
    feedback: feedback.map(presentFeedback),
  };
}

function attributes(list: readonly KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(list.map((kv) => [kv.key, toPlain(kv.value)]));
}

const nanosToIso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

function presentSpan(span: CanonicalSpan) {
  const semantic = toSemanticSpan(span);
  return {
    span_id: span.spanId,
    parent_span_id: span.parentSpanId || null,
    name: span.name,
    kind: span.kind,
    start_time: nanosToIso(span.startTimeUnixNano),
    end_time: nanosToIso(span.endTimeUnixNano),
    start_time_unix_nano: span.startTimeUnixNano.toString(),
    end_time_unix_nano: span.endTimeUnixNano.toString(),
    duration_ms: Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6,
    status: { code: span.status.code, message: span.status.message },
    operation: semantic.operation,
    agent: semantic.agentName,
    model: semantic.model,
    tool: semantic.toolName,
    input_tokens: semantic.inputTokens,
    output_tokens: semantic.outputTokens,
    attributes: attributes(span.attributes),
    events: span.events.map((e) => ({ name: e.name, time: nanosToIso(e.timeUnixNano), attributes: attributes(e.attributes) })),
    links: span.links.map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: attributes(l.attributes) })),
    resource: attributes(span.resource.attributes),
    scope: { name: span.scope.name, version: span.scope.version },
  };
}

type PresentedSpan = ReturnType<typeof presentSpan> & { children: PresentedSpan[] };

/** Spans as a tree: children under their parent, spans whose parent is missing at the top. */
export function spanTree(spans: readonly CanonicalSpan[]): PresentedSpan[] {
  const sorted = [...spans].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
  const nodes = new Map<string, PresentedSpan>();
  for (const s of sorted) nodes.set(s.spanId, { ...presentSpan(s), children: [] });
  const roots: PresentedSpan[] = [];
  for (const s of sorted) {
    const node = nodes.get(s.spanId)!;
    const parent = s.parentSpanId === '' || s.parentSpanId === s.spanId ? undefined : nodes.get(s.parentSpanId);
    if (parent === undefined) roots.push(node);
    else parent.children.push(node);
  }
  return roots;
}

export function presentTraceSummary(t: TraceSummary) {
  return {
    trace_id: t.traceId,
    revision: t.revision,
    pipeline_version: t.pipelineVersion,
    service_name: t.serviceName,
    root_name: t.rootName,
    start_time_unix_nano: t.startTimeUnixNano,
    end_time_unix_nano: t.endTimeUnixNano,
    has_error: t.hasError,
    span_count: t.spanCount,
    close_reason: t.closeReason,
    closed_at: iso(t.closedAtMs),
    digest: t.digest,
  };
}

export function presentMetrics(m: MetricsView) {
  return {
    duration_ms: m.durationMs,
    span_count: m.spanCount,
    error_count: m.errorCount,
    input_tokens: m.inputTokens,
    output_tokens: m.outputTokens,
    llm_call_count: m.llmCallCount,
    tool_call_count: m.toolCallCount,
    agents: m.agents,
    models: m.models,
  };
}
