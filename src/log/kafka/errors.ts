/**
 * Errors of the Kafka adapter. Every failure that reaches a caller is a KafkaLogError that
 * says whether trying again later can succeed (`retryable`: the cluster is unreachable, a
 * request timed out, a leader is moving) or not (the request itself is wrong, or this
 * process was fenced by a newer owner of its partition), and keeps the kafkajs error as
 * `cause`. The classification follows kafkajs's own `retriable` flags (src/errors.js).
 */

export type KafkaLogErrorCode =
  /** The cluster did not answer in time or could not serve the request right now. */
  | 'unavailable'
  /** The cluster refused the request itself (record too large, bad config, not authorized). */
  | 'rejected'
  /** Another process took over the transactional id: this one must stop writing. */
  | 'fenced'
  /** The adapter was used wrongly (unknown topic, bad partition, closed log). */
  | 'invalid';

export class KafkaLogError extends Error {
  readonly code: KafkaLogErrorCode;
  readonly retryable: boolean;

  constructor(code: KafkaLogErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KafkaLogError';
    this.code = code;
    this.retryable = code === 'unavailable';
  }
}

/**
 * kafkajs errors that mean the cluster could not be reached or could not serve the request
 * right now, whatever their `retriable` flag says: kafkajs marks some of them final because
 * its own retries ran out (a coordinator not found while every broker is down).
 */
const UNAVAILABLE_NAMES = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
]);

/**
 * Protocol error types of a group or transaction coordinator that moved or is loading
 * (after a broker restart): the next attempt, after a metadata refresh, finds the new one.
 */
const COORDINATOR_TYPES = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS']);

/** Protocol error types that mean a newer producer with the same transactional id exists. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly type?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
}

function chain(err: unknown): ErrorLike[] {
  const errors: ErrorLike[] = [];
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && errors.length < 16 && !errors.includes(current)) {
    errors.push(current);
    current = (current as ErrorLike).cause;
  }
  return errors;
}

function isCoordinatorMove(e: ErrorLike): boolean {
  return (typeof e.type === 'string' && COORDINATOR_TYPES.has(e.type)) || e.name === 'KafkaJSGroupCoordinatorNotFound';
}

/** Whether `err` says a group or transaction coordinator moved, is loading or was not found. */
export function isCoordinatorError(err: unknown): boolean {
  return chain(err).some(isCoordinatorMove);
}

/**
 * Runs `call`, trying again briefly while the coordinator it needs is moving: right after a
 * broker restart the first answers say NOT_COORDINATOR until the metadata catches up.
 * Other errors, and the last coordinator error, are thrown as they are.
 */
export async function withCoordinatorRetry<T>(call: () => Promise<T>, attempts = 4, firstWaitMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isCoordinatorError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, firstWaitMs * 2 ** (attempt - 1)));
    }
  }
}

/**
 * How a failed kafkajs call should be reported. kafkajs wraps a retriable error whose
 * retries ran out in KafkaJSNumberOfRetriesExceeded and a non-retriable one in
 * KafkaJSNonRetriableError, each with the original as `cause`.
 */
export function classifyKafkaError(err: unknown): KafkaLogErrorCode {
  if (err instanceof KafkaLogError) return err.code;
  const errors = chain(err);
  if (errors.some((e) => typeof e.type === 'string' && FENCED_TYPES.has(e.type))) return 'fenced';
  if (errors.some((e) => e.name === 'KafkaJSNumberOfRetriesExceeded')) return 'unavailable';
  if (errors.some(isCoordinatorMove)) return 'unavailable';
  if (errors.some((e) => typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name))) return 'unavailable';
  const root = errors.at(-1);
  if (root === undefined) return 'rejected';
  if (root.retriable === true) return 'unavailable';
  if (root.retriable === false) return 'rejected';
  // Errors that did not come from kafkajs: programming errors, never worth retrying.
  return typeof root.name === 'string' && root.name.startsWith('KafkaJS') ? 'unavailable' : 'rejected';
}

/** Whether `err` is a fetch at an offset the partition does not hold (deleted, or past its end). */
export function isOffsetOutOfRange(err: unknown): boolean {
  return chain(err).some((e) => e.type === 'OFFSET_OUT_OF_RANGE');
}

/** Wraps `err` (unless it already is one) with a message naming what failed. */
export function kafkaLogError(what: string, err: unknown): KafkaLogError {
  if (err instanceof KafkaLogError) return err;
  const code = classifyKafkaError(err);
  const reason = err instanceof Error ? err.message : String(err);
  return new KafkaLogError(code, `${what}: ${reason}`, { cause: err });
}
