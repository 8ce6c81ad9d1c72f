/**
 * A replay run's trace stage: the very window logic of the live stage, over
 * tracefold.raw.v1 from its start up to the end it had when the run began, in a consumer
 * group and state of its own (`tracefold-replay-<run>`), so it runs beside live processing
 * and resumes where it was after a kill. What it finds is kept, not emitted: per trace, its
 * detections in the run's store, which the diff and a promotion (promotion.ts) read. Nothing
 * reaches the output topics (not even dead letters: the live stage already set those records
 * aside), so subscribers, baselines, rollups and the audit chain see a run only when it is
 * promoted.
 *
 * Once a partition has been read up to the run's end, every window still open closes at
 * once: history up to that point is all there is.
 */
import type { LogRecord } from '../log/port.js';
import { tupleKey } from '../log/store-keys.js';
import { TOPICS } from '../log/topics.js';
import { parseTraceKey } from '../model/record-keys.js';
import type { BufferedStore } from '../runtime/buffered-store.js';
import type { ProcessorContext, StageOutput } from '../runtime/processor.js';
import type { TraceOutputs } from '../stages/trace/analyze.js';
import { TraceStage, type TraceStageOptions } from '../stages/trace/trace-stage.js';
import type { Detection } from '../model/outputs.js';

export const REPLAY_GROUP_PREFIX = 'tracefold-replay-';

/** Which records of the raw topic a run reads. */
export interface ReplayScope {
  /** Only these tenants; all when absent. */
  readonly tenants?: readonly string[];
  /** Only records appended at or after this time (ms since the epoch). */
  readonly fromMs?: number;
  /** Only records appended before this time. */
  readonly toMs?: number;
}

/** What a run keeps of one closed trace: its detections, as a promotion would write them. */
export interface ReplayResult {
  readonly tenantId: string;
  readonly traceId: string;
  readonly revision: number;
  readonly detections: readonly Detection[];
}

const RESULT_KIND = 'replay-result';

/** Where a run keeps a trace's result (one trace lives on one partition: no partition part). */
export function replayResultKey(tenantId: string, traceId: string): Buffer {
  return tupleKey(RESULT_KIND, tenantId, traceId);
}

export function replayResultRange(): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from(`${RESULT_KIND}|`), lt: Buffer.from(`${RESULT_KIND}}`) };
}

export interface ReplayStageOptions extends Omit<TraceStageOptions, 'runtime' | 'liveDetection'> {
  readonly runId: string;
  readonly scope: ReplayScope;
  /** Per raw partition, the offset the run reads up to (the log's end when it began). */
  readonly endOffsets: readonly number[];
}

export class ReplayStage extends TraceStage {
  private readonly tenants: ReadonlySet<string> | null;
  private readonly scope: ReplayScope;
  private readonly endOffsets: readonly number[];
  /** Traces the run closed (results kept), since this process started it. */
  tracesReplayed = 0;

  constructor(options: ReplayStageOptions) {
    // Live detection would only emit early copies of what the close finds: off.
    super({ ...options, liveDetection: false, runtime: { group: `${REPLAY_GROUP_PREFIX}${options.runId}`, changelog: false } });
    this.scope = options.scope;
    this.tenants = options.scope.tenants === undefined ? null : new Set(options.scope.tenants);
    this.endOffsets = options.endOffsets;
  }

  private inScope(record: LogRecord): boolean {
    if (record.offset >= (this.endOffsets[record.partition] ?? 0)) return false;
    if (this.scope.fromMs !== undefined && record.timestamp < this.scope.fromMs) return false;
    if (this.scope.toMs !== undefined && record.timestamp >= this.scope.toMs) return false;
    if (this.tenants === null) return true;
    const ids = parseTraceKey(record.key);
    return ids !== null && this.tenants.has(ids.tenantId);
  }

  override async process(records: readonly LogRecord[], context: ProcessorContext): Promise<void> {
    await super.process(records.filter((r) => this.inScope(r)), context);
    const first = records[0];
    const last = records[records.length - 1];
    const end = this.endOffsets[context.partition] ?? 0;
    // The batch that reaches the run's end closes what is left, in the same unit.
    if (first !== undefined && last !== undefined && first.offset < end && last.offset + 1 >= end) await this.closeAll(context);
  }

  /** Keeps the trace's detections in the run's store instead of emitting its outputs. */
  protected override async emit(work: { readonly store: BufferedStore; readonly outputs: StageOutput[] }, outputs: TraceOutputs): Promise<void> {
    const { trace, detections } = outputs;
    const result: ReplayResult = { tenantId: trace.tenantId, traceId: trace.traceId, revision: trace.revision, detections };
    work.store.put(replayResultKey(trace.tenantId, trace.traceId), Buffer.from(JSON.stringify(result)));
    this.tracesReplayed++;
  }

  /** Nothing a run does reaches a topic. */
  override beforeCommit(context: ProcessorContext): void {
    super.beforeCommit(context);
    context.outputs.splice(0);
  }

  /** Whether every partition has been read up to the run's end (its windows then closed). */
  finished(): boolean {
    // Each partition counts at most its end, so the sum reaches the total only when all do.
    const { read, total } = this.progress();
    return read === total;
  }

  /** Records read so far and the records the run reads in all. */
  progress(): { read: number; total: number } {
    let read = 0;
    let total = 0;
    this.endOffsets.forEach((end, partition) => {
      read += Math.min(end, this.runtime.positions.get(TOPICS.raw, partition));
      total += end;
    });
    return { read, total };
  }
}
