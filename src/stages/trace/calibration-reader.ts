/**
 * The calibration the trace stage applies (DESIGN.md, "Detectors": thresholds come from
 * code defaults, overridden per tenant by calibration derived from feedback). Reads the
 * compacted tracefold.calibration.v1 from its start into memory (one number per tenant and
 * detector that received feedback) and keeps following it, so a tenant's feedback reaches
 * its next detections within a fetch.
 *
 * A replay uses the calibration known when it runs, not the one in force when the spans
 * first arrived: calibration is a tenant's standing preference, not part of the trace.
 */
import type { Logger } from 'pino';
import type { Consumer, Log } from '../../log/port.js';
import type { Codecs } from '../../log/serde/index.js';
import { TOPICS } from '../../log/topics.js';

export class CalibrationReader {
  private readonly shifts = new Map<string, number>();
  private consumer: Consumer | null = null;

  constructor(
    private readonly options: { readonly log: Log; readonly codecs: Codecs; readonly instanceId: string; readonly logger: Logger },
  ) {}

  async start(): Promise<void> {
    const { log, codecs, instanceId } = this.options;
    this.consumer = await log.consume(
      // Its own group per process: every process reads the whole topic.
      { group: `tracefold-calibration-reader-${instanceId}`, topics: [TOPICS.calibration] },
      {
        // The map is in memory: always read from the start.
        onAssigned: async (partitions) => new Map(partitions.map(({ topic, partition }) => [`${topic}:${partition}`, 0])),
        eachBatch: async (batch) => {
          for (const record of batch.records) {
            if (record.value === null) continue;
            const calibration = await codecs.calibration.decode(record.value);
            this.shifts.set(`${calibration.tenantId}\u0000${calibration.detectorId}`, calibration.confidenceShift);
          }
        },
      },
    );
    this.consumer.done.catch((err: unknown) => this.options.logger.error({ err }, 'calibration reader stopped on an error'));
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
