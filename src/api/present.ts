/**
 * API representations (snake_case). One function per resource,
 * so every route shows a resource the same way.
 */
import { failureScore } from '../detectors/failure-score.js';
import { failureScoreOf, maxSeverity, type TraceFacets } from '../views/trace-facets.js';
import type { Detection, FeedbackRecord } from '../model/outputs.js';
import type { CanonicalSpan, KeyValue } from '../model/span.js';
import { toPlain } from '../model/span.js';
import { toSemanticSpan } from '../semantic/mapper.js';
import { assembleTrace } from '../stages/trace/assemble.js';
import type { MetricsView } from '../views/queries.js';
import type { TraceSummary } from '../views/view-model.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function presentFeedback(f: FeedbackRecord) {
  return {
    id: f.id,
    detection_id: f.detectionId === '' ? null : f.detectionId,
    trace_id: f.traceId,
    detector: f.detectorId === '' ? null : f.detectorId,
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
    subsumed_by: d.subsumedBy,
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

type PresentedSpan = ReturnType<typeof presentSpan> & { orphan: boolean; cycle: boolean; children: PresentedNode[] };

/** Holds the spans whose parent is missing or whose parent link was cut to break a cycle. */
interface SyntheticRoot {
  readonly span_id: null;
  readonly name: string;
  readonly synthetic: true;
  readonly children: PresentedNode[];
}

type PresentedNode = PresentedSpan | SyntheticRoot;

/**
 * Spans as a tree (src/stages/trace/assemble.ts): children under their parent, roots at the
 * top, and after them, when there are any, a synthetic root holding orphans (parent never
 * seen, flagged `orphan`) and spans cut from a parent cycle (flagged `cycle`).
 */
export function spanTree(spans: readonly CanonicalSpan[]): PresentedNode[] {
  const tree = assembleTrace(spans);
  const orphans = new Set(tree.orphanSpanIds);
  const cycles = new Set(tree.cycleSpanIds);
  const nodes = new Map<string, PresentedSpan>();
  for (const s of spans) {
    if (!nodes.has(s.spanId)) nodes.set(s.spanId, { ...presentSpan(s), orphan: orphans.has(s.spanId), cycle: cycles.has(s.spanId), children: [] });
  }
  for (const [parent, children] of tree.children) {
    const node = nodes.get(parent)!;
    for (const id of children) node.children.push(nodes.get(id)!);
  }
  const top: PresentedNode[] = tree.roots.map((id) => nodes.get(id)!);
  if (tree.syntheticChildren.length > 0) {
    top.push({ span_id: null, name: '(missing parent)', synthetic: true, children: tree.syntheticChildren.map((id) => nodes.get(id)!) });
  }
  return top;
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
    truncated: t.truncated ?? false,
    orphan_span_ids: t.orphanSpanIds ?? [],
    cycle_span_ids: t.cycleSpanIds ?? [],
    closed_at: iso(t.closedAtMs),
    digest: t.digest,
  };
}

/** The run-level verdict of a revision's detections: the standing ones (not subsumed) count. */
export function standingFailureScore(detections: readonly Detection[]): number {
  return failureScore(detections.filter((d) => d.subsumedBy === null));
}

/** One row of the trace list, from the facets the views keep for it. */
export function presentTraceListItem(f: TraceFacets) {
  const detections = Object.values(f.detections);
  return {
    trace_id: f.traceId,
    revision: f.revision,
    service_name: f.serviceName,
    root_name: f.rootName,
    closed_at: f.closedAtMs === null ? null : iso(f.closedAtMs),
    start_time: f.startTimeMs === null ? null : iso(f.startTimeMs),
    duration_ms: f.durationMs,
    span_count: f.spanCount,
    has_error: f.hasError,
    agents: f.agents,
    models: f.models,
    cost_usd: f.costUsd,
    failure_count: detections.length,
    failure_score: failureScoreOf(f),
    detection_types: [...new Set(detections.map((d) => d.type))].sort(),
    max_severity: maxSeverity(f),
  };
}

export function presentMetrics(m: MetricsView) {
  // Views written before the metrics gained their later fields hold JSON without them.
  const v: Partial<MetricsView> = m;
  return {
    duration_ms: m.durationMs,
    critical_path_ms: v.criticalPathMs ?? null,
    critical_path_span_ids: v.criticalPathSpanIds ?? [],
    span_count: m.spanCount,
    llm_call_count: m.llmCallCount,
    tool_call_count: m.toolCallCount,
    agent_count: v.agentCount ?? m.agents.length,
    input_tokens: m.inputTokens,
    output_tokens: m.outputTokens,
    cached_input_tokens: v.cachedInputTokens ?? 0,
    cost_usd: v.costUsd ?? null,
    unpriced_models: v.unpricedModels ?? [],
    price_table: v.priceTable ?? null,
    error_count: m.errorCount,
    error_rate: v.errorRate ?? (m.spanCount === 0 ? 0 : m.errorCount / m.spanCount),
    tool_error_count: v.toolErrorCount ?? null,
    tool_error_rate: v.toolErrorRate ?? null,
    retry_count: v.retryCount ?? null,
    retry_rate: v.retryRate ?? null,
    blast_radius: v.blastRadius ?? null,
    files_written: v.filesWritten ?? [],
    agents: m.agents,
    models: m.models,
  };
}
