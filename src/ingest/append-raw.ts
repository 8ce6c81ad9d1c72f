/**
 * Appends canonical spans and window markers to tracefold.raw.v1, keyed by tenant/trace so
 * every record of a trace lands on one partition in order. Resolves only when the log has
 * made the records durable; a log that cannot append becomes a retryable 503.
 */
import type { AppendResult, LogAppender, OutgoingRecord } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import { TOPICS } from '../log/topics.js';
import { errors, TracefoldError } from '../model/errors.js';
import { HEADER, traceKey } from '../model/record-keys.js';
import type { CanonicalSpan, WindowMarker } from '../model/span.js';

/** A span's raw record; `extraHeaders` carry what a route adds (a session batch's request id). */
export async function spanRecord(codecs: Codecs, span: CanonicalSpan, extraHeaders: Record<string, string> = {}): Promise<OutgoingRecord> {
  return {
    key: traceKey(span.tenantId, span.traceId),
    value: await codecs.rawEvent.encode({ type: 'span', span }),
    headers: { [HEADER.type]: 'span', [HEADER.spanId]: span.spanId, [HEADER.root]: span.parentSpanId === '' ? '1' : '0', ...extraHeaders },
    timestamp: span.receivedAtMs,
  };
}

export async function markerRecord(codecs: Codecs, marker: WindowMarker, extraHeaders: Record<string, string> = {}): Promise<OutgoingRecord> {
  return {
    key: traceKey(marker.tenantId, marker.traceId),
    value: await codecs.rawEvent.encode({ type: 'marker', marker }),
    headers: { [HEADER.type]: 'marker', [HEADER.marker]: marker.kind, [HEADER.requestId]: marker.requestId, ...extraHeaders },
    timestamp: marker.receivedAtMs,
  };
}

export async function appendRaw(log: LogAppender, records: readonly OutgoingRecord[]): Promise<AppendResult[]> {
  if (records.length === 0) return [];
  try {
    return await log.append(TOPICS.raw, records);
  } catch (err) {
    if (err instanceof TracefoldError) throw err;
    throw errors.logUnavailable(err);
  }
}
