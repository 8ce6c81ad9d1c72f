/**
 * Materialized views: each API instance consumes the output
 * topics into its own state store, writing the consumed offsets in the same unit, so the
 * views are exact even when input repeats. Reads go through ViewQueries (queries.ts) and
 * never touch the log.
 *
 * Revisions: a trace's outputs carry the revision that produced them. The views keep the
 * latest revision per trace and drop detections of older ones, whichever topic brings the
 * newer revision first.
 */
import type { Logger } from 'pino';
import type { Log, LogRecord, StateStore } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import { TOPICS } from '../log/topics.js';
import type { BufferedStore } from '../runtime/buffered-store.js';
import { messageOf, reasonOf } from '../runtime/dead-letter.js';
import type { Positions } from '../runtime/positions.js';
import type { ProcessorContext } from '../runtime/processor.js';
import { StatefulProcessor } from '../runtime/stateful-processor.js';
import { ApiKeyCache } from './api-key-cache.js';
import { applyRollups, type MetricsLike } from './rollups.js';
import { traceSummaryOf, VIEW_KEYS, type TraceSummary } from './view-model.js';
import type { Detection, FeedbackRecord, TenantRegistryEvent, TraceMetrics, TraceRecord, Withdrawal } from '../model/outputs.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord } from '../model/tenant-records.js';
import { withDetection, withMetrics, withoutDetection, withTrace, type TraceFacets } from './trace-facets.js';
import { buildTraceIndex, listTrace, unlistTrace } from './trace-index.js';
import type { SessionRecord } from '../model/session.js';

export const VIEW_TOPICS = [
  TOPICS.tenants,
  TOPICS.sessions,
  TOPICS.traces,
  TOPICS.detections,
  TOPICS.metrics,
  TOPICS.feedback,
  TOPICS.audit,
  TOPICS.baselines,
  TOPICS.calibration,
] as const;

export interface ViewsOptions {
  readonly log: Log;
  readonly codecs: Codecs;
  /** Each API instance needs its own group so that it sees every partition. */
  readonly group: string;
  /** The topics to materialize; an ingest-only process needs the tenants and the session registry. */
  readonly topics?: readonly string[];
  readonly logger: Logger;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A decoded record of one of the view topics. */
type ViewInput =
  | { readonly kind: 'trace'; readonly trace: TraceRecord; readonly encoded: Buffer }
  | { readonly kind: 'detection'; readonly detection: Detection }
  | { readonly kind: 'metrics'; readonly metrics: TraceMetrics }
  | { readonly kind: 'feedback'; readonly feedback: FeedbackRecord }
  | { readonly kind: 'tenant'; readonly event: TenantRegistryEvent }
  | { readonly kind: 'session'; readonly session: SessionRecord }
  | { readonly kind: 'audit'; readonly record: AuditRecord }
  | { readonly kind: 'baseline'; readonly baseline: BaselineRecord }
  | { readonly kind: 'calibration'; readonly calibration: CalibrationRecord };

/**
 * The keys applying `input` reads first, fetched for a whole batch in one round trip; none
 * when they cannot be built (the record is dead-lettered when it is applied).
 */
function keysRead(input: ViewInput): Buffer[] {
  try {
    return keysReadOf(input);
  } catch {
    return [];
  }
}

function keysReadOf(input: ViewInput): Buffer[] {
  switch (input.kind) {
    case 'trace': {
      const { tenantId, traceId } = input.trace;
      return [VIEW_KEYS.revision(tenantId, traceId), VIEW_KEYS.trace(tenantId, traceId), VIEW_KEYS.traceFacets(tenantId, traceId)];
    }
    case 'detection': {
      const { tenantId, traceId } = input.detection;
      return [VIEW_KEYS.revision(tenantId, traceId), VIEW_KEYS.traceFacets(tenantId, traceId)];
    }
    case 'metrics': {
      const { tenantId, traceId } = input.metrics;
      return [VIEW_KEYS.revision(tenantId, traceId), VIEW_KEYS.metrics(tenantId, traceId), VIEW_KEYS.traceFacets(tenantId, traceId)];
    }
    case 'tenant':
      return input.event.type === 'api_key_revoked' ? [VIEW_KEYS.apiKey(input.event.keyId)] : [];
    case 'feedback':
    case 'session':
    case 'audit':
    case 'baseline':
    case 'calibration':
      return [];
  }
}

export class Views extends StatefulProcessor {
  /** API key records for authentication, dropped here when a batch changes them. */
  readonly apiKeys = new ApiKeyCache();
  /** API keys each batch created or revoked, dropped from the cache once it commits. */
  private readonly keysChanged = new WeakMap<ProcessorContext, string[]>();

  readonly topics: readonly string[];

  constructor(private readonly options: ViewsOptions) {
    const topics = options.topics ?? VIEW_TOPICS;
    super({
      name: 'views',
      stage: 'views',
      log: options.log,
      group: options.group,
      topics,
      store: { name: 'views' },
      positions: 'store',
      logger: options.logger,
    });
    this.topics = topics;
  }

  get readStore(): StateStore {
    return this.runtime.store;
  }

  /** How far the views have read each partition, for read-your-writes and lag. */
  get positions(): Positions {
    return this.runtime.positions;
  }

  /** Opens the store the queries read, answering from what earlier runs applied; start() then consumes. */
  async open(): Promise<void> {
    await this.runtime.open();
  }

  /** Opens the store if needed and joins the consumer group (with Kafka, once the group has rebalanced). */
  override async start(): Promise<void> {
    const { log, group } = this.options;
    await this.open();
    const store = this.readStore;
    await buildTraceIndex(store, async (ops) => {
      const unit = log.beginUnit(group);
      unit.write(store, ops);
      await unit.commit();
    });
    await this.runtime.start();
  }

  /** In its group: false between open() and the end of start(), while the store has only what earlier runs applied. */
  get joined(): boolean {
    return this.runtime.joined;
  }

  override async stop(): Promise<void> {
    await this.runtime.close();
  }

  /** Resolves once the views have read every record appended to `topics` before the call. */
  async catchUp(topics: readonly string[], timeoutMs: number): Promise<void> {
    for (const topic of topics) {
      const ends = await this.options.log.endOffsets(topic);
      for (let partition = 0; partition < ends.length; partition++) {
        await this.positions.waitFor(topic, partition, ends[partition]!, timeoutMs);
      }
    }
  }

  async process(records: readonly LogRecord[], context: ProcessorContext): Promise<void> {
    const { store } = context;
    // A record the views cannot read or hold must not stop them: it goes to the dead-letter
    // topic in this unit (what it wrote undone), and stays in its own topic for a fixed build.
    const decoded: { record: LogRecord; input: ViewInput }[] = [];
    for (const record of records) {
      if (record.value === null) continue;
      try {
        decoded.push({ record, input: await this.decode(context.topic, record.value) });
      } catch (err) {
        context.deadLetter(record, 'decode', messageOf(err), err);
      }
    }
    await store.prefetch(decoded.flatMap(({ input }) => keysRead(input)));
    for (const { record, input } of decoded) {
      await context.isolate(record, () => this.apply(store, input), { classify: (err) => reasonOf(err, 'view_write') });
    }
    const keys = decoded.flatMap(({ input }) => (input.kind === 'tenant' && 'keyId' in input.event ? [input.event.keyId] : []));
    if (keys.length > 0) this.keysChanged.set(context, keys);
  }

  /**
   * Committed, so a lookup from now on reads the change; dropped before the runtime moves the
   * position, so whoever waits for this write (a revocation's request) finds no older copy cached.
   */
  committed(context: ProcessorContext): void {
    const keys = this.keysChanged.get(context);
    if (keys !== undefined) this.apiKeys.invalidate(keys);
  }

  private async decode(topic: string, value: Buffer): Promise<ViewInput> {
    const { codecs } = this.options;
    switch (topic) {
      case TOPICS.traces:
        return { kind: 'trace', trace: await codecs.trace.decode(value), encoded: value };
      case TOPICS.detections:
        return { kind: 'detection', detection: await codecs.detection.decode(value) };
      case TOPICS.metrics:
        return { kind: 'metrics', metrics: await codecs.metrics.decode(value) };
      case TOPICS.feedback:
        return { kind: 'feedback', feedback: await codecs.feedback.decode(value) };
      case TOPICS.tenants:
        return { kind: 'tenant', event: await codecs.tenantRegistryEvent.decode(value) };
      case TOPICS.sessions:
        return { kind: 'session', session: await codecs.session.decode(value) };
      case TOPICS.audit:
        return { kind: 'audit', record: await codecs.audit.decode(value) };
      case TOPICS.baselines:
        return { kind: 'baseline', baseline: await codecs.baseline.decode(value) };
      case TOPICS.calibration:
        return { kind: 'calibration', calibration: await codecs.calibration.decode(value) };
      default:
        throw new Error(`views do not read topic ${topic}`);
    }
  }

  private async apply(store: BufferedStore, input: ViewInput): Promise<void> {
    switch (input.kind) {
      case 'trace':
        return this.applyTrace(store, input.trace, input.encoded);
      case 'detection':
        return this.applyDetection(store, input.detection);
      case 'metrics':
        return this.applyMetrics(store, input.metrics);
      case 'feedback':
        return this.applyFeedback(store, input.feedback);
      case 'tenant':
        return this.applyTenantEvent(store, input.event);
      case 'session':
        // The registry is compacted on the session key: the latest record is the state.
        store.put(VIEW_KEYS.session(input.session.tenantId, input.session.sessionId), json(input.session));
        return;
      case 'audit':
        // Kept as written, even when broken: verification must see what the topic holds.
        store.put(VIEW_KEYS.audit(input.record.tenantId, input.record.seq), json(input.record));
        return;
      case 'baseline': {
        const b = input.baseline;
        store.put(VIEW_KEYS.baseline(b.tenantId, b.serviceName, b.agent), json(b));
        return;
      }
      case 'calibration':
        store.put(VIEW_KEYS.calibration(input.calibration.tenantId, input.calibration.detectorId), json(input.calibration));
        return;
    }
  }

  /**
   * Moves the trace's latest known revision forward; returns false for outputs of a revision
   * that is already superseded.
   */
  private async admitRevision(store: BufferedStore, tenantId: string, traceId: string, revision: number): Promise<boolean> {
    const key = VIEW_KEYS.revision(tenantId, traceId);
    const raw = await store.get(key);
    const current = raw === null ? 0 : Number(raw.toString());
    if (revision < current) return false;
    if (revision > current) {
      store.put(key, Buffer.from(String(revision)));
      if (current > 0) await this.dropDetections(store, tenantId, traceId);
    }
    return true;
  }

  /**
   * A newer revision supersedes the detections of older ones: they leave the lists (by
   * trace, by time) but stay readable by id, for the detail of an earlier revision.
   */
  private async dropDetections(store: BufferedStore, tenantId: string, traceId: string): Promise<void> {
    for (const detection of await this.detectionsOf(store, tenantId, traceId)) {
      store.del(VIEW_KEYS.detectionByTime(detection.tenantId, detection.detectedAtMs, detection.id));
      store.del(VIEW_KEYS.detectionByTrace(detection.tenantId, detection.traceId, detection.id));
    }
  }

  private async detectionsOf(store: BufferedStore, tenantId: string, traceId: string): Promise<Detection[]> {
    const prefix = VIEW_KEYS.detectionByTracePrefix(tenantId, traceId);
    const ids: string[] = [];
    for await (const [key] of store.range(VIEW_KEYS.prefixRange(prefix))) ids.push(VIEW_KEYS.parseDetectionByTrace(key));
    const detections: Detection[] = [];
    for (const id of ids) {
      const raw = await store.get(VIEW_KEYS.detection(tenantId, id));
      if (raw !== null) detections.push(JSON.parse(raw.toString()) as Detection);
      // An index entry without its detection is dropped with the others.
      else store.del(VIEW_KEYS.detectionByTrace(tenantId, traceId, id));
    }
    return detections;
  }

  private deleteDetection(store: BufferedStore, detection: Detection): void {
    store.del(VIEW_KEYS.detectionByTime(detection.tenantId, detection.detectedAtMs, detection.id));
    store.del(VIEW_KEYS.detection(detection.tenantId, detection.id));
    store.del(VIEW_KEYS.detectionByTrace(detection.tenantId, detection.traceId, detection.id));
  }

  private async applyTrace(store: BufferedStore, trace: TraceRecord, encoded: Buffer): Promise<void> {
    if (!(await this.admitRevision(store, trace.tenantId, trace.traceId, trace.revision))) return;
    const old = await store.get(VIEW_KEYS.trace(trace.tenantId, trace.traceId));
    if (old !== null) {
      const previous = JSON.parse(old.toString()) as TraceSummary;
      await unlistTrace(store, trace.tenantId, trace.traceId, previous.closedAtMs, await this.facetsOf(store, trace.tenantId, trace.traceId));
    }
    const summary = traceSummaryOf(trace);
    await this.withdrawLiveDetections(store, trace);
    store.put(VIEW_KEYS.trace(trace.tenantId, trace.traceId), json(summary));
    // The full record, spans included, kept encoded as it came, once per revision: the
    // summary's revision names the latest. The by-time index entry comes with the facets.
    store.put(VIEW_KEYS.traceBodyRevision(trace.tenantId, trace.traceId, trace.revision), encoded);
    await this.updateFacets(store, trace.tenantId, trace.traceId, (f) => withTrace(f, trace));
  }

  private async updateFacets(store: BufferedStore, tenantId: string, traceId: string, change: (facets: TraceFacets | null) => TraceFacets | null): Promise<void> {
    const stored = await this.facetsOf(store, tenantId, traceId);
    const next = change(stored);
    if (next === null) return;
    store.put(VIEW_KEYS.traceFacets(tenantId, traceId), json(next));
    // The by-time entry carries the facets too, so a list page reads its entries in one
    // range scan instead of one lookup per trace; the facet index entries move with it.
    if (next.closedAtMs !== null) await listTrace(store, tenantId, traceId, { ...next, closedAtMs: next.closedAtMs }, stored);
  }

  private async facetsOf(store: BufferedStore, tenantId: string, traceId: string): Promise<TraceFacets | null> {
    const raw = await store.get(VIEW_KEYS.traceFacets(tenantId, traceId));
    return raw === null ? null : (JSON.parse(raw.toString()) as TraceFacets);
  }

  /**
   * A closed revision lists the detections it stands by: live detections of that revision
   * it does not list were withdrawn. The trace and detection topics are read side by side,
   * so either may come first; both orders end with the same view.
   */
  private async withdrawLiveDetections(store: BufferedStore, trace: TraceRecord): Promise<void> {
    const standing = new Set(trace.detectionIds);
    for (const detection of await this.detectionsOf(store, trace.tenantId, trace.traceId)) {
      if (detection.revision === trace.revision && detection.live && !standing.has(detection.id)) {
        this.deleteDetection(store, detection);
        await this.updateFacets(store, trace.tenantId, trace.traceId, (f) => (f === null ? null : withoutDetection(f, detection.id)));
      }
    }
  }

  /** A live detection arriving after its revision closed stands only if the close listed it. */
  private async withdrawnAlready(store: BufferedStore, detection: Detection): Promise<boolean> {
    if (!detection.live) return false;
    const raw = await store.get(VIEW_KEYS.trace(detection.tenantId, detection.traceId));
    if (raw === null) return false;
    const summary = JSON.parse(raw.toString()) as TraceSummary;
    if (summary.revision !== detection.revision) return false;
    const existing = await store.get(VIEW_KEYS.detection(detection.tenantId, detection.id));
    // Never let a live copy overwrite the final one, nor revive a withdrawn one.
    return existing !== null || !(summary.detectionIds ?? []).includes(detection.id);
  }

  /**
   * A withdrawal takes the detection of its id out of force. One of a revision replaced by a
   * newer one only says what admitting that revision does (the record stays readable by id,
   * for the earlier revision's detail); any other deletes it.
   */
  private async applyWithdrawal(store: BufferedStore, withdrawal: Detection & { withdrawn: Withdrawal }): Promise<void> {
    const { tenantId, traceId, withdrawn } = withdrawal;
    if (withdrawn.reason === 'revised') {
      await this.admitRevision(store, tenantId, traceId, withdrawn.revision);
      return;
    }
    const raw = await store.get(VIEW_KEYS.detection(tenantId, withdrawal.id));
    if (raw === null) return;
    this.deleteDetection(store, JSON.parse(raw.toString()) as Detection);
    await this.updateFacets(store, tenantId, traceId, (f) => (f === null ? null : withoutDetection(f, withdrawal.id)));
  }

  private async applyDetection(store: BufferedStore, detection: Detection): Promise<void> {
    if (detection.withdrawn !== undefined) return this.applyWithdrawal(store, { ...detection, withdrawn: detection.withdrawn });
    if (!(await this.admitRevision(store, detection.tenantId, detection.traceId, detection.revision))) return;
    if (await this.withdrawnAlready(store, detection)) return;
    // The final copy of a live detection replaces it, and its time index entry with it.
    const previous = await store.get(VIEW_KEYS.detection(detection.tenantId, detection.id));
    if (previous !== null) this.deleteDetection(store, JSON.parse(previous.toString()) as Detection);
    store.put(VIEW_KEYS.detection(detection.tenantId, detection.id), json(detection));
    store.put(VIEW_KEYS.detectionByTrace(detection.tenantId, detection.traceId, detection.id), Buffer.alloc(0));
    store.put(VIEW_KEYS.detectionByTime(detection.tenantId, detection.detectedAtMs, detection.id), Buffer.alloc(0));
    await this.updateFacets(store, detection.tenantId, detection.traceId, (f) => withDetection(f, detection));
  }

  private async applyMetrics(store: BufferedStore, metrics: TraceMetrics): Promise<void> {
    if (!(await this.admitRevision(store, metrics.tenantId, metrics.traceId, metrics.revision))) return;
    // The rollups move from the record this replaces to the new one, in the same unit.
    const held = await store.get(VIEW_KEYS.metrics(metrics.tenantId, metrics.traceId));
    await applyRollups(store, held === null ? null : (JSON.parse(held.toString()) as MetricsLike), metrics);
    const view = json({ ...metrics, startTimeUnixNano: metrics.startTimeUnixNano.toString() });
    store.put(VIEW_KEYS.metrics(metrics.tenantId, metrics.traceId), view);
    store.put(VIEW_KEYS.metricsRevision(metrics.tenantId, metrics.traceId, metrics.revision), view);
    await this.updateFacets(store, metrics.tenantId, metrics.traceId, (f) => withMetrics(f, metrics));
  }

  /** Kept by detection id, so it joins the detection at read time whichever arrived first. */
  private async applyFeedback(store: BufferedStore, feedback: FeedbackRecord): Promise<void> {
    store.put(VIEW_KEYS.feedback(feedback.tenantId, feedback.detectionId, feedback.id), json(feedback));
  }

  private async applyTenantEvent(store: BufferedStore, event: TenantRegistryEvent): Promise<void> {
    switch (event.type) {
      case 'tenant_created':
        store.put(VIEW_KEYS.tenant(event.tenantId), json({ tenantId: event.tenantId, name: event.name, createdAtMs: event.atMs }));
        return;
      case 'api_key_created':
        store.put(
          VIEW_KEYS.apiKey(event.keyId),
          json({ keyId: event.keyId, tenantId: event.tenantId, secretHash: event.secretHash, createdAtMs: event.atMs, revokedAtMs: null }),
        );
        store.put(VIEW_KEYS.apiKeyOfTenant(event.tenantId, event.keyId), Buffer.alloc(0));
        return;
      case 'api_key_revoked': {
        const raw = await store.get(VIEW_KEYS.apiKey(event.keyId));
        if (raw === null) return;
        store.put(VIEW_KEYS.apiKey(event.keyId), json({ ...(JSON.parse(raw.toString()) as object), revokedAtMs: event.atMs }));
        return;
      }
      case 'tenant_settings_changed':
        store.put(VIEW_KEYS.settings(event.tenantId), json({ baselineSigma: event.baselineSigma, baselineMinSamples: event.baselineMinSamples }));
        return;
    }
  }
}
