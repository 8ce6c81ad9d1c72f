/**
 * The calibration the trace stage applies (DESIGN.md, "Detectors": thresholds come from
 * code defaults, overridden per tenant by calibration derived from feedback). Reads the
 * compacted tracefold.calibration.v1 from its start into memory (one number per tenant and
 * detector that received feedback) and keeps following it, so a tenant's feedback reaches
 * its next detections within a fetch.
 *
 * A replay uses the calibration known when it runs, not the one in force when the spans
 * first arrived: calibration is a tenant's standing preference, not part of the trace.
 *
 * A record that does not decode is dead-lettered (dead-letter.ts) and passed over. The
 * reader re-reads from the start at each start, so it commits how far it has read with
 * its dead letters, and dead-letters only past that point: never one record twice.
 */
import type { Logger } from 'pino';
import type { Consumer, Log } from '../../log/port.js';
import type { Codecs } from '../../log/serde/index.js';
import { TOPICS } from '../../log/topics.js';
import { messageOf, PoisonRecordPolicy } from '../dead-letter.js';
import { StageHealth } from '../stage-health.js';
import { appendOutputs, type StageOutput } from '../stateful-stage.js';

export class CalibrationReader {
  private readonly shifts = new Map<string, number>();
  private consumer: Consumer | null = null;
  /** Per partition, the offset up to which records were read and dead-lettered before. */
  private committed = new Map<number, number>();
  readonly health = new StageHealth('calibration reader');
  readonly poison: PoisonRecordPolicy;

  constructor(
    private readonly options: { readonly log: Log; readonly codecs: Codecs; readonly instanceId: string; readonly logger: Logger },
  ) {
    this.poison = new PoisonRecordPolicy('calibration', options.logger);
  }

  async start(): Promise<void> {
    const { log, codecs, instanceId } = this.options;
    // Its own group per process: every process reads the whole topic.
    const group = `tracefold-calibration-reader-${instanceId}`;
    this.committed = await log.committedOffsets(group, TOPICS.calibration);
    this.consumer = await log.consume(
      { group, topics: [TOPICS.calibration] },
      {
        // The map is in memory: always read from the start.
        onAssigned: async (partitions) => new Map(partitions.map(({ topic, partition }) => [`${topic}:${partition}`, 0])),
        eachBatch: async (batch) => {
          const outputs: StageOutput[] = [];
          const readBefore = this.committed.get(batch.partition) ?? 0;
          for (const record of batch.records) {
            if (record.value === null) continue;
            try {
              const calibration = await codecs.calibration.decode(record.value);
              this.shifts.set(`${calibration.tenantId}\u0000${calibration.detectorId}`, calibration.confidenceShift);
            } catch (err) {
              if (record.offset >= readBefore) this.poison.deadLetter(outputs, record, 'decode', messageOf(err), err);
            }
          }
          const last = batch.records.at(-1);
          if (last === undefined || last.offset < readBefore) return;
          const unit = log.beginUnit(group);
          appendOutputs(unit, outputs);
          unit.consumed(batch.topic, batch.partition, last.offset + 1);
          await unit.commit();
          this.committed.set(batch.partition, last.offset + 1);
        },
      },
    );
    this.health.watch(this.consumer.done, this.options.logger);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** The confidence shift of `detectorId` for `tenantId`; 0 without feedback. */
  shiftOf(tenantId: string, detectorId: string): number {
    return this.shifts.get(`${tenantId}\u0000${detectorId}`) ?? 0;
  }
}
