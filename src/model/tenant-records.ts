/**
 * Records of the tenant stage: its input on
 * tracefold.tenant-events.v1 (feedback included), and its outputs: the audit chain
 * on tracefold.audit.v1, calibration on tracefold.calibration.v1 and baselines on
 * tracefold.baselines.v1. All are keyed by tenant, so one partition holds all of a tenant's
 * history and its chain is built in order.
 */

/** What happened, as the audit chain records it. */
export type AuditEventType =
  | 'tenant_created'
  | 'api_key_created'
  | 'api_key_revoked'
  | 'trace_closed'
  | 'detection_emitted'
  | 'feedback_recorded'
  | 'settings_changed'
  /** A replay run's detections put in force for the tenant (src/replay/promotion.ts). */
  | 'replay_promoted'
  /** A promotion undone. */
  | 'replay_rolled_back';

/**
 * One fact for the tenant stage, appended by the process where it happened, in the same
 * unit as the fact itself (the trace stage's outputs; the API's tenant, key and feedback
 * records). One input topic gives each tenant's chain one order, the same under replay.
 */
export interface TenantStageEvent {
  readonly tenantId: string;
  readonly type: AuditEventType;
  /** The trace, detection, key or tenant id the event is about. */
  readonly subjectId: string;
  readonly atMs: number;
  /** The event's payload as canonical JSON (RFC 8785): what the audit chain digests. */
  readonly payloadJson: string;
}

/**
 * One link of a tenant's audit chain.
 *
 * payloadDigest = SHA-256(payloadJson), payloadJson being canonical JSON;
 * hash = SHA-256(prevHash ‖ canonical JSON of every field but `hash` and `payloadJson`).
 * Sequence numbers start at 1 with no gaps; the first record's prevHash is 64 zeros.
 */
export interface AuditRecord {
  readonly tenantId: string;
  readonly seq: number;
  readonly type: AuditEventType;
  readonly subjectId: string;
  readonly atMs: number;
  readonly payloadJson: string;
  readonly payloadDigest: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Per tenant and detector: feedback so far and the confidence shift derived from it. */
export interface CalibrationRecord {
  readonly tenantId: string;
  readonly detectorId: string;
  readonly truePositives: number;
  readonly falsePositives: number;
  /** Traces marked as lacking a detection of this detector that the user expected. */
  readonly missed: number;
  /** truePositives / (truePositives + falsePositives); null before any verdict. */
  readonly precision: number | null;
  /**
   * Subtracted from this detector's confidence for this tenant, in [0, MAX]; a detection
   * whose calibrated confidence falls below the suppression floor is not emitted.
   */
  readonly confidenceShift: number;
  readonly updatedAtMs: number;
}

/** Running mean and variance of one metric (Welford). */
export interface RunningStats {
  readonly count: number;
  readonly mean: number;
  /** Sum of squared differences from the mean. */
  readonly m2: number;
}

/** The baseline of one tenant × service (× agent; '' for the whole service). */
export interface BaselineRecord {
  readonly tenantId: string;
  readonly serviceName: string;
  readonly agent: string;
  /** metric name → its running statistics. */
  readonly metrics: Readonly<Record<string, RunningStats>>;
  readonly updatedAtMs: number;
}
