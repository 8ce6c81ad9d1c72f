/**
 * The calibration the trace stage applies: per tenant and detector, a shift of the
 * findings' confidence derived from feedback (src/calibration/calibration.ts). Reads the
 * compacted tracefold.calibration.v1 from its start into memory (one number per tenant and
 * detector that received feedback) and keeps following it, so a tenant's feedback reaches
 * its next detections within a fetch.
 *
 * A replay uses the calibration known when it runs, not the one in force when the spans
 * first arrived: calibration is a tenant's standing preference, not part of the trace.
 *
 * A record that does not decode is dead-lettered and passed over. The reader re-reads from
 * the start at each start (its runtime's `replay` positions), which commits how far it has
 * read with its dead letters and dead-letters only past that point: never one record twice.
 */
import type { Logger } from 'pino';
import type { Log, LogRecord } from '../../log/port.js';
import type { Codecs } from '../../log/serde/index.js';
import { TOPICS } from '../../log/topics.js';
import { messageOf } from '../../runtime/dead-letter.js';
import type { ProcessorContext } from '../../runtime/processor.js';
import { StatefulProcessor } from '../../runtime/stateful-processor.js';

export class CalibrationReader extends StatefulProcessor<null> {
  private readonly shifts = new Map<string, number>();

  constructor(private readonly options: { readonly log: Log; readonly codecs: Codecs; readonly instanceId: string; readonly logger: Logger }) {
    super({
      name: 'calibration reader',
      stage: 'calibration',
      log: options.log,
      // Its own group per process: every process reads the whole topic.
      group: `tracefold-calibration-reader-${options.instanceId}`,
      topics: [TOPICS.calibration],
      // The map is in memory: always read from the start.
      positions: 'replay',
      logger: options.logger,
    });
  }

  async process(records: readonly LogRecord[], context: ProcessorContext<null>): Promise<void> {
    for (const record of records) {
      if (record.value === null) continue;
      try {
        const calibration = await this.options.codecs.calibration.decode(record.value);
        this.shifts.set(`${calibration.tenantId}\u0000${calibration.detectorId}`, calibration.confidenceShift);
      } catch (err) {
        context.deadLetter(record, 'decode', messageOf(err), err);
      }
    }
  }

  /** The confidence shift of `detectorId` for `tenantId`; 0 without feedback. */
  shiftOf(tenantId: string, detectorId: string): number {
    return this.shifts.get(`${tenantId}\u0000${detectorId}`) ?? 0;
  }
}
