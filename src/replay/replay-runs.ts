/**
 * Replay runs: re-running tracefold.raw.v1 (all of it, a time range, some tenants) through
 * detectors with other settings, beside live processing, then comparing what they find
 * with what is in force (diff.ts). Each run is a ReplayStage with its own consumer group and
 * state; the runs themselves are recorded in a small store, so a run that was going when
 * the process stopped goes on when it starts again, from where its state says.
 *
 * A run lives in the process that serves the API (it needs the views for its diff).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createDetectors } from '../detectors/registry.js';
import type { DetectorSettings } from '../detectors/settings.js';
import type { Log, StateStore } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import { TOPICS } from '../log/topics.js';
import { errors } from '../model/errors.js';
import { pipelineVersion } from '../stages/pipeline-version.js';
import { BASELINE_DETECTOR } from '../stages/tenant/events.js';
import type { TraceStageOptions } from '../stages/trace/trace-stage.js';
import type { ViewQueries } from '../views/queries.js';
import { ReplayDiffBuilder, type DetectionSummary, type ReplayDiff } from './diff.js';
import { planPromotion, planRollback, type PlannedPromotion, type PromotionContext, type PromotionUndo, type TenantPromotion } from './promotion.js';
import { REPLAY_GROUP_PREFIX, ReplayStage, replayResultRange, type ReplayResult, type ReplayScope } from './replay-stage.js';

const REGISTRY_GROUP = 'tracefold-replay';
const REGISTRY_STORE = 'runs';
/** How often a running run is checked for its end. */
const CHECK_INTERVAL_MS = 200;
/** The span of recent progress the rate (and so the ETA) is measured over. */
const RATE_WINDOW_MS = 5000;
/** Runs going at once in one process. */
export const MAX_RUNNING = 2;

const runKey = (id: string) => Buffer.from(`run|${id}`);
const undoKey = (id: string, tenantId: string) => Buffer.from(`undo|${id}|${tenantId}`);

export type ReplayState = 'running' | 'finished' | 'cancelled' | 'failed';

/** A run as recorded. */
export interface ReplayRun {
  readonly id: string;
  readonly state: ReplayState;
  readonly createdAtMs: number;
  readonly endedAtMs: number | null;
  readonly scope: ReplayScope;
  /** The detector settings it runs with, and the pipeline version they make. */
  readonly settings: DetectorSettings;
  readonly pipelineVersion: string;
  /** Per raw partition, the offset it reads up to: the log's end when it began. */
  readonly endOffsets: readonly number[];
  /** Why it failed. */
  readonly error: string | null;
  /** Per tenant, its promotion (absent in runs recorded before promotions existed). */
  readonly promotions?: readonly TenantPromotion[];
}

export interface ReplayStatus extends ReplayRun {
  readonly recordsRead: number;
  readonly recordsTotal: number;
  /** Over the last few seconds; null before there is a measure. */
  readonly recordsPerSecond: number | null;
  readonly etaSeconds: number | null;
  /** Traces the run closed since this process started or resumed it. */
  readonly tracesReplayed: number;
}

/** What a run needs of the live trace stage's options: the same windows and codecs. */
export type ReplayStageBase = Omit<TraceStageOptions, 'detectors' | 'pipelineVersion' | 'runtime' | 'liveDetection' | 'detectorRuns'>;

export interface ReplayRunsOptions {
  readonly log: Log;
  readonly codecs: Codecs;
  readonly queries: ViewQueries;
  readonly stage: ReplayStageBase;
  /** The settings a run gets when it names none: this process's. */
  readonly defaultSettings: DetectorSettings;
  readonly logger: Logger;
  /** Resolves once the views have read these topics to their end (read-your-writes). */
  readonly catchUp: (topics: readonly string[]) => Promise<void>;
  readonly now?: () => number;
}

interface Running {
  readonly stage: ReplayStage;
  readonly timer: NodeJS.Timeout;
  readonly samples: { atMs: number; read: number }[];
}

export class ReplayRuns {
  private registry: StateStore | null = null;
  private readonly runs = new Map<string, ReplayRun>();
  private readonly running = new Map<string, Running>();
  /** What a run that stopped in this process had read, for its status. */
  private readonly lastRead = new Map<string, { read: number; traces: number }>();
  private readonly now: () => number;
  private closed = false;
  /** Promotions and rollbacks, one at a time: each plans against what the last one put in force. */
  private promoting: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ReplayRunsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Reads the recorded runs and resumes the ones that were going. */
  async open(): Promise<void> {
    this.registry = await this.options.log.openStore(REGISTRY_GROUP, REGISTRY_STORE, { changelog: false });
    for await (const [, value] of this.registry.range({ gte: Buffer.from('run|'), lt: Buffer.from('run}') })) {
      const run = JSON.parse(value.toString()) as ReplayRun;
      this.runs.set(run.id, run);
    }
    for (const run of this.runs.values()) if (run.state === 'running') await this.launch(run);
  }

  async start(request: { scope?: ReplayScope; settings?: DetectorSettings }): Promise<ReplayStatus> {
    // Each run reads the whole raw topic again, on the cores live processing uses.
    if (this.running.size >= MAX_RUNNING) {
      throw errors.conflict(`${this.running.size} replays are running (at most ${MAX_RUNNING} at a time): wait for one to end, or cancel one`);
    }
    const settings = request.settings ?? this.options.defaultSettings;
    // Bad settings are the caller's error, named before anything starts.
    try {
      createDetectors(settings);
    } catch (err) {
      throw errors.invalidRequest(`settings: ${(err as Error).message}`);
    }
    const run: ReplayRun = {
      id: `${new Date(this.now()).toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`,
      state: 'running',
      createdAtMs: this.now(),
      endedAtMs: null,
      scope: request.scope ?? {},
      settings,
      pipelineVersion: pipelineVersion(settings),
      endOffsets: await this.options.log.endOffsets(TOPICS.raw),
      error: null,
    };
    await this.record(run);
    await this.launch(run);
    return this.status(run.id);
  }

  list(): ReplayStatus[] {
    return [...this.runs.values()].sort((a, b) => b.createdAtMs - a.createdAtMs).map((run) => this.statusOf(run));
  }

  status(id: string): ReplayStatus {
    return this.statusOf(this.runOf(id));
  }

  async cancel(id: string): Promise<ReplayStatus> {
    const run = this.runOf(id);
    if (run.state !== 'running') throw errors.conflict(`replay ${id} is ${run.state}, not running`);
    await this.halt(id);
    await this.record({ ...run, state: 'cancelled', endedAtMs: this.now() });
    return this.status(id);
  }

  /**
   * Forgets an ended run: its record, its state (windows and results) and what its promotions
   * replaced. Not a running one (cancel it first), nor one whose promotion is in force for a
   * tenant (roll it back first: its undo would be lost).
   */
  async remove(id: string): Promise<void> {
    return this.serialized(async () => {
      const run = this.runOf(id);
      if (run.state === 'running') throw errors.conflict(`replay ${id} is running: cancel it first`);
      const inForce = (run.promotions ?? []).filter((p) => p.rolledBackAtMs === null).map((p) => p.tenantId);
      if (inForce.length > 0) throw errors.conflict(`replay ${id} is promoted for ${inForce.join(', ')}: roll it back first`);
      const stage = this.stageOf(run);
      const state = await stage.runtime.open();
      const cleared = this.options.log.beginUnit(`${REPLAY_GROUP_PREFIX}${id}`);
      cleared.write(state!, [{ type: 'delRange', gte: Buffer.alloc(0), lt: Buffer.alloc(16, 0xff) }]);
      await cleared.commit();
      const unit = this.options.log.beginUnit(REGISTRY_GROUP);
      unit.write(this.registryStore(), [
        { type: 'del', key: runKey(id) },
        { type: 'delRange', gte: Buffer.from(`undo|${id}|`), lt: Buffer.from(`undo|${id}}`) },
      ]);
      await unit.commit();
      this.runs.delete(id);
      this.lastRead.delete(id);
      this.options.logger.info({ replay: id }, 'replay removed');
    });
  }

  /**
   * The run's detections beside the ones in force, trace by trace (a run still going gives
   * the diff so far). Anomaly detections come from baselines, not detectors: left out.
   */
  async diff(id: string): Promise<ReplayDiff> {
    const diff = new ReplayDiffBuilder();
    for await (const result of this.results(this.runOf(id))) {
      const current = (await this.options.queries.detectionsOfTrace(result.tenantId, result.traceId))
        .filter((d) => d.detectorId !== BASELINE_DETECTOR.id)
        .map(
          (d): DetectionSummary => ({
            id: d.id,
            detectorId: d.detectorId,
            detectionType: d.detectionType,
            severity: d.severity,
            confidence: d.confidence,
            affectedSpanIds: d.affectedSpanIds,
          }),
        );
      diff.add({ tenantId: result.tenantId, traceId: result.traceId, current, replayed: result.detections });
    }
    return diff.result();
  }

  /**
   * Puts the run's detections in force for some of its tenants (all when none are named):
   * see promotion.ts. Only a finished run, and a tenant at most once until rolled back.
   */
  async promote(id: string, request: { tenants?: readonly string[] } = {}): Promise<ReplayStatus> {
    return this.serialized(async () => {
      const run = this.runOf(id);
      if (run.state !== 'finished') throw errors.conflict(`replay ${id} is ${run.state}: only a finished replay can be promoted`);
      const inForce = (run.promotions ?? []).filter((p) => p.rolledBackAtMs === null).map((p) => p.tenantId);
      const again = (request.tenants ?? []).filter((t) => inForce.includes(t));
      if (again.length > 0) throw errors.conflict(`replay ${id} is promoted already for ${again.join(', ')}: roll it back first`);
      await this.options.catchUp([TOPICS.detections, TOPICS.traces]);
      const ctx = this.promotionContext(run);
      const requested = request.tenants === undefined ? null : new Set(request.tenants);
      const planned = (await planPromotion(ctx, this.results(run), requested)).filter((p) => !inForce.includes(p.summary.tenantId));
      const others = (run.promotions ?? []).filter((p) => !planned.some((q) => q.summary.tenantId === p.tenantId));
      await this.apply(run, planned, [...others, ...planned.map((p) => p.summary)]);
      this.options.logger.info({ replay: id, tenants: planned.map((p) => p.summary) }, 'replay promoted');
      return this.status(id);
    });
  }

  /** Puts back what the run's promotion replaced, for some of its tenants (all when none are named). */
  async rollback(id: string, request: { tenants?: readonly string[] } = {}): Promise<ReplayStatus> {
    return this.serialized(async () => {
      const run = this.runOf(id);
      const inForce = (run.promotions ?? []).filter((p) => p.rolledBackAtMs === null && (request.tenants === undefined || request.tenants.includes(p.tenantId)));
      if (inForce.length === 0) throw errors.conflict(`replay ${id} is not promoted${request.tenants === undefined ? '' : ` for ${request.tenants.join(', ')}`}`);
      for (const promotion of inForce) {
        const later = [...this.runs.values()].find((other) =>
          (other.promotions ?? []).some((p) => p.tenantId === promotion.tenantId && p.rolledBackAtMs === null && p.promotedAtMs > promotion.promotedAtMs),
        );
        if (later !== undefined) throw errors.conflict(`replay ${later.id} was promoted for ${promotion.tenantId} after ${id}: roll it back first`);
      }
      await this.options.catchUp([TOPICS.detections, TOPICS.traces]);
      const ctx = this.promotionContext(run);
      const planned: PlannedPromotion[] = [];
      for (const promotion of inForce) planned.push(await planRollback(ctx, promotion, await this.undoOf(id, promotion.tenantId)));
      const promotions = (run.promotions ?? []).map((p) => planned.find((q) => q.summary.tenantId === p.tenantId)?.summary ?? p);
      await this.apply(run, planned, promotions);
      this.options.logger.info({ replay: id, tenants: inForce.map((p) => p.tenantId) }, 'replay rolled back');
      return this.status(id);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.running.keys()]) await this.halt(id);
  }

  /** The traces the run closed, with their detections, as its store keeps them. */
  private async *results(run: ReplayRun): AsyncGenerator<ReplayResult> {
    const stage = this.running.get(run.id)?.stage ?? this.stageOf(run);
    const store = await stage.runtime.open();
    for await (const [, value] of store!.range(replayResultRange())) yield JSON.parse(value.toString()) as ReplayResult;
  }

  private promotionContext(run: ReplayRun): PromotionContext {
    return { replayId: run.id, pipelineVersion: run.pipelineVersion, codecs: this.options.codecs, queries: this.options.queries, atMs: this.now() };
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.promoting.then(work, work);
    this.promoting = next.catch(() => undefined);
    return next;
  }

  /**
   * Writes the planned records, what a rollback needs and the run's new promotions in one
   * unit, then waits until the views show them.
   */
  private async apply(run: ReplayRun, planned: readonly PlannedPromotion[], promotions: readonly TenantPromotion[]): Promise<void> {
    const store = this.registryStore();
    const unit = this.options.log.beginUnit(REGISTRY_GROUP);
    for (const { records } of planned) for (const { topic, records: list } of records) if (list.length > 0) unit.append(topic, list);
    const next: ReplayRun = { ...run, promotions };
    unit.write(store, [
      ...planned.map(({ summary, undo }) => ({ type: 'put' as const, key: undoKey(run.id, summary.tenantId), value: Buffer.from(JSON.stringify(undo)) })),
      { type: 'put', key: runKey(run.id), value: Buffer.from(JSON.stringify(next)) },
    ]);
    await unit.commit();
    this.runs.set(run.id, next);
    if (planned.length > 0) await this.options.catchUp([TOPICS.detections]);
  }

  private async undoOf(id: string, tenantId: string): Promise<PromotionUndo> {
    const raw = await this.registryStore().get(undoKey(id, tenantId));
    if (raw === null) throw new Error(`replay ${id}: what its promotion for ${tenantId} replaced is not recorded`);
    return JSON.parse(raw.toString()) as PromotionUndo;
  }

  private registryStore(): StateStore {
    if (this.registry === null) throw new Error('replay runs are not open');
    return this.registry;
  }

  private runOf(id: string): ReplayRun {
    const run = this.runs.get(id);
    if (run === undefined) throw errors.notFound(`replay ${id} not found`);
    return run;
  }

  private stageOf(run: ReplayRun): ReplayStage {
    return new ReplayStage({
      ...this.options.stage,
      detectors: createDetectors(run.settings),
      pipelineVersion: run.pipelineVersion,
      runId: run.id,
      scope: run.scope,
      endOffsets: run.endOffsets,
      logger: this.options.logger.child({ replay: run.id }),
    });
  }

  private async launch(run: ReplayRun): Promise<void> {
    if (this.closed) return;
    const stage = this.stageOf(run);
    await stage.start();
    const samples = [{ atMs: this.now(), read: stage.progress().read }];
    const timer = setInterval(() => void this.check(run.id), CHECK_INTERVAL_MS);
    timer.unref();
    this.running.set(run.id, { stage, timer, samples });
    stage.done.catch((err: unknown) => void this.fail(run.id, err));
    this.options.logger.info({ replay: run.id, pipeline: run.pipelineVersion, scope: run.scope }, 'replay running');
  }

  private async check(id: string): Promise<void> {
    const running = this.running.get(id);
    if (running === undefined) return;
    const { read } = running.stage.progress();
    const atMs = this.now();
    running.samples.push({ atMs, read });
    while (running.samples.length > 2 && running.samples[0]!.atMs < atMs - RATE_WINDOW_MS) running.samples.shift();
    if (!running.stage.finished()) return;
    await this.halt(id);
    const run = this.runOf(id);
    await this.record({ ...run, state: 'finished', endedAtMs: atMs });
    this.options.logger.info({ replay: id, traces: running.stage.tracesReplayed }, 'replay finished');
  }

  private async fail(id: string, err: unknown): Promise<void> {
    if (!this.running.has(id)) return;
    await this.halt(id);
    this.options.logger.error({ err, replay: id }, 'replay failed');
    await this.record({ ...this.runOf(id), state: 'failed', endedAtMs: this.now(), error: err instanceof Error ? err.message : String(err) });
  }

  private async halt(id: string): Promise<void> {
    const running = this.running.get(id);
    if (running === undefined) return;
    this.running.delete(id);
    clearInterval(running.timer);
    await running.stage.stop();
    this.lastRead.set(id, { read: running.stage.progress().read, traces: running.stage.tracesReplayed });
  }

  private statusOf(run: ReplayRun): ReplayStatus {
    const total = run.endOffsets.reduce((a, b) => a + b, 0);
    const running = this.running.get(run.id);
    const progress = running?.stage.progress().read ?? this.lastRead.get(run.id)?.read ?? (run.state === 'finished' ? total : 0);
    let rate: number | null = null;
    if (running !== undefined && running.samples.length >= 2) {
      const first = running.samples[0]!;
      const last = running.samples[running.samples.length - 1]!;
      if (last.atMs > first.atMs) rate = ((last.read - first.read) * 1000) / (last.atMs - first.atMs);
    }
    return {
      ...run,
      recordsRead: progress,
      recordsTotal: total,
      recordsPerSecond: rate === null ? null : Math.round(rate),
      etaSeconds: rate === null || rate <= 0 || run.state !== 'running' ? null : Math.ceil((total - progress) / rate),
      tracesReplayed: running?.stage.tracesReplayed ?? this.lastRead.get(run.id)?.traces ?? 0,
    };
  }

  private async record(run: ReplayRun): Promise<void> {
    const store = this.registryStore();
    const unit = this.options.log.beginUnit(REGISTRY_GROUP);
    unit.write(store, [{ type: 'put', key: runKey(run.id), value: Buffer.from(JSON.stringify(run)) }]);
    await unit.commit();
    this.runs.set(run.id, run);
  }
}
