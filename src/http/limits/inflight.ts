/**
 * The bound on ingest appends in flight in one process, in encoded bytes. Requests that
 * would push the total over it are refused (503 with Retry-After) instead of queueing
 * without limit while the log is slow. A single request larger than the whole bound is
 * admitted when nothing else is in flight, so it is never refused forever.
 */

export interface InflightBudget {
  readonly limitBytes: number;
  /** Bytes held by appends that have not finished. */
  readonly inFlightBytes: number;
  /** Appends holding part of the budget now. */
  readonly inFlightAppends: number;
  /** Reserves `bytes`; false (and nothing reserved) when that would exceed the bound. */
  tryAcquire(bytes: number): boolean;
  /** Gives back what a successful tryAcquire reserved. */
  release(bytes: number): void;
}

export function createInflightBudget(limitBytes: number): InflightBudget {
  if (!Number.isInteger(limitBytes) || limitBytes < 1) throw new RangeError(`limitBytes must be a positive integer, got ${limitBytes}`);
  let bytesHeld = 0;
  let appends = 0;
  return {
    limitBytes,
    get inFlightBytes() {
      return bytesHeld;
    },
    get inFlightAppends() {
      return appends;
    },
    tryAcquire(bytes) {
      if (appends > 0 && bytesHeld + bytes > limitBytes) return false;
      bytesHeld += bytes;
      appends++;
      return true;
    },
    release(bytes) {
      if (appends === 0) throw new Error('release without a matching tryAcquire');
      bytesHeld -= bytes;
      appends--;
    },
  };
}
