/**
 * What the trace list filters on and shows, kept per trace in one small record so that a
 * list page reads one value per trace. The trace, metrics and detection records of a
 * revision arrive on different topics in any order; each fills in its part, and a newer
 * revision starts the record afresh.
 */
import { failureScore } from '../detectors/failure-score.js';
import { severityRank, type Detection, type Severity, type TraceMetrics, type TraceRecord } from '../model/outputs.js';

export interface TraceFacets {
  readonly traceId: string;
  readonly revision: number;
  /** Null until the trace record of the revision arrived (metrics or detections came first). */
  readonly closedAtMs: number | null;
  readonly serviceName: string;
  readonly rootName: string;
  readonly hasError: boolean;
  readonly spanCount: number;
  readonly startTimeMs: number | null;
  readonly durationMs: number | null;
  readonly agents: readonly string[];
  readonly models: readonly string[];
  readonly costUsd: number | null;
  /**
   * Standing (not subsumed) detections of the revision, by id. Detector and confidence are
   * absent in facets written before the failure score existed (read as the type and 1).
   */
  readonly detections: Readonly<Record<string, { readonly type: string; readonly severity: Severity; readonly detector?: string; readonly confidence?: number }>>;
}

function empty(traceId: string, revision: number): TraceFacets {
  return {
    traceId,
    revision,
    closedAtMs: null,
    serviceName: '',
    rootName: '',
    hasError: false,
    spanCount: 0,
    startTimeMs: null,
    durationMs: null,
    agents: [],
    models: [],
    costUsd: null,
    detections: {},
  };
}

/** The record to build on for `revision`: the stored one if it is of that revision. */
function base(stored: TraceFacets | null, traceId: string, revision: number): TraceFacets {
  return stored !== null && stored.revision === revision ? stored : empty(traceId, revision);
}

export function withTrace(stored: TraceFacets | null, trace: TraceRecord): TraceFacets {
  return {
    ...base(stored, trace.traceId, trace.revision),
    closedAtMs: trace.closedAtMs,
    serviceName: trace.serviceName,
    rootName: trace.rootName,
    hasError: trace.hasError,
    spanCount: trace.spans.length,
    startTimeMs: Number(trace.startTimeUnixNano / 1_000_000n),
  };
}

export function withMetrics(stored: TraceFacets | null, metrics: TraceMetrics): TraceFacets {
  return {
    ...base(stored, metrics.traceId, metrics.revision),
    durationMs: metrics.durationMs,
    agents: metrics.agents,
    models: metrics.models,
    costUsd: metrics.costUsd,
  };
}

export function withDetection(stored: TraceFacets | null, detection: Detection): TraceFacets {
  const facets = base(stored, detection.traceId, detection.revision);
  // A subsumed detection is not a failure of its own; its live copy, listed before, goes.
  if (detection.subsumedBy !== null) return detection.id in facets.detections ? withoutDetection(facets, detection.id) : facets;
  const entry = { type: detection.detectionType, severity: detection.severity, detector: detection.detectorId, confidence: detection.confidence };
  return { ...facets, detections: { ...facets.detections, [detection.id]: entry } };
}

export function withoutDetection(stored: TraceFacets, detectionId: string): TraceFacets {
  const { [detectionId]: _gone, ...rest } = stored.detections;
  return { ...stored, detections: rest };
}

export function maxSeverity(facets: TraceFacets): Severity | null {
  let max: Severity | null = null;
  for (const { severity } of Object.values(facets.detections)) if (max === null || severityRank[severity] > severityRank[max]) max = severity;
  return max;
}

/** The run-level verdict (src/detectors/failure-score.ts) of the revision's standing detections. */
export function failureScoreOf(facets: TraceFacets): number {
  return failureScore(Object.values(facets.detections).map((d) => ({ detectorId: d.detector ?? d.type, severity: d.severity, confidence: d.confidence ?? 1 })));
}

export interface TraceFilter {
  readonly service?: string;
  readonly agent?: string;
  readonly model?: string;
  readonly status?: 'ok' | 'error';
  readonly hasFailures?: boolean;
  readonly detectionType?: string;
  readonly minSeverity?: Severity;
  /** At least this failure score. */
  readonly minFailureScore?: number;
  /** Case-insensitive substring of the root span's name or the trace id. */
  readonly nameContains?: string;
}

export function matches(facets: TraceFacets, filter: TraceFilter): boolean {
  if (facets.closedAtMs === null) return false;
  if (filter.service !== undefined && facets.serviceName !== filter.service) return false;
  if (filter.agent !== undefined && !facets.agents.includes(filter.agent)) return false;
  if (filter.model !== undefined && !facets.models.includes(filter.model)) return false;
  if (filter.status !== undefined && facets.hasError !== (filter.status === 'error')) return false;
  const detections = Object.values(facets.detections);
  if (filter.hasFailures !== undefined && detections.length > 0 !== filter.hasFailures) return false;
  if (filter.detectionType !== undefined && !detections.some((d) => d.type === filter.detectionType)) return false;
  if (filter.minSeverity !== undefined) {
    const max = maxSeverity(facets);
    if (max === null || severityRank[max] < severityRank[filter.minSeverity]) return false;
  }
  if (filter.minFailureScore !== undefined && failureScoreOf(facets) < filter.minFailureScore) return false;
  if (filter.nameContains !== undefined) {
    const needle = filter.nameContains.toLowerCase();
    if (!facets.rootName.toLowerCase().includes(needle) && !facets.traceId.toLowerCase().includes(needle)) return false;
  }
  return true;
}
