/**
 * Record keys and headers shared by producers and consumers of tracefold's topics.
 *
 * Raw records are keyed `tenant/trace` so every span of a trace lands on one partition in
 * order. Their headers repeat what the trace stage needs to place a record in its window
 * (type, span id, marker kind) so that it never decodes a span before the window closes.
 */

export const HEADER = {
  type: 'tf-type',
  spanId: 'tf-span-id',
  /** '1' on a root span (empty parent span id), '0' otherwise. */
  root: 'tf-root',
  marker: 'tf-marker',
  requestId: 'tf-request-id',
  revision: 'tf-revision',
  pipeline: 'tf-pipeline',
  /** On a dead-letter record: why it could not be processed (bounded, free text). */
  reason: 'tf-reason',
  /** On a dead-letter record: where the source record was read, and which stage refused it. */
  sourceTopic: 'tf-source-topic',
  sourcePartition: 'tf-source-partition',
  sourceOffset: 'tf-source-offset',
  stage: 'tf-stage',
  /** '1' on a detection fired while its window was open. */
  live: 'tf-live',
  /** On a detection record that withdraws one: the reason (Withdrawal.reason). */
  withdrawn: 'tf-withdrawn',
  /** On the records a replay's promotion or rollback writes: the replay run's id. */
  replay: 'tf-replay',
  /**
   * On a session_reset marker: SHA-256 (hex) of the session batch as sent, so that the
   * trace stage can tell a re-sent batch (nothing to change) from a replacement.
   */
  contentDigest: 'tf-content-digest',
} as const;

export function traceKey(tenantId: string, traceId: string): Buffer {
  return Buffer.from(`${tenantId}/${traceId}`, 'utf8');
}

/** Splits a `tenant/trace` key; tenant ids never contain '/', trace ids may. */
export function parseTraceKey(key: Buffer | null): { tenantId: string; traceId: string } | null {
  if (key === null) return null;
  const text = key.toString('utf8');
  const slash = text.indexOf('/');
  if (slash <= 0) return null;
  return { tenantId: text.slice(0, slash), traceId: text.slice(slash + 1) };
}
