/**
 * The trace stage: consumes tracefold.raw.v1, keeps one
 * window per (tenant, trace) in a RocksDB-backed state store, and when a window closes runs
 * the semantic view, detectors and metrics and emits them to the output topics.
 *
 * A window closes on the first of: an analyze or session-end marker; its root span (empty
 * parent span id) having arrived `rootSettleMs` ago; `inactivityGapMs` without a new span;
 * a size cap (`windowMaxSpans` spans or `windowMaxBytes` bytes of raw record values), where
 * it closes at once marked truncated, its spans are dropped, and what follows starts the
 * next revision.
 *
 * Time is stream time per partition: the largest record timestamp (the ingest time) seen.
 * A replay therefore closes windows as fast as it reads. When a partition is caught up the
 * wall clock stands in for stream time, so a quiet live stream still closes its last traces.
 *
 * Every batch's window changes, outputs and consumed offset are committed as one unit.
 */
import type { Logger } from 'pino';
import type { Detector } from '../../detectors/detector.js';
import type { Log, LogRecord, OutgoingRecord, ReadableStore, TopicPartition } from '../../log/port.js';
import type { Codecs } from '../../log/serde/index.js';
import { TOPICS } from '../../log/topics.js';
import { identityOf, withdrawalOf, type CloseReason, type Detection, type DetectionIdentity, type Withdrawal } from '../../model/outputs.js';
import { HEADER, parseTraceKey, traceKey } from '../../model/record-keys.js';
import { sameSpanContent, type CanonicalSpan, type RawEvent } from '../../model/span.js';
import type { BufferedStore } from '../../runtime/buffered-store.js';
import { messageOf, PoisonRecordError, reasonOf } from '../../runtime/dead-letter.js';
import type { ProcessorContext, StageOutput } from '../../runtime/processor.js';
import { StatefulProcessor } from '../../runtime/stateful-processor.js';
import { SerdeError } from '../../log/serde/errors.js';
import { spanKeyPartProblem } from '../../semantic/key-parts.js';
import { toSemanticSpan, serviceNameOf } from '../../semantic/mapper.js';
import type { SemanticSpan } from '../../semantic/semantic-span.js';
import { analyzeWindow, detectionIdOf, toDetection, type TraceOutputs } from './analyze.js';
import { tenantStageRecord } from '../tenant/events.js';
import { calibrate } from '../../calibration/calibration.js';
import { applyLive, isEmptyPlan, liveSavepoint, parseLiveState, planLive, serializeLiveState, type LiveState } from './live.js';
import type { DetectorRunObserver } from './run-detector.js';
import { DecodedSpans } from './decoded-spans.js';
import { WindowIndex } from './window-index.js';
import { decodeWindowMeta, encodeWindowMeta, type WindowMeta } from './window-meta.js';
import { clockKey, expiryRange, liveKey, spanKey, spanRange, standingKey, traceRef, windowKey, windowRange } from './window-keys.js';

export const TRACE_STAGE_GROUP = 'tracefold-trace-stage';

/** Window limits when the options leave them out (config.ts documents the same defaults). */
export const WINDOW_DEFAULTS = { rootSettleMs: 5000, windowMaxSpans: 10_000, windowMaxBytes: 64 * 1024 * 1024 } as const;

export interface TraceStageOptions {
  readonly log: Log;
  readonly codecs: Codecs;
  readonly detectors: readonly Detector[];
  readonly pipelineVersion: string;
  readonly inactivityGapMs: number;
  /** A window closes this long after its root span arrived (if the inactivity gap is not first); default 5 s. */
  readonly rootSettleMs?: number;
  /** A window reaching this many spans closes at once, truncated; default 10,000. */
  readonly windowMaxSpans?: number;
  /** A window reaching this many bytes of raw record values closes at once, truncated; default 64 MiB. */
  readonly windowMaxBytes?: number;
  /** How long a closed trace stays reopenable by late spans. */
  readonly latenessHorizonMs: number;
  /** How long a forgotten trace's revision number is remembered (the raw topic's retention). */
  readonly tombstoneRetentionMs: number;
  /** This tenant's confidence shift for a detector (calibration-reader.ts); none by default. */
  readonly calibration?: { shiftOf(tenantId: string, detectorId: string): number };
  /** Spans of open windows kept decoded for their close (decoded-spans.ts); default 20,000. */
  readonly decodedSpanBudget?: number;
  /** Run detectors that support it on open windows (live.ts); default true. */
  readonly liveDetection?: boolean;
  /** Told of every detector run (duration, failure), for /metrics. */
  readonly detectorRuns?: DetectorRunObserver;
  readonly logger: Logger;
  /** Wall clock, injectable for tests. */
  readonly now?: () => number;
  /** The consumer group and whether the window store has a changelog; the live stage's by default. */
  readonly runtime?: { readonly group: string; readonly changelog: boolean };
}

/** A partition's clock, kept beside its windows (the runtime keeps its offset). */
interface PartitionClock {
  streamTimeMs: number;
  /** Windows open on the partition (absent in positions written before it was counted). */
  openWindows?: number;
}

/** Per-partition processing context for one unit of work. */
interface PartitionWork {
  readonly partition: number;
  readonly store: BufferedStore;
  /** The partition's windows; changes made here are written to the store at commit. */
  readonly windows: WindowIndex;
  readonly outputs: { topic: string; record: OutgoingRecord }[];
  /**
   * Live detection states this batch changed, by trace ref (latin1): read once, written once
   * at commit, however many relevant spans of the window the batch held.
   */
  readonly live: Map<string, { readonly ref: Buffer; readonly state: LiveState }>;
  /** How to undo each change to `live` and its states, newest last (per-record rollback). */
  readonly liveUndo: (() => void)[];
  position: PartitionClock;
}

export interface TraceStageStats {
  spansAssembled: number;
  /** Re-sent spans whose ids and content were already held: nothing changed. */
  duplicateSpans: number;
  /** Re-sent spans with the same ids and other content, which replaced the earlier copy. */
  replacedSpans: number;
  windowsClosed: number;
  lateSpansDeadLettered: number;
  detectionsEmitted: number;
  /** Of detectionsEmitted, those fired while their window was open. */
  liveDetectionsEmitted: number;
  /** Findings not emitted because the tenant's calibration put them below the floor. */
  detectionsSuppressed: number;
  /** Detections emitted, by detection type. */
  detectionsByType: Record<string, number>;
  /** Windows whose analysis or encoding failed; each is on the dead-letter topic. */
  windowsFailed: number;
}

type TraceIds = { readonly tenantId: string; readonly traceId: string };

/** The meta of a window opening as revision 1 of its trace. */
function newWindow(ids: TraceIds, lastArrivalMs: number, deadlineMs: number): WindowMeta {
  const { tenantId, traceId } = ids;
  return { tenantId, traceId, revision: 1, state: 'open', spanCount: 0, byteCount: 0, rootArrivalMs: null, lastArrivalMs, closedAtMs: 0, deadlineMs };
}

/**
 * Whether a span record is a root span. Ingest says so in a header; records appended
 * before it did are read from the decoded span.
 */
function isRoot(record: LogRecord, event: RawEvent): boolean {
  const header = record.headers[HEADER.root];
  if (header !== undefined) return header === '1';
  return event.type === 'span' && event.span.parentSpanId === '';
}

export class TraceStage extends StatefulProcessor {
  private readonly clocks = new Map<number, PartitionClock>();
  /** The work of the batch each context carries, until it commits. */
  private readonly pending = new WeakMap<ProcessorContext, PartitionWork>();
  /** The windows of each partition held, rebuilt from the store on assignment. */
  private readonly windows = new Map<number, WindowIndex>();
  /** Partitions whose store still holds an earlier version's expiry index, dropped at their next commit. */
  private readonly legacyExpiry = new Set<number>();
  private readonly now: () => number;
  private readonly rootSettleMs: number;
  private readonly windowMaxSpans: number;
  private readonly windowMaxBytes: number;
  readonly stats: TraceStageStats = {
    spansAssembled: 0,
    duplicateSpans: 0,
    replacedSpans: 0,
    windowsClosed: 0,
    lateSpansDeadLettered: 0,
    detectionsEmitted: 0,
    liveDetectionsEmitted: 0,
    detectionsSuppressed: 0,
    detectionsByType: {},
    windowsFailed: 0,
  };

  /** Records of tracefold.raw.v1 appended but not yet consumed, over the partitions this process holds. */
  lag(): Promise<number> {
    return this.runtime.lag(TOPICS.raw);
  }

  /** Windows open on the partitions this process holds (counted with each partition's position). */
  get openWindows(): number {
    let open = 0;
    for (const clock of this.clocks.values()) open += clock.openWindows ?? 0;
    return open;
  }

  private countDetections(types: readonly string[]): void {
    for (const type of types) this.stats.detectionsByType[type] = (this.stats.detectionsByType[type] ?? 0) + 1;
  }
  /** The detectors that can fire on open windows; empty when live detection is off. */
  private readonly liveDetectors: readonly Detector[];
  private readonly decoded: DecodedSpans;
  /** Semantic views made by live detection, reused when the window closes; gone with their spans. */
  private readonly semanticViews = new WeakMap<CanonicalSpan, SemanticSpan>();

  constructor(private readonly options: TraceStageOptions) {
    super({
      name: 'trace stage',
      stage: 'trace',
      log: options.log,
      group: options.runtime?.group ?? TRACE_STAGE_GROUP,
      topics: [TOPICS.raw],
      store: { name: 'windows', changelog: options.runtime?.changelog ?? true },
      positions: 'store',
      logger: options.logger,
    });
    this.now = options.now ?? Date.now;
    this.rootSettleMs = options.rootSettleMs ?? WINDOW_DEFAULTS.rootSettleMs;
    this.windowMaxSpans = options.windowMaxSpans ?? WINDOW_DEFAULTS.windowMaxSpans;
    this.windowMaxBytes = options.windowMaxBytes ?? WINDOW_DEFAULTS.windowMaxBytes;
    this.liveDetectors = options.liveDetection === false ? [] : options.detectors.filter((d) => d.live !== undefined);
    this.decoded = new DecodedSpans(options.decodedSpanBudget ?? 20_000);
  }

  /** Rebuilds the partition's window index and clock from the store. */
  async assigned({ partition }: TopicPartition, store: ReadableStore): Promise<void> {
    const raw = await store.get(clockKey(partition));
    // Clocks written before the runtime kept offsets also hold a nextOffset: not carried on.
    const { streamTimeMs, openWindows } = raw === null ? { streamTimeMs: 0, openWindows: undefined } : (JSON.parse(raw.toString()) as PartitionClock);
    this.clocks.set(partition, openWindows === undefined ? { streamTimeMs } : { streamTimeMs, openWindows });
    this.windows.set(partition, await this.loadWindows(store, partition));
    for await (const _ of store.range({ ...expiryRange(partition, Number.MAX_SAFE_INTEGER - 1), limit: 1 })) this.legacyExpiry.add(partition);
  }

  revoked({ partition }: TopicPartition): void {
    this.clocks.delete(partition);
    this.windows.delete(partition);
    this.legacyExpiry.delete(partition);
    this.decoded.clear();
  }

  /** Every window meta of the partition, read once so the hot path reads none. */
  private async loadWindows(store: ReadableStore, partition: number): Promise<WindowIndex> {
    const index = new WindowIndex();
    const prefix = windowRange(partition).gte.length;
    for await (const [key, value] of store.range(windowRange(partition))) index.load(key.subarray(prefix), decodeWindowMeta(value));
    return index;
  }

  private beginWork(context: ProcessorContext): PartitionWork {
    const { partition, store, outputs } = context;
    const clock = this.clocks.get(partition) ?? { streamTimeMs: 0 };
    let windows = this.windows.get(partition);
    if (windows === undefined) this.windows.set(partition, (windows = new WindowIndex()));
    const work: PartitionWork = { partition, store, windows, outputs, live: new Map(), liveUndo: [], position: { ...clock } };
    this.pending.set(context, work);
    return work;
  }

  /** What the batch kept in memory goes into its store writes: one per touched window. */
  beforeCommit(context: ProcessorContext): void {
    const work = this.pending.get(context);
    if (work === undefined) return;
    for (const { ref, state } of work.live.values()) work.store.put(liveKey(work.partition, ref), serializeLiveState(state));
    for (const [ref, meta] of work.windows.changes()) {
      if (meta === null) work.store.del(windowKey(work.partition, ref));
      else work.store.put(windowKey(work.partition, ref), encodeWindowMeta(meta));
    }
    if (this.legacyExpiry.has(work.partition)) {
      const { gte, lt } = expiryRange(work.partition, Number.MAX_SAFE_INTEGER - 1);
      work.store.delRange(gte, lt);
    }
    work.store.put(clockKey(work.partition), Buffer.from(JSON.stringify(work.position)));
  }

  committed(context: ProcessorContext): void {
    const work = this.pending.get(context);
    if (work === undefined) return;
    work.windows.commit();
    this.legacyExpiry.delete(work.partition);
    this.clocks.set(work.partition, work.position);
  }

  commitFailed(context: ProcessorContext): void {
    this.pending.get(context)?.windows.discard();
    this.decoded.clear();
  }

  async process(records: readonly LogRecord[], context: ProcessorContext): Promise<void> {
    const work = this.beginWork(context);
    await work.store.prefetch(this.keysOf(records, context.partition, work.windows));
    for (const record of records) {
      if (record.timestamp > work.position.streamTimeMs) {
        work.position.streamTimeMs = record.timestamp;
        await this.closeExpired(work, work.position.streamTimeMs);
      }
      // One record's content never stops the partition: what it wrote is undone and it goes
      // to the dead-letter topic in this same unit.
      const position = { ...work.position };
      const windows = work.windows.savepoint();
      const live = work.liveUndo.length;
      await context.isolate(record, () => this.admitRecord(work, record), {
        classify: (err) => reasonOf(err, 'content'),
        undo: () => {
          work.position = position;
          work.windows.rollback(windows);
          while (work.liveUndo.length > live) work.liveUndo.pop()!();
          this.forgetDecoded(record);
        },
      });
    }
  }

  /**
   * The span and live-state keys a batch will read, so they arrive in one round trip. Only
   * traces with a window can hold them: a trace the index does not know costs no read. A
   * record whose keys cannot be built is left out here and dead-lettered when its turn comes.
   */
  private keysOf(records: readonly LogRecord[], partition: number, windows: WindowIndex): Buffer[] {
    const keys: Buffer[] = [];
    for (const record of records) {
      const ids = parseTraceKey(record.key);
      if (ids === null) continue;
      try {
        const ref = traceRef(ids.tenantId, ids.traceId);
        if (!windows.has(ref)) continue;
        const spanId = record.headers[HEADER.spanId];
        if (this.liveDetectors.length > 0) keys.push(liveKey(partition, ref));
        if (spanId !== undefined && !this.decoded.holds(ref)) keys.push(spanKey(partition, ref, spanId));
      } catch {
        continue;
      }
    }
    return keys;
  }

  /**
   * Refuses a record the window logic cannot place (no trace key, no value, a value that
   * does not decode: it would fail the window's close later, on every restart), then
   * places it. The value is decoded here once; what follows reads the decoded event.
   */
  private async admitRecord(work: PartitionWork, record: LogRecord): Promise<void> {
    const ids = parseTraceKey(record.key);
    if (ids === null) throw new PoisonRecordError('key', 'the record key is not tenant/trace');
    if (record.value === null) throw new PoisonRecordError('decode', 'the record has no value');
    const event = await this.options.codecs.rawEvent.decode(record.value);
    // Ingest refuses such a span; one that reached the log another way stops here, before
    // the tenant stage and the views would key by it.
    const keyPartProblem = event.type === 'span' ? spanKeyPartProblem(event.span) : null;
    if (keyPartProblem !== null) throw new PoisonRecordError('key', keyPartProblem);
    await this.processRecord(work, record as LogRecord & { value: Buffer }, ids, event);
  }

  /** A record was rolled back: its window's held spans may include it, so the window is let go. */
  private forgetDecoded(record: LogRecord): void {
    const ids = parseTraceKey(record.key);
    if (ids === null) return;
    try {
      this.decoded.drop(traceRef(ids.tenantId, ids.traceId));
    } catch {
      // No ref can be built from its key: nothing of it was held.
    }
  }

  /** Caught up: the wall clock stands in for stream time so quiet streams still close. */
  async idle(context: ProcessorContext): Promise<void> {
    const now = this.now();
    if (!this.clocks.has(context.partition)) return;
    if ((this.windows.get(context.partition)?.nextDeadlineMs ?? Number.MAX_SAFE_INTEGER) > now) return;
    await this.closeExpired(this.beginWork(context), now);
  }

  /** Closes every open window of the partition now, in this batch's unit (the end of a replay). */
  protected async closeAll(context: ProcessorContext): Promise<void> {
    await this.closeExpired(this.pending.get(context) ?? this.beginWork(context), Number.MAX_SAFE_INTEGER);
  }

  private async processRecord(work: PartitionWork, record: LogRecord & { value: Buffer }, ids: TraceIds, event: RawEvent): Promise<void> {
    const type = record.headers[HEADER.type];
    const ref = traceRef(ids.tenantId, ids.traceId);
    if (type === 'marker') {
      const marker = record.headers[HEADER.marker];
      if (marker === 'session_reset') {
        await this.resetWindow(work, ref, ids, record);
        return;
      }
      const kind = marker === 'session_end' ? 'session_end' : 'analyze';
      const meta = work.windows.get(ref);
      const requestId = record.headers[HEADER.requestId];
      if (meta !== null && requestId !== undefined && meta.skipRequestId === requestId) {
        // The end of a re-sent batch that changed nothing.
        const { skipRequestId: _done, ...rest } = meta;
        work.windows.put(ref, rest);
        return;
      }
      if (meta !== null && meta.state === 'open') {
        const spans = await this.windowSpans(work, ref, meta);
        await this.closeWindow(work, ref, meta, spans, kind, record.headers[HEADER.requestId] ?? '', record.timestamp);
      }
      return;
    }
    const spanId = record.headers[HEADER.spanId];
    if (type !== 'span' || spanId === undefined) {
      this.options.logger.warn({ partition: record.partition, offset: record.offset, type }, 'raw record of unknown type; skipped');
      return;
    }

    let meta = work.windows.get(ref);
    if (meta?.skipRequestId !== undefined && record.headers[HEADER.requestId] === meta.skipRequestId) {
      // A span of a session batch sent again unchanged (resetWindow).
      this.stats.duplicateSpans++;
      return;
    }
    const key = spanKey(work.partition, ref, spanId);
    // A re-sent span (a retrying exporter, a client whose answer was lost) with the same ids
    // and content changes nothing, open or closed: no replacement, no new revision. Checked
    // before anything else so that a re-send of a closed trace does not reopen it.
    const existing = meta === null || meta.state === 'forgotten' ? null : await this.heldCopy(work, ref, key, spanId);
    if (existing !== null && (await existing.sameAs(record.value, event))) {
      this.stats.duplicateSpans++;
      return;
    }
    const previousState = meta?.state ?? null;
    if (meta !== null && meta.state !== 'open') {
      if (meta.state === 'forgotten' || record.timestamp - meta.closedAtMs > this.options.latenessHorizonMs) {
        this.deadLetter(work, record, 'the trace closed longer ago than the lateness horizon');
        return;
      }
      if (meta.capped === true) {
        // After a size cap the trace goes on in a new window: revision n+1 holds only what
        // follows, so neither memory nor the record grows past the cap.
        meta = { ...meta, revision: meta.revision + 1, state: 'open', spanCount: 0, byteCount: 0, rootArrivalMs: null, capped: false };
      } else {
        // A late span reopens the trace as a new revision that supersedes the last one. A
        // root seen before settles again from now, so stragglers arriving together join it.
        const rootArrivalMs = meta.rootArrivalMs === null || meta.rootArrivalMs === undefined ? null : record.timestamp;
        meta = { ...meta, revision: meta.revision + 1, state: 'open', rootArrivalMs };
      }
    }
    // A new window, or a closed one reopening: one more open window on the partition.
    if (previousState !== 'open') work.position.openWindows = (work.position.openWindows ?? 0) + 1;
    meta ??= newWindow(ids, 0, 0);
    // A window starting empty can be held decoded from its first span to its close.
    if (previousState !== 'open' && meta.spanCount === 0) this.decoded.open(ref);
    if (existing === null) {
      meta.spanCount++;
      this.stats.spansAssembled++;
    } else {
      // Same identity, other content: the latest copy replaces the earlier one.
      this.stats.replacedSpans++;
    }
    meta.byteCount = (meta.byteCount ?? 0) - (existing?.bytes ?? 0) + record.value.length;
    work.store.put(key, record.value);
    if (event.type === 'span') this.decoded.add(ref, spanId, event.span, record.value.length, key);
    meta.lastArrivalMs = Math.max(meta.lastArrivalMs, record.timestamp);
    if ((meta.rootArrivalMs ?? null) === null && isRoot(record, event)) meta.rootArrivalMs = record.timestamp;
    if (this.liveDetectors.length > 0) await this.detectLive(work, ref, meta, event, record.timestamp);
    meta.deadlineMs = this.deadlineOf(meta);
    if (meta.spanCount >= this.windowMaxSpans || meta.byteCount >= this.windowMaxBytes) {
      // The size cap: close now, at this record's stream time, marked truncated.
      const spans = await this.windowSpans(work, ref, meta);
      await this.closeWindow(work, ref, meta, spans, 'size_cap', '', Math.max(work.position.streamTimeMs, record.timestamp));
      return;
    }
    work.windows.put(ref, meta);
  }

  /**
   * Runs the live detectors over the span just stored; what they find goes out with this
   * unit, flagged live, under the id the closed window's detection will have.
   */
  private async detectLive(work: PartitionWork, ref: Buffer, meta: WindowMeta, event: RawEvent, timestampMs: number): Promise<void> {
    // A log record is read with its span when the window closes (genai-events.ts), not alone.
    if (event.type !== 'span' || event.span.source === 'otlp-logs') return;
    const span = toSemanticSpan(event.span);
    this.semanticViews.set(event.span, span);
    const trace = { tenantId: meta.tenantId, traceId: meta.traceId, serviceName: serviceNameOf(event.span) };
    const plan = planLive(span, this.liveDetectors, trace, this.options.detectorRuns);
    if (isEmptyPlan(plan)) return;
    const state = await this.liveStateOf(work, ref);
    work.liveUndo.push(liveSavepoint(state, plan));
    const { kept: found, suppressed } = calibrate(applyLive(state, span, plan, trace, this.options.detectorRuns), (detectorId) => this.shiftOf(meta.tenantId, detectorId));
    this.stats.detectionsSuppressed += suppressed.length;
    if (found.length === 0) return;
    const { codecs, pipelineVersion } = this.options;
    const ids = { tenantId: meta.tenantId, traceId: meta.traceId, revision: meta.revision, pipelineVersion };
    const headers = { [HEADER.revision]: String(meta.revision), [HEADER.pipeline]: pipelineVersion, [HEADER.live]: '1' };
    for (const f of found) {
      const detection = toDetection(ids, f, { live: true, primary: false, subsumedBy: null, detectedAtMs: timestampMs });
      const encoded = await codecs.detection.encode(detection);
      work.outputs.push({ topic: TOPICS.detections, record: { key: traceKey(meta.tenantId, meta.traceId), value: encoded, headers, timestamp: timestampMs } });
    }
    this.stats.detectionsEmitted += found.length;
    this.stats.liveDetectionsEmitted += found.length;
    this.countDetections(found.map((f) => f.finding.detectionType));
  }

  /** The window's live state for this batch: read from the store on first use. */
  private async liveStateOf(work: PartitionWork, ref: Buffer): Promise<LiveState> {
    const key = ref.toString('latin1');
    const held = work.live.get(key);
    if (held !== undefined) return held.state;
    const state = parseLiveState(await work.store.get(liveKey(work.partition, ref)));
    work.live.set(key, { ref, state });
    work.liveUndo.push(() => work.live.delete(key));
    return state;
  }

  /** Drops the window's live state, in the store and in this batch. */
  private dropLive(work: PartitionWork, ref: Buffer): void {
    const key = ref.toString('latin1');
    const held = work.live.get(key);
    if (held !== undefined) {
      work.live.delete(key);
      work.liveUndo.push(() => work.live.set(key, held));
    }
    work.store.del(liveKey(work.partition, ref));
  }

  /**
   * The copy of a span the window already holds, if any: its size, and whether an incoming
   * record holds the same span (equal bytes, or, since each copy carries its own arrival
   * time, equal once decoded apart from how and when it arrived). A window held decoded
   * answers from memory; otherwise the store is read, and only a re-sent span id decodes
   * the stored copy.
   */
  private async heldCopy(
    work: PartitionWork,
    ref: Buffer,
    key: Buffer,
    spanId: string,
  ): Promise<{ readonly bytes: number; sameAs(incoming: Buffer, event: RawEvent): Promise<boolean> } | null> {
    if (this.decoded.holds(ref)) {
      const held = this.decoded.get(ref, spanId);
      if (held === undefined) return null;
      return { bytes: held.bytes, sameAs: async (_incoming, event) => event.type === 'span' && sameSpanContent(held.span, event.span) };
    }
    const stored = await work.store.get(key);
    if (stored === null) return null;
    return {
      bytes: stored.length,
      sameAs: async (incoming, event) => {
        if (stored.equals(incoming)) return true;
        const earlier = await this.options.codecs.rawEvent.decode(stored);
        return earlier.type === 'span' && event.type === 'span' && sameSpanContent(earlier.span, event.span);
      },
    };
  }

  private shiftOf(tenantId: string, detectorId: string): number {
    return this.options.calibration?.shiftOf(tenantId, detectorId) ?? 0;
  }

  /** The open window's next deadline: the inactivity gap, or the root's settle time if sooner. */
  private deadlineOf(meta: WindowMeta): number {
    const inactivity = meta.lastArrivalMs + this.options.inactivityGapMs;
    const root = meta.rootArrivalMs ?? null;
    return root === null ? inactivity : Math.min(inactivity, root + this.rootSettleMs);
  }

  /** Why an open window whose deadline came closes. */
  private expiryReason(meta: WindowMeta): CloseReason {
    const root = meta.rootArrivalMs ?? null;
    return root !== null && root + this.rootSettleMs < meta.lastArrivalMs + this.options.inactivityGapMs ? 'root_settled' : 'inactivity';
  }

  /**
   * A session batch replaces the session's event list. Spans that other routes sent to the
   * same trace are not the session's and stay; the batch's own spans follow the marker.
   *
   * - the same batch again (its digest is the one last applied): nothing changes; the
   *   records of that request that follow are passed over, up to its session_end marker.
   * - open window: the session's earlier spans go; the revision stays (nothing of it was
   *   emitted yet).
   * - closed or forgotten window: its outputs are already out, so it reopens as revision
   *   n+1, whose outputs supersede them. The lateness horizon does not apply: it guards
   *   against stray late spans, while a batch is the producer's explicit replacement.
   * - no window: one opens, remembering the batch's digest.
   */
  private async resetWindow(work: PartitionWork, ref: Buffer, ids: TraceIds, record: LogRecord): Promise<void> {
    // Its spans are about to be filtered in the store; the close reads them from there.
    this.decoded.drop(ref);
    const meta = work.windows.get(ref);
    const digest = record.headers[HEADER.contentDigest];
    const requestId = record.headers[HEADER.requestId] ?? '';
    const lastArrivalMs = Math.max(meta?.lastArrivalMs ?? 0, record.timestamp);
    if (meta === null) {
      work.position.openWindows = (work.position.openWindows ?? 0) + 1;
      const opened: WindowMeta = {
        ...newWindow(ids, lastArrivalMs, lastArrivalMs + this.options.inactivityGapMs),
        ...(digest === undefined ? {} : { sessionDigest: digest }),
      };
      work.windows.put(ref, opened);
      return;
    }
    if (digest !== undefined && digest === meta.sessionDigest && meta.state !== 'forgotten') {
      work.windows.put(ref, { ...meta, skipRequestId: requestId });
      return;
    }
    const { spanCount, byteCount } = await this.dropSessionSpans(work, ref, meta);
    this.dropLive(work, ref);
    if (meta.state !== 'open') work.position.openWindows = (work.position.openWindows ?? 0) + 1;
    const { skipRequestId: _skipped, sessionDigest: _previous, ...rest } = meta;
    const reset: WindowMeta = {
      ...rest,
      revision: meta.state === 'open' ? meta.revision : meta.revision + 1,
      state: 'open',
      spanCount,
      byteCount,
      rootArrivalMs: null,
      capped: false,
      lastArrivalMs,
      deadlineMs: lastArrivalMs + this.options.inactivityGapMs,
      ...(digest === undefined ? {} : { sessionDigest: digest }),
    };
    work.windows.put(ref, reset);
  }

  /** Deletes the window's spans that came from session events; returns what is left. */
  private async dropSessionSpans(work: PartitionWork, ref: Buffer, meta: WindowMeta): Promise<{ spanCount: number; byteCount: number }> {
    if (meta.state === 'forgotten') return { spanCount: 0, byteCount: 0 };
    let spanCount = 0;
    let byteCount = 0;
    for await (const [key, value] of work.store.range(spanRange(work.partition, ref))) {
      const event = await this.options.codecs.rawEvent.decode(value);
      if (event.type === 'span' && event.span.source === 'session-events') {
        work.store.del(key);
      } else {
        spanCount++;
        byteCount += value.length;
      }
    }
    return { spanCount, byteCount };
  }

  private deadLetter(work: PartitionWork, record: LogRecord, reason: string): void {
    this.stats.lateSpansDeadLettered++;
    this.poison.deadLetter(work.outputs, record, 'late', reason);
  }

  /** Closes every window whose deadline is at or before `timeMs`; returns how many closed. */
  private async closeExpired(work: PartitionWork, timeMs: number): Promise<number> {
    if (work.windows.nextDeadlineMs > timeMs) return 0;
    const closing: { ref: Buffer; meta: WindowMeta }[] = [];
    for (const { ref, meta } of work.windows.due(timeMs)) {
      if (meta.state === 'open') {
        closing.push({ ref, meta });
      } else if (meta.state === 'closed') {
        this.forgetWindow(work, ref, meta);
      } else {
        work.windows.delete(ref);
        work.store.del(standingKey(work.partition, ref));
      }
    }
    // The windows' spans are read side by side: each read is a round trip to RocksDB.
    const spans = await Promise.all(closing.map(({ ref, meta }) => this.windowSpans(work, ref, meta)));
    for (const [i, { ref, meta }] of closing.entries()) {
      await this.closeWindow(work, ref, meta, spans[i]!, this.expiryReason(meta), '', meta.deadlineMs);
    }
    return closing.length;
  }

  /** The closing window's spans: as held decoded since they arrived, else read from the store. */
  private async windowSpans(work: PartitionWork, ref: Buffer, meta: WindowMeta): Promise<CanonicalSpan[]> {
    return this.decoded.spansOf(ref, meta.spanCount) ?? (await this.loadSpans(work, ref));
  }

  private async loadSpans(work: PartitionWork, ref: Buffer): Promise<CanonicalSpan[]> {
    const spans: CanonicalSpan[] = [];
    for await (const [, value] of work.store.range(spanRange(work.partition, ref))) {
      try {
        const event = await this.options.codecs.rawEvent.decode(value);
        if (event.type === 'span') spans.push(event.span);
      } catch (err) {
        // Held before values were checked on arrival: leave it out rather than fail the close.
        if (!(err instanceof SerdeError)) throw err;
        this.options.logger.error({ err, partition: work.partition }, 'a held span does not decode; left out of its trace');
      }
    }
    return spans;
  }

  private async closeWindow(
    work: PartitionWork,
    ref: Buffer,
    meta: WindowMeta,
    spans: readonly CanonicalSpan[],
    reason: CloseReason,
    requestId: string,
    closedAtMs: number,
  ): Promise<void> {
    const { detectors, pipelineVersion } = this.options;
    const capped = reason === 'size_cap';
    try {
      const outputs = analyzeWindow(
        {
          tenantId: meta.tenantId,
          traceId: meta.traceId,
          revision: meta.revision,
          closeReason: reason,
          closeRequestId: requestId,
          closedAtMs,
          spans,
          semanticOf: (span) => this.semanticViews.get(span),
          truncated: capped,
        },
        detectors,
        pipelineVersion,
        (detectorId) => this.shiftOf(meta.tenantId, detectorId),
        this.options.detectorRuns,
      );
      this.stats.detectionsSuppressed += outputs.suppressed;
      const withdrawals = await this.withdrawalsAt(work, ref, meta, outputs.detections, closedAtMs);
      await this.emit(work, outputs, withdrawals);
    } catch (err) {
      // One trace that cannot be analyzed or encoded must not stop the partition: it would
      // fail again after every restart. It is recorded on the dead-letter topic, counted,
      // and closed like any other; a fixed build can replay it from the raw topic.
      this.stats.windowsFailed++;
      // The failure belongs to the window, not to one record: no value, offset -1.
      const source = {
        topic: TOPICS.raw,
        partition: work.partition,
        offset: -1,
        key: traceKey(meta.tenantId, meta.traceId),
        value: null,
        headers: { [HEADER.revision]: String(meta.revision) },
        timestamp: closedAtMs,
      };
      this.poison.deadLetter(work.outputs, source, 'analysis', messageOf(err), err);
    }
    work.position.openWindows = Math.max(0, (work.position.openWindows ?? 0) - 1);
    this.decoded.drop(ref);
    // What fired live is settled by the outputs above; a reopened revision starts afresh.
    this.dropLive(work, ref);
    if (capped) {
      // The capped revision is final: its spans go, so the next revision starts empty.
      const { gte, lt } = spanRange(work.partition, ref);
      work.store.delRange(gte, lt);
    }
    const closedMeta: WindowMeta = {
      ...meta,
      state: 'closed',
      capped,
      ...(capped ? { spanCount: 0, byteCount: 0, rootArrivalMs: null } : {}),
      closedAtMs,
      deadlineMs: closedAtMs + this.options.latenessHorizonMs,
    };
    work.windows.put(ref, closedMeta);
    this.stats.windowsClosed++;
  }

  /**
   * Past the lateness horizon the spans go; the meta stays as a tombstone for as long as
   * the raw topic keeps records, so a span re-read from it never restarts revision 1.
   */
  private forgetWindow(work: PartitionWork, ref: Buffer, meta: WindowMeta): void {
    const { gte, lt } = spanRange(work.partition, ref);
    work.store.delRange(gte, lt);
    work.windows.put(ref, { ...meta, state: 'forgotten', deadlineMs: meta.deadlineMs + this.options.tombstoneRetentionMs });
  }

  /**
   * What a close takes back, as withdrawal records: the live detections of this revision it
   * does not find, and the detections the previous revision stood by that this one does not.
   * Remembers the detections this revision stands by, for the next.
   */
  private async withdrawalsAt(work: PartitionWork, ref: Buffer, meta: WindowMeta, detections: readonly Detection[], atMs: number): Promise<Detection[]> {
    const standing = new Set(detections.map((d) => d.id));
    const withdrawals: Detection[] = [];
    const withdraw = (identity: DetectionIdentity, reason: Withdrawal['reason']) => {
      if (!standing.has(identity.id)) withdrawals.push(withdrawalOf(identity, { reason, revision: meta.revision, replayId: null, atMs }));
    };
    if (this.liveDetectors.length > 0) {
      const { tenantId, traceId, revision } = meta;
      const { reported } = await this.liveStateOf(work, ref);
      for (const detector of this.liveDetectors) {
        for (const fingerprint of reported[detector.id] ?? []) {
          const id = detectionIdOf(tenantId, traceId, revision, detector.id, detector.version, fingerprint);
          // The type is the finding's and is not kept live: the id is what names it.
          withdraw({ id, tenantId, traceId, revision, pipelineVersion: this.options.pipelineVersion, detectorId: detector.id, detectorVersion: detector.version, detectionType: '' }, 'unconfirmed');
        }
      }
    }
    const key = standingKey(work.partition, ref);
    if (meta.revision > 1) {
      const raw = await work.store.get(key);
      if (raw !== null) for (const identity of JSON.parse(raw.toString()) as DetectionIdentity[]) withdraw(identity, 'revised');
    }
    if (detections.length > 0) work.store.put(key, Buffer.from(JSON.stringify(detections.map(identityOf))));
    else if (meta.revision > 1) work.store.del(key);
    return withdrawals;
  }

  /** Encodes every output first, so a failure leaves nothing of this trace half-emitted. */
  protected async emit(
    work: { readonly store: BufferedStore; readonly outputs: StageOutput[] },
    outputs: TraceOutputs,
    withdrawals: readonly Detection[] = [],
  ): Promise<void> {
    const { codecs, pipelineVersion } = this.options;
    const { trace } = outputs;
    const key = traceKey(trace.tenantId, trace.traceId);
    const headers = { [HEADER.revision]: String(trace.revision), [HEADER.pipeline]: pipelineVersion };
    const timestamp = trace.closedAtMs;
    const encoded: { topic: string; record: OutgoingRecord }[] = [
      { topic: TOPICS.traces, record: { key, value: await codecs.trace.encode(trace), headers, timestamp } },
      { topic: TOPICS.metrics, record: { key, value: await codecs.metrics.encode(outputs.metrics), headers, timestamp } },
    ];
    for (const detection of outputs.detections) {
      encoded.push({ topic: TOPICS.detections, record: { key, value: await codecs.detection.encode(detection), headers, timestamp } });
    }
    for (const withdrawal of withdrawals) {
      const withdrawalHeaders = { ...headers, [HEADER.withdrawn]: withdrawal.withdrawn!.reason };
      encoded.push({ topic: TOPICS.detections, record: { key, value: await codecs.detection.encode(withdrawal), headers: withdrawalHeaders, timestamp } });
    }
    for (const event of outputs.tenantEvents) encoded.push({ topic: TOPICS.tenantEvents, record: await tenantStageRecord(codecs, event) });
    work.outputs.push(...encoded);
    this.stats.detectionsEmitted += outputs.detections.length;
    this.countDetections(outputs.detections.map((d) => d.detectionType));
  }
}
