/**
 * Promotion of a finished replay run: its detections become the ones in force, tenant by
 * tenant, and what it no longer finds is withdrawn; a rollback puts back what was in force.
 *
 * A promotion is written as records on tracefold.detections.v1, so the views and every
 * subscriber apply it the same way: a withdrawal (Detection.withdrawn, reason
 * replay_promoted) for each detection in force the run does not stand by, the run's record
 * for each detection it adds or changes. Nothing closes again: baselines and rollups (which
 * come from trace closes) do not move, and the tenant's audit chain gets one
 * `replay_promoted` fact carrying a digest of the change. All records of one promotion call
 * go out in one unit (a Kafka transaction): a subscriber reading committed records sees all
 * of it or none.
 *
 * Only traces whose revision in force is the one the run analyzed are changed; a trace that
 * has closed again since (or that the views do not hold yet) is counted as skipped.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import type { OutgoingRecord } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import { TOPICS } from '../log/topics.js';
import { identityOf, withdrawalOf, type Detection, type DetectionIdentity, type Withdrawal } from '../model/outputs.js';
import { HEADER, traceKey } from '../model/record-keys.js';
import { BASELINE_DETECTOR, tenantStageEvent, tenantStageRecord } from '../stages/tenant/events.js';
import type { ViewQueries } from '../views/queries.js';

/** What one tenant's promotion changed, as the run's record keeps it. */
export interface TenantPromotion {
  readonly tenantId: string;
  readonly promotedAtMs: number;
  readonly rolledBackAtMs: number | null;
  /** Traces whose detections changed. */
  readonly traces: number;
  /** Detections taken out of force, and detections put in force (added or changed). */
  readonly withdrawn: number;
  readonly put: number;
  /** Traces left as they were: the revision in force is not the one the run analyzed. */
  readonly skipped: number;
  /** SHA-256 over the change (canonical JSON of the sorted ids withdrawn and put). */
  readonly digest: string;
}

/** What a rollback needs: the records the promotion replaced, and the ids it put. */
export interface PromotionUndo {
  readonly replaced: readonly Detection[];
  readonly put: readonly DetectionIdentity[];
}

/** One trace of a run, as the run keeps it. */
export interface RunTrace {
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly detections: readonly Detection[];
}

interface TenantChange {
  traces: number;
  skipped: number;
  readonly withdraw: Detection[];
  readonly put: Detection[];
  /** The records in force the change replaces (withdrawn or changed), as they were. */
  readonly replaced: Detection[];
}

export interface PlannedPromotion {
  readonly summary: TenantPromotion;
  readonly undo: PromotionUndo;
  readonly records: { readonly topic: string; readonly records: readonly OutgoingRecord[] }[];
}

/** The same detection in the same state: a record that would change nothing. */
function sameDetection(a: Detection, b: Detection): boolean {
  return canonicalJson({ ...a, detectedAtMs: 0, pipelineVersion: '' }) === canonicalJson({ ...b, detectedAtMs: 0, pipelineVersion: '' });
}

function digestOf(fields: unknown): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

export interface PromotionContext {
  readonly replayId: string;
  readonly pipelineVersion: string;
  readonly codecs: Codecs;
  readonly queries: ViewQueries;
  readonly atMs: number;
}

/**
 * Compares each trace of the run with what the views hold and plans, per tenant, the records
 * that make the run's detections the ones in force. Anomaly detections come from baselines,
 * not from the run's detectors: they stay as they are.
 */
export async function planPromotion(ctx: PromotionContext, traces: AsyncIterable<RunTrace>, tenants: ReadonlySet<string> | null): Promise<PlannedPromotion[]> {
  const changes = new Map<string, TenantChange>();
  for await (const trace of traces) {
    if (tenants !== null && !tenants.has(trace.tenantId)) continue;
    let change = changes.get(trace.tenantId);
    if (change === undefined) {
      change = { traces: 0, skipped: 0, withdraw: [], put: [], replaced: [] };
      changes.set(trace.tenantId, change);
    }
    const inForce = await ctx.queries.trace(trace.tenantId, trace.traceId);
    if (inForce === null || inForce.revision !== trace.revision) {
      change.skipped++;
      continue;
    }
    const current = (await ctx.queries.detectionsOfTrace(trace.tenantId, trace.traceId)).filter((d) => d.detectorId !== BASELINE_DETECTOR.id);
    const currentById = new Map(current.map((d) => [d.id, d]));
    const replayedIds = new Set(trace.detections.map((d) => d.id));
    const withdraw = current.filter((d) => !replayedIds.has(d.id));
    const put = trace.detections.filter((d) => {
      const held = currentById.get(d.id);
      return held === undefined || !sameDetection(held, d);
    });
    if (withdraw.length + put.length === 0) continue;
    change.traces++;
    change.withdraw.push(...withdraw);
    change.put.push(...put);
    change.replaced.push(...withdraw, ...put.flatMap((d) => currentById.get(d.id) ?? []));
  }
  const planned: PlannedPromotion[] = [];
  for (const [tenantId, change] of [...changes].sort(([a], [b]) => a.localeCompare(b))) {
    const digest = digestOf({
      replayId: ctx.replayId,
      tenantId,
      withdrawn: change.withdraw.map((d) => d.id).sort(),
      put: change.put.map((d) => d.id).sort(),
    });
    const summary: TenantPromotion = {
      tenantId,
      promotedAtMs: ctx.atMs,
      rolledBackAtMs: null,
      traces: change.traces,
      withdrawn: change.withdraw.length,
      put: change.put.length,
      skipped: change.skipped,
      digest,
    };
    const detections = [
      ...(await encodeWithdrawals(ctx, change.withdraw, 'replay_promoted')),
      ...(await Promise.all(change.put.map((d) => encodeDetection(ctx, d)))),
    ];
    planned.push({
      summary,
      undo: { replaced: change.replaced, put: change.put.map(identityOf) },
      records: [
        { topic: TOPICS.detections, records: detections },
        { topic: TOPICS.tenantEvents, records: [await auditFact(ctx, tenantId, 'replay_promoted', summary)] },
      ],
    });
  }
  return planned;
}

/**
 * The records that undo one tenant's promotion: the detections it put and did not replace
 * are withdrawn, the ones it replaced are written again as they were; one audit fact.
 */
export async function planRollback(ctx: PromotionContext, promotion: TenantPromotion, undo: PromotionUndo): Promise<PlannedPromotion> {
  const replacedIds = new Set(undo.replaced.map((d) => d.id));
  const added = undo.put.filter((d) => !replacedIds.has(d.id));
  const summary: TenantPromotion = { ...promotion, rolledBackAtMs: ctx.atMs };
  const detections = [
    ...(await encodeWithdrawals(ctx, added, 'replay_rolled_back')),
    ...(await Promise.all(undo.replaced.map((d) => encodeDetection(ctx, d)))),
  ];
  return {
    summary,
    undo,
    records: [
      { topic: TOPICS.detections, records: detections },
      { topic: TOPICS.tenantEvents, records: [await auditFact(ctx, promotion.tenantId, 'replay_rolled_back', summary)] },
    ],
  };
}

async function encodeDetection(ctx: PromotionContext, detection: Detection): Promise<OutgoingRecord> {
  return {
    key: traceKey(detection.tenantId, detection.traceId),
    value: await ctx.codecs.detection.encode(detection),
    headers: { [HEADER.revision]: String(detection.revision), [HEADER.pipeline]: detection.pipelineVersion, [HEADER.replay]: ctx.replayId },
    timestamp: ctx.atMs,
  };
}

async function encodeWithdrawals(ctx: PromotionContext, detections: readonly DetectionIdentity[], reason: Withdrawal['reason']): Promise<OutgoingRecord[]> {
  return Promise.all(
    detections.map(async (d) => ({
      key: traceKey(d.tenantId, d.traceId),
      value: await ctx.codecs.detection.encode(withdrawalOf(d, { reason, revision: d.revision, replayId: ctx.replayId, atMs: ctx.atMs })),
      headers: { [HEADER.revision]: String(d.revision), [HEADER.pipeline]: ctx.pipelineVersion, [HEADER.replay]: ctx.replayId, [HEADER.withdrawn]: reason },
      timestamp: ctx.atMs,
    })),
  );
}

/** The one fact the tenant's audit chain records of a promotion or its rollback. */
function auditFact(ctx: PromotionContext, tenantId: string, type: 'replay_promoted' | 'replay_rolled_back', summary: TenantPromotion): Promise<OutgoingRecord> {
  const payload = {
    replayId: ctx.replayId,
    pipelineVersion: ctx.pipelineVersion,
    diffDigest: summary.digest,
    traces: summary.traces,
    withdrawn: summary.withdrawn,
    put: summary.put,
    skipped: summary.skipped,
  };
  return tenantStageRecord(ctx.codecs, tenantStageEvent(tenantId, type, ctx.replayId, ctx.atMs, payload));
}
