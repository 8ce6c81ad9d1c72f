/**
 * What happens to a closed window: semantic view → detectors → reconciliation → metrics,
 * producing the output records of one revision. Pure apart from the `closedAtMs` it is
 * given, so a replay of the same spans yields records with the same ids.
 */
import { dataCategoriesOf } from '../../semantic/data-categories.js';
import { createHash } from 'node:crypto';
import type { Detector } from '../../detectors/detector.js';
import { reconcileFindings, type RankedFinding } from '../../detectors/reconcile.js';
import { calibrate } from '../../calibration/calibration.js';
import { PRICE_TABLE, measureTrace } from '../../measures/trace-metrics.js';
import type { CloseReason, Detection, TraceMetrics, TraceRecord } from '../../model/outputs.js';
import { confidenceTier } from '../../model/outputs.js';
import type { CanonicalSpan } from '../../model/span.js';
import { foldLogRecords } from '../../semantic/genai-events.js';
import { toSemanticSpan, toSemanticTrace } from '../../semantic/mapper.js';
import type { SemanticSpan } from '../../semantic/semantic-span.js';
import { assembleTrace } from './assemble.js';
import { spanDigest } from './digest.js';
import type { TenantStageEvent } from '../../model/tenant-records.js';
import { detectionEmitted, tenantStageEvent } from '../tenant/events.js';
import { runDetector, type DetectorRunObserver } from './run-detector.js';

export interface ClosedWindow {
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly closeReason: CloseReason;
  readonly closeRequestId: string;
  /** Stream time at close: deterministic under replay. */
  readonly closedAtMs: number;
  readonly spans: readonly CanonicalSpan[];
  /** A span's semantic view if it was already made (live detection maps spans on arrival). */
  readonly semanticOf?: (span: CanonicalSpan) => SemanticSpan | undefined;
  /** The window reached its size cap; absent means false. */
  readonly truncated?: boolean;
}

export interface TraceOutputs {
  readonly trace: TraceRecord;
  readonly detections: readonly Detection[];
  readonly metrics: TraceMetrics;
  /** The facts the tenant stage records: the trace closed, each detection emitted. */
  readonly tenantEvents: readonly TenantStageEvent[];
  /** Findings this tenant's calibration kept from being emitted. */
  readonly suppressed: number;
}

function outputId(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

function roundConfidence(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The detection's id: the same finding of the same revision has it, live or final. */
export function detectionId(tenantId: string, traceId: string, revision: number, found: RankedFinding): string {
  return detectionIdOf(tenantId, traceId, revision, found.detectorId, found.detectorVersion, found.finding.fingerprint);
}

export function detectionIdOf(tenantId: string, traceId: string, revision: number, detectorId: string, detectorVersion: number, fingerprint: string): string {
  return outputId(tenantId, traceId, detectorId, detectorVersion, revision, fingerprint);
}

/** One finding as a detection record; live and final detections are made here alike. */
export function toDetection(
  ids: { readonly tenantId: string; readonly traceId: string; readonly revision: number; readonly pipelineVersion: string },
  found: RankedFinding,
  flags: { readonly live: boolean; readonly primary: boolean; readonly subsumedBy: string | null; readonly detectedAtMs: number },
): Detection {
  const { finding } = found;
  // The tier follows the confidence as reported, so 0.7999… shown as 0.8 is 'high'.
  const confidence = roundConfidence(finding.confidence);
  return {
    id: detectionId(ids.tenantId, ids.traceId, ids.revision, found),
    tenantId: ids.tenantId,
    traceId: ids.traceId,
    revision: ids.revision,
    pipelineVersion: ids.pipelineVersion,
    detectorId: found.detectorId,
    detectorVersion: found.detectorVersion,
    detectionType: finding.detectionType,
    title: finding.title,
    description: finding.description,
    confidence,
    confidenceTier: confidenceTier(confidence),
    severity: finding.severity,
    evidence: finding.evidence.map((e) => ({ description: e.description, spanIds: e.spanIds, dataJson: JSON.stringify(e.data) })),
    affectedSpanIds: finding.affectedSpanIds,
    agent: finding.agent,
    suggestedFix: finding.suggestedFix,
    live: flags.live,
    primary: flags.primary,
    subsumedBy: flags.subsumedBy,
    detectedAtMs: flags.detectedAtMs,
  };
}

/**
 * `shiftOf` gives this tenant's calibration per detector (src/calibration): findings lose
 * that much confidence, and those falling below the floor are not emitted. Each detector
 * runs isolated (run-detector.ts): one that throws loses its own findings, reported to
 * `observer`, and the others' stand.
 */
export function analyzeWindow(
  window: ClosedWindow,
  detectors: readonly Detector[],
  pipelineVersion: string,
  shiftOf: (detectorId: string) => number = () => 0,
  observer?: DetectorRunObserver,
): TraceOutputs {
  const { tenantId, traceId, revision } = window;
  const { semanticOf } = window;
  // OTLP log records (GenAI events) go back on their spans: the trace as the producer meant it.
  const spans = foldLogRecords(window.spans);
  const semantic = toSemanticTrace(tenantId, traceId, spans, semanticOf === undefined ? toSemanticSpan : (span) => semanticOf(span) ?? toSemanticSpan(span));
  const spanOrder = new Map(semantic.spans.map((s, i) => [s.spanId, i]));

  const found: RankedFinding[] = [];
  for (const detector of detectors) {
    for (const finding of runDetector(detector, semantic, observer) ?? []) {
      found.push({ detectorId: detector.id, detectorVersion: detector.version, finding });
    }
  }
  const { kept, suppressed } = calibrate(found, shiftOf);
  const reconciled = reconcileFindings(kept, spanOrder);
  const ids = { tenantId, traceId, revision, pipelineVersion };
  const detectionIds = reconciled.map((r) => detectionId(tenantId, traceId, revision, r));
  const detections: Detection[] = reconciled.map((r, index) =>
    toDetection(ids, r, {
      live: false,
      primary: index === 0 && r.subsumedBy === null,
      subsumedBy: r.subsumedBy === null ? null : detectionIds[r.subsumedBy]!,
      detectedAtMs: window.closedAtMs,
    }),
  );

  const measures = measureTrace(semantic, PRICE_TABLE);
  const tree = assembleTrace(spans);
  const root = semantic.spans.find((s) => s.parentSpanId === '') ?? semantic.spans[0];
  let end = 0n;
  for (const s of spans) if (s.endTimeUnixNano > end) end = s.endTimeUnixNano;

  const trace: TraceRecord = {
    tenantId,
    traceId,
    revision,
    pipelineVersion,
    closeReason: window.closeReason,
    closeRequestId: window.closeRequestId,
    closedAtMs: window.closedAtMs,
    serviceName: semantic.serviceName,
    rootName: root?.name ?? '',
    startTimeUnixNano: measures.startTimeUnixNano,
    endTimeUnixNano: end,
    hasError: measures.errorCount > 0,
    digest: spanDigest(spans),
    spans,
    truncated: window.truncated ?? false,
    orphanSpanIds: tree.orphanSpanIds,
    cycleSpanIds: tree.cycleSpanIds,
    detectionIds,
  };
  const metrics: TraceMetrics = {
    id: outputId(tenantId, traceId, 'metrics', revision),
    tenantId,
    traceId,
    revision,
    pipelineVersion,
    serviceName: semantic.serviceName,
    ...measures,
  };
  const tools = [...new Set(semantic.spans.flatMap((span) => (span.operation === 'execute_tool' && span.toolName !== null ? [span.toolName] : [])))].sort();
  const tenantEvents = [
    tenantStageEvent(tenantId, 'trace_closed', traceId, window.closedAtMs, {
      traceId,
      revision,
      digest: trace.digest,
      spanCount: spans.length,
      rootSpanId: root?.spanId ?? null,
      closeReason: window.closeReason,
      serviceName: semantic.serviceName,
      models: measures.models,
      agents: measures.agents,
      tools,
      dataCategories: dataCategoriesOf(semantic.spans),
      metrics: { ...metrics, startTimeUnixNano: metrics.startTimeUnixNano.toString() },
    }),
    ...detections.map((d) => detectionEmitted(d, window.closedAtMs)),
  ];
  return { trace, detections, metrics, tenantEvents, suppressed: suppressed.length };
}
