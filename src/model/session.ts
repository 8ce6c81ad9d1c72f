/**
 * The session registry (tracefold.sessions.v1, compacted): one record per session of the
 * session-events API, keyed `tenant/session`. Every process serving the session routes
 * materializes it in its views, so "does this session exist, is it still open, which trace
 * is it" is answered the same way by all of them.
 */

export type SessionState = 'open' | 'ended';

/** How the session arrived: one batch request, or streamed start / events / end. */
export type SessionMode = 'batch' | 'stream';

export interface SessionRecord {
  readonly tenantId: string;
  readonly sessionId: string;
  /** The trace the session's events become; derived from the session id when the producer sent none. */
  readonly traceId: string;
  /** The session's root span (the producer's rootSpanId, or one derived from the session id). */
  readonly rootSpanId: string;
  readonly state: SessionState;
  readonly mode: SessionMode;
  /** The producer's own status word (in_progress, completed, failed, ...), kept verbatim. */
  readonly status: string;
  /** Events received so far, repeats included; numbers id-less streamed events. */
  readonly eventCount: number;
  /** Digests of the event ids received (eventIdDigest), so a repeated id is counted once. */
  readonly eventIds: readonly string[];
  /** Events of eventCount that repeated an id already received. */
  readonly repeatedEventCount: number;
  /** The session start, milliseconds since the Unix epoch. */
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
  readonly updatedAtMs: number;
  /**
   * The session-level fields of the batch or start request (agent, threadId, metadata, ...)
   * as JSON, so that end can re-emit the session's root span with them.
   */
  readonly sessionJson: string;
}

/** Record key of a session on tracefold.sessions.v1. Tenant ids never contain '/'. */
export function sessionKey(tenantId: string, sessionId: string): Buffer {
  return Buffer.from(`${tenantId}/${sessionId}`, 'utf8');
}
