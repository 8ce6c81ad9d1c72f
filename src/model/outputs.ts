/**
 * Records the trace stage emits. Each one
 * carries a deterministic id and the pipeline version that produced it, so a replayed or
 * retried output is recognisable downstream.
 */
import type { CanonicalSpan } from './span.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type ConfidenceTier = 'high' | 'likely' | 'possible' | 'low';

export const severityRank: Readonly<Record<Severity, number>> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function confidenceTier(confidence: number): ConfidenceTier {
  if (confidence >= 0.8) return 'high';
  if (confidence >= 0.6) return 'likely';
  if (confidence >= 0.4) return 'possible';
  return 'low';
}

/** Why a window closed. */
export type CloseReason = 'inactivity' | 'analyze' | 'session_end' | 'root_settled' | 'size_cap';

export interface Evidence {
  readonly description: string;
  readonly spanIds: readonly string[];
  /** Detector-specific facts, as JSON text (kept opaque for the schema). */
  readonly dataJson: string;
}

export interface Detection {
  readonly id: string;
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly pipelineVersion: string;
  readonly detectorId: string;
  readonly detectorVersion: number;
  readonly detectionType: string;
  readonly title: string;
  readonly description: string;
  readonly confidence: number;
  readonly confidenceTier: ConfidenceTier;
  readonly severity: Severity;
  readonly evidence: readonly Evidence[];
  readonly affectedSpanIds: readonly string[];
  /** The agent the failure is attributed to, when one can be named. */
  readonly agent: string | null;
  readonly suggestedFix: string;
  readonly live: boolean;
  readonly primary: boolean;
  readonly detectedAtMs: number;
  /** The id of the detection (same trace and revision) that explains this one; null if it stands. */
  readonly subsumedBy: string | null;
  /** Present on a record that withdraws the detection of this id (see Withdrawal). */
  readonly withdrawn?: Withdrawal;
}

/**
 * Why a detection no longer stands. A withdrawal travels as a detection record of the same id
 * with this set, on the same key, so a subscriber that keeps detections by id deletes it:
 * the topic alone then gives what the API shows (docs/subscribers.md).
 */
export interface Withdrawal {
  /**
   * unconfirmed: fired live, not found by the close of its revision; revised: its revision
   * was replaced by a newer one; replay_promoted / replay_rolled_back: a promotion or its
   * rollback took it out of force.
   */
  readonly reason: 'unconfirmed' | 'revised' | 'replay_promoted' | 'replay_rolled_back';
  /** The trace revision in force once it is withdrawn. */
  readonly revision: number;
  /** The replay run of the promotion or rollback; null otherwise. */
  readonly replayId: string | null;
  readonly atMs: number;
}

/** What names a detection: enough to withdraw it. */
export type DetectionIdentity = Pick<Detection, 'id' | 'tenantId' | 'traceId' | 'revision' | 'pipelineVersion' | 'detectorId' | 'detectorVersion' | 'detectionType'>;

export function identityOf(d: DetectionIdentity): DetectionIdentity {
  const { id, tenantId, traceId, revision, pipelineVersion, detectorId, detectorVersion, detectionType } = d;
  return { id, tenantId, traceId, revision, pipelineVersion, detectorId, detectorVersion, detectionType };
}

/** The record withdrawing a detection: its identity and the withdrawal; the rest empty. */
export function withdrawalOf(identity: DetectionIdentity, withdrawn: Withdrawal): Detection {
  return {
    ...identityOf(identity),
    title: '',
    description: '',
    confidence: 0,
    confidenceTier: 'low',
    severity: 'info',
    evidence: [],
    affectedSpanIds: [],
    agent: null,
    suggestedFix: '',
    live: false,
    primary: false,
    detectedAtMs: withdrawn.atMs,
    subsumedBy: null,
    withdrawn,
  };
}

/** What is measured of one trace (src/measures computes it; definitions in trace-metrics.ts). */
export interface TraceMeasures {
  readonly startTimeUnixNano: bigint;
  /** Earliest start to latest end. */
  readonly durationMs: number;
  /** Duration of the critical path (src/measures/critical-path.ts). */
  readonly criticalPathMs: number;
  /** Spans on the critical path, in start order. */
  readonly criticalPathSpanIds: readonly string[];
  readonly spanCount: number;
  readonly llmCallCount: number;
  readonly toolCallCount: number;
  /** Distinct agent names. */
  readonly agentCount: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** Null when a model with token usage is not in the price table (see unpricedModels). */
  readonly costUsd: number | null;
  /** Models with token usage that the price table does not know, sorted. */
  readonly unpricedModels: readonly string[];
  /** The date of the price table cost was computed with (YYYY-MM-DD). */
  readonly priceTable: string;
  readonly errorCount: number;
  /** Errored spans / spans. */
  readonly errorRate: number;
  readonly toolErrorCount: number;
  /** Errored tool calls / tool calls. */
  readonly toolErrorRate: number;
  /** Tool calls repeating the previous tool call of the same agent. */
  readonly retryCount: number;
  /** retryCount / tool calls. */
  readonly retryRate: number;
  /** Distinct files written by tools. */
  readonly blastRadius: number;
  readonly filesWritten: readonly string[];
  readonly agents: readonly string[];
  readonly models: readonly string[];
}

export interface TraceMetrics extends TraceMeasures {
  readonly id: string;
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly pipelineVersion: string;
  readonly serviceName: string;
}

/** The assembled trace of one revision, as tracefold.traces.v1 carries it. */
export interface TraceRecord {
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly pipelineVersion: string;
  readonly closeReason: CloseReason;
  /** The marker's request id when an analyze or session end closed the window. */
  readonly closeRequestId: string;
  readonly closedAtMs: number;
  readonly serviceName: string;
  readonly rootName: string;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly hasError: boolean;
  /** SHA-256 over the canonical spans, in span id order. */
  readonly digest: string;
  readonly spans: readonly CanonicalSpan[];
  /** The window reached its size cap: the spans that followed form the next revision. */
  readonly truncated: boolean;
  /** Spans whose parent was never seen, kept under a synthetic root (src/stages/trace/assemble.ts). */
  readonly orphanSpanIds: readonly string[];
  /** Spans whose parent link was cut to break a parent cycle, kept under the synthetic root. */
  readonly cycleSpanIds: readonly string[];
  /**
   * The detections this revision stands by. A live detection of the revision that is not
   * listed was withdrawn at close (the closed window no longer supports it).
   */
  readonly detectionIds: readonly string[];
}

/** missed: the trace lacked a detection the user expected (the detection id is then empty). */
export type FeedbackType = 'true_positive' | 'false_positive' | 'missed';

export interface FeedbackRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly detectionId: string;
  readonly traceId: string;
  readonly feedbackType: FeedbackType;
  readonly comment: string;
  readonly createdAtMs: number;
  /** The detector the verdict is about; empty in records written before it was kept. */
  readonly detectorId: string;
}

/**
 * Events of tracefold.tenants.v1, the registry of tenants, keys and settings (compacted):
 * every API instance learns keys from the log. Its Avro record keeps the name `TenantEvent`
 * (schemas/tenant-event.avsc: a name is part of the schema's identity). Not to be confused
 * with TenantStageEvent, the facts on tracefold.tenant-events.v1 the tenant stage chains.
 */
export type TenantRegistryEvent =
  | { readonly type: 'tenant_created'; readonly tenantId: string; readonly name: string; readonly atMs: number }
  | {
      readonly type: 'api_key_created';
      readonly tenantId: string;
      readonly keyId: string;
      /** SHA-256 of the key's secret part, hex. */
      readonly secretHash: string;
      readonly atMs: number;
    }
  | { readonly type: 'api_key_revoked'; readonly tenantId: string; readonly keyId: string; readonly atMs: number }
  | ({ readonly type: 'tenant_settings_changed'; readonly tenantId: string; readonly atMs: number } & TenantSettings);

/** A tenant's own settings; null keeps the deployment's default. */
export interface TenantSettings {
  readonly baselineSigma: number | null;
  readonly baselineMinSamples: number | null;
}
