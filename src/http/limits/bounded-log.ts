/**
 * The log as ingest routes see it: appends hold part of the process's in-flight byte
 * budget until they are durable (refused with BUFFER_FULL when the budget is spent), are
 * timed, and count the spans they carry as accepted, or as rejected when the log fails.
 * Appending is all ingest does with the log (IngestContext), so that is all it offers.
 *
 * Wrapping the log rather than each route's append keeps the bound on every ingest path
 * (OTLP, session events, flat spans) whichever helper the route appends through.
 */
import type { Metrics } from '../prometheus/metrics.js';
import type { AppendResult, LogAppender, OutgoingRecord } from '../../log/port.js';
import { errors } from '../../model/errors.js';
import { HEADER } from '../../model/record-keys.js';
import type { InflightBudget } from './inflight.js';

/** Encoded size of a record as it is buffered: key, value and headers. */
export function recordBytes(record: OutgoingRecord): number {
  let bytes = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers !== undefined) {
    for (const [name, value] of Object.entries(record.headers)) bytes += name.length + Buffer.byteLength(value);
  }
  return bytes;
}

function spansIn(records: readonly OutgoingRecord[]): number {
  let spans = 0;
  for (const record of records) if (record.headers?.[HEADER.type] === 'span') spans++;
  return spans;
}

export class BoundedIngestLog implements LogAppender {
  constructor(
    private readonly log: LogAppender,
    private readonly budget: InflightBudget,
    private readonly metrics: Metrics,
  ) {}

  async append(topic: string, records: readonly OutgoingRecord[]): Promise<AppendResult[]> {
    const spans = spansIn(records);
    let bytes = 0;
    for (const record of records) bytes += recordBytes(record);
    if (!this.budget.tryAcquire(bytes)) {
      this.metrics.countSpansRejected('buffer_full', spans);
      throw errors.bufferFull(this.budget.limitBytes);
    }
    const stopTimer = this.metrics.logAppendDuration.startTimer();
    try {
      const results = await this.log.append(topic, records);
      stopTimer({ outcome: 'ok' });
      this.metrics.spansAccepted.inc(spans);
      return results;
    } catch (err) {
      stopTimer({ outcome: 'error' });
      this.metrics.countSpansRejected('log_unavailable', spans);
      throw err;
    } finally {
      this.budget.release(bytes);
    }
  }
}
