/**
 * The tenant stage: consumes tracefold.tenant-events.v1, keyed
 * by tenant, and keeps per tenant in a RocksDB-backed store:
 *
 * - the head of its audit chain: each event becomes the next AuditRecord on
 *   tracefold.audit.v1 (src/audit/chain.ts has the formulas);
 * - baselines per service (and agent) of trace metrics: a closed trace beyond k sigma of
 *   its baseline yields an anomaly detection on tracefold.detections.v1, and every
 *   baseline change goes to tracefold.baselines.v1;
 * - calibration per detector from feedback, on tracefold.calibration.v1, which the trace
 *   stage reads back (calibration-reader.ts).
 *
 * Every batch's state changes, outputs and consumed offset are committed as one unit, as
 * in the trace stage, so a record is chained exactly once whatever the crashes.
 */
import type { Logger } from 'pino';
import { CanonicalJsonError } from '../../audit/canonical-json.js';
import { auditRecordForJson, type ChainHead } from '../../audit/chain.js';
import { addTrace, anomalyFinding, baselineScopes, BASELINE_DEFAULTS, checkTrace, type BaselineSettings } from '../../baselines/baseline.js';
import { applyFeedback, type FeedbackVerdict } from '../../calibration/calibration.js';
import type { Log, LogRecord } from '../../log/port.js';
import type { Codecs } from '../../log/serde/index.js';
import { tupleKey } from '../../log/store-keys.js';
import { TOPICS } from '../../log/topics.js';
import { HEADER, traceKey } from '../../model/record-keys.js';
import { identityOf, withdrawalOf, type DetectionIdentity, type TenantSettings, type TraceMetrics } from '../../model/outputs.js';
import type { BaselineRecord, CalibrationRecord, TenantStageEvent } from '../../model/tenant-records.js';
import { messageOf, PoisonRecordError, reasonOf } from '../../runtime/dead-letter.js';
import type { ProcessorContext } from '../../runtime/processor.js';
import { StatefulProcessor } from '../../runtime/stateful-processor.js';
import { toDetection } from '../trace/analyze.js';
import { BASELINE_DETECTOR, detectionEmitted } from './events.js';

export const TENANT_STAGE_GROUP = 'tracefold-tenant-stage';

export interface TenantStageOptions {
  readonly log: Log;
  readonly codecs: Codecs;
  readonly pipelineVersion: string;
  /** Anomaly threshold (k sigma) and the samples a baseline needs before it judges. */
  readonly baseline?: BaselineSettings;
  readonly logger: Logger;
}

export interface TenantStageStats {
  eventsProcessed: number;
  /** Records that could not be processed; each is on the dead-letter topic. */
  eventsFailed: number;
  auditRecords: number;
  anomalies: number;
  calibrations: number;
}

/**
 * Store keys, each led by the input partition so a partition's state stands on its own
 * (the runtime keeps the partition's position beside them).
 */
const KEYS = {
  head: (p: number, tenant: string) => tupleKey('h', p, tenant),
  baseline: (p: number, tenant: string, service: string, agent: string) => tupleKey('b', p, tenant, service, agent),
  calibration: (p: number, tenant: string, detector: string) => tupleKey('c', p, tenant, detector),
  settings: (p: number, tenant: string) => tupleKey('s', p, tenant),
  /** The anomaly detections of a trace's latest revision, withdrawn when a newer one closes. */
  anomalies: (p: number, tenant: string, trace: string) => tupleKey('a', p, tenant, trace),
};

interface TraceClosedPayload {
  readonly traceId: string;
  readonly revision: number;
  readonly rootSpanId: string | null;
  readonly metrics: Omit<TraceMetrics, 'startTimeUnixNano'> & { readonly startTimeUnixNano: string };
}

interface FeedbackPayload {
  readonly detectorId: string;
  readonly feedbackType: FeedbackVerdict;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

type Work = ProcessorContext;

export class TenantStage extends StatefulProcessor {
  private readonly settings: BaselineSettings;
  readonly stats: TenantStageStats = { eventsProcessed: 0, eventsFailed: 0, auditRecords: 0, anomalies: 0, calibrations: 0 };

  constructor(private readonly options: TenantStageOptions) {
    super({
      name: 'tenant stage',
      stage: 'tenant',
      log: options.log,
      group: TENANT_STAGE_GROUP,
      topics: [TOPICS.tenantEvents],
      store: { name: 'tenants', changelog: true },
      positions: 'store',
      logger: options.logger,
    });
    this.settings = options.baseline ?? BASELINE_DEFAULTS;
  }

  async process(records: readonly LogRecord[], work: Work): Promise<void> {
    for (const record of records) {
      const value = record.value;
      if (value === null) continue;
      // A record that cannot be processed (not a tenant event, a payload that is not
      // canonical JSON, a key part too long, an output that cannot be encoded) must not stop
      // every tenant of the partition: what it wrote is undone and it is dead-lettered.
      const processed = await work.isolate(
        record,
        async () => {
          let event: TenantStageEvent;
          try {
            event = await this.options.codecs.tenantStageEvent.decode(value);
          } catch (err) {
            throw new PoisonRecordError('decode', messageOf(err));
          }
          await this.apply(work, event);
        },
        { classify: (err) => (err instanceof CanonicalJsonError || err instanceof SyntaxError ? 'decode' : reasonOf(err, 'content')) },
      );
      if (processed) this.stats.eventsProcessed++;
      else this.stats.eventsFailed++;
    }
  }

  private async apply(work: Work, event: TenantStageEvent): Promise<void> {
    await this.chain(work, event);
    if (event.type === 'trace_closed') await this.traceClosed(work, event, JSON.parse(event.payloadJson) as TraceClosedPayload);
    else if (event.type === 'feedback_recorded') await this.feedback(work, event, JSON.parse(event.payloadJson) as FeedbackPayload);
    else if (event.type === 'settings_changed') work.store.put(KEYS.settings(work.partition, event.tenantId), Buffer.from(event.payloadJson));
  }

  /** Appends the next link of the tenant's audit chain. */
  private async chain(work: Work, event: TenantStageEvent): Promise<void> {
    const { tenantId, atMs } = event;
    const key = KEYS.head(work.partition, tenantId);
    const raw = await work.store.get(key);
    const head = raw === null ? null : (JSON.parse(raw.toString()) as ChainHead);
    const record = auditRecordForJson(head, event);
    work.store.put(key, json({ seq: record.seq, hash: record.hash }));
    work.emit(TOPICS.audit, { key: Buffer.from(tenantId), value: await this.options.codecs.audit.encode(record), timestamp: atMs });
    this.stats.auditRecords++;
  }

  /**
   * Checks the trace against each of its baselines before folding it in. Only a trace's
   * first revision is folded in: a revision restates the same run, and counting it again
   * would weigh that run twice.
   */
  private async traceClosed(work: Work, event: TenantStageEvent, payload: TraceClosedPayload): Promise<void> {
    const metrics: TraceMetrics = { ...payload.metrics, startTimeUnixNano: BigInt(payload.metrics.startTimeUnixNano) };
    const { codecs, pipelineVersion } = this.options;
    const settings = await this.settingsOf(work, event.tenantId);
    const anomaliesKey = KEYS.anomalies(work.partition, event.tenantId, payload.traceId);
    if (payload.revision > 1) await this.withdrawAnomalies(work, anomaliesKey, payload.revision, event.atMs);
    const found: DetectionIdentity[] = [];
    for (const scope of baselineScopes(metrics)) {
      const key = KEYS.baseline(work.partition, event.tenantId, scope.serviceName, scope.agent);
      const raw = await work.store.get(key);
      const baseline = raw === null ? undefined : (JSON.parse(raw.toString()) as BaselineRecord);
      const anomalies = checkTrace(baseline, metrics, settings);
      if (anomalies.length > 0) {
        const finding = anomalyFinding(anomalies, payload.rootSpanId, settings);
        const detection = toDetection(
          { tenantId: event.tenantId, traceId: payload.traceId, revision: payload.revision, pipelineVersion },
          { detectorId: BASELINE_DETECTOR.id, detectorVersion: BASELINE_DETECTOR.version, finding },
          { live: false, primary: false, subsumedBy: null, detectedAtMs: event.atMs },
        );
        work.emit(TOPICS.detections, {
          key: traceKey(event.tenantId, payload.traceId),
          value: await codecs.detection.encode(detection),
          headers: { [HEADER.revision]: String(payload.revision), [HEADER.pipeline]: pipelineVersion },
          timestamp: event.atMs,
        });
        found.push(identityOf(detection));
        const emitted = detectionEmitted(detection, event.atMs);
        await this.chain(work, emitted);
        this.stats.anomalies++;
      }
      if (payload.revision !== 1) continue;
      const next = addTrace(baseline, metrics, scope, event.atMs);
      work.store.put(key, json(next));
      work.emit(TOPICS.baselines, {
        key: Buffer.from(`${event.tenantId}/${scope.serviceName}/${scope.agent}`),
        value: await codecs.baseline.encode({ ...next, tenantId: event.tenantId }),
        timestamp: event.atMs,
      });
    }
    if (found.length > 0) work.store.put(anomaliesKey, json(found));
  }

  /** Withdraws the anomalies found on the trace's previous revision (a newer one closed). */
  private async withdrawAnomalies(work: Work, key: Buffer, revision: number, atMs: number): Promise<void> {
    const raw = await work.store.get(key);
    if (raw === null) return;
    work.store.del(key);
    for (const identity of JSON.parse(raw.toString()) as DetectionIdentity[]) {
      const withdrawal = withdrawalOf(identity, { reason: 'revised', revision, replayId: null, atMs });
      work.emit(TOPICS.detections, {
        key: traceKey(identity.tenantId, identity.traceId),
        value: await this.options.codecs.detection.encode(withdrawal),
        headers: { [HEADER.revision]: String(revision), [HEADER.pipeline]: this.options.pipelineVersion, [HEADER.withdrawn]: 'revised' },
        timestamp: atMs,
      });
    }
  }

  /** The tenant's own baseline settings over the deployment's defaults. */
  private async settingsOf(work: Work, tenantId: string): Promise<BaselineSettings> {
    const raw = await work.store.get(KEYS.settings(work.partition, tenantId));
    if (raw === null) return this.settings;
    const own = JSON.parse(raw.toString()) as TenantSettings;
    return { k: own.baselineSigma ?? this.settings.k, minSamples: own.baselineMinSamples ?? this.settings.minSamples };
  }

  private async feedback(work: Work, event: TenantStageEvent, payload: FeedbackPayload): Promise<void> {
    // Feedback written before it named its detector cannot be attributed to one.
    if (payload.detectorId === '') return;
    const key = KEYS.calibration(work.partition, event.tenantId, payload.detectorId);
    const raw = await work.store.get(key);
    const previous = raw === null ? undefined : (JSON.parse(raw.toString()) as CalibrationRecord);
    const next = applyFeedback(previous, event.tenantId, payload.detectorId, payload.feedbackType, event.atMs);
    work.store.put(key, json(next));
    work.emit(TOPICS.calibration, {
      key: Buffer.from(`${event.tenantId}/${payload.detectorId}`),
      value: await this.options.codecs.calibration.encode(next),
      timestamp: event.atMs,
    });
    this.stats.calibrations++;
  }
}
