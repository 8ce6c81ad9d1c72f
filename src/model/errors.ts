/**
 * One catalogue of errors. Each carries a stable code and an HTTP status; `retryable`
 * errors (the log is down, a buffer is full, a rate limit) carry `retryAfterMs` and map to
 * 503/429 with Retry-After; permanent errors mean the same request will fail again.
 */
export class TracefoldError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TracefoldError';
    this.code = code;
    this.statusCode = statusCode;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const errors = {
  invalidRequest: (message: string) => new TracefoldError('INVALID_REQUEST', 400, message),
  unauthorized: (message: string) => new TracefoldError('UNAUTHORIZED', 401, message),
  forbidden: (message: string) => new TracefoldError('FORBIDDEN', 403, message),
  notFound: (message: string) => new TracefoldError('NOT_FOUND', 404, message),
  conflict: (message: string) => new TracefoldError('CONFLICT', 409, message),
  payloadTooLarge: (limitBytes: number) =>
    new TracefoldError('PAYLOAD_TOO_LARGE', 413, `request body exceeds the limit of ${limitBytes} bytes`),
  unsupportedMediaType: (message: string) => new TracefoldError('UNSUPPORTED_MEDIA_TYPE', 415, message),
  logUnavailable: (cause: unknown, retryAfterMs = 1000) =>
    new TracefoldError('LOG_UNAVAILABLE', 503, 'the log is not accepting appends right now; retry later', {
      retryable: true,
      retryAfterMs,
      cause,
    }),
  /** A read or a coordinator request failed in a way the log says a later attempt can fix. */
  logNotAnswering: (cause: unknown, retryAfterMs = 2000) =>
    new TracefoldError('LOG_UNAVAILABLE', 503, 'the log cannot answer right now (a broker or coordinator is away or moving); retry later', {
      retryable: true,
      retryAfterMs,
      cause,
    }),
  rateLimited: (tenantId: string, limit: { spansPerSecond: number; burstSpans: number }, retryAfterMs: number) =>
    new TracefoldError(
      'RATE_LIMITED',
      429,
      `tenant ${tenantId} is over its ingest rate limit of ${limit.spansPerSecond} spans/s with a burst of ${limit.burstSpans} spans ` +
        `(TRACEFOLD_RATE_LIMIT_SPANS_PER_S, TRACEFOLD_RATE_LIMIT_BURST_SPANS); retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryable: true, retryAfterMs },
    ),
  bufferFull: (limitBytes: number, retryAfterMs = 1000) =>
    new TracefoldError(
      'BUFFER_FULL',
      503,
      `ingest buffer full: appends in flight would exceed the limit of ${limitBytes} bytes (TRACEFOLD_INGEST_INFLIGHT_BYTES); retry later`,
      { retryable: true, retryAfterMs },
    ),
  /** A view the answer needs is still being built at start. */
  notReady: (message: string, retryAfterMs = 1000) =>
    new TracefoldError('NOT_READY', 503, message, { retryable: true, retryAfterMs }),
  timeout: (message: string, retryAfterMs = 1000) =>
    new TracefoldError('TIMEOUT', 503, message, { retryable: true, retryAfterMs }),
} as const;
