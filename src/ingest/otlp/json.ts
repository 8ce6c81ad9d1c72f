/**
 * OTLP/HTTP JSON trace export → canonical spans.
 *
 * `body` is the parsed JSON of an ExportTraceServiceRequest (OTLP/HTTP JSON encoding: hex ids,
 * lowerCamelCase field names, 64-bit integers as numbers or decimal strings, enums as numbers
 * or names). Also accepted, as some encoders emit them: snake_case proto field names, base64
 * ids, and non-hex ids of the producer's own (kept verbatim). See request.ts for what rejects
 * the whole request and what rejects a single span.
 *
 * 64-bit integers sent as JSON numbers beyond 2^53 have already lost precision in JSON.parse;
 * the decimal-string form is exact.
 */
import { decodeLogsRequest } from './log-record.js';
import { decodeTraceRequest, type DecodeContext, type DecodeResult } from './request.js';

export type { DecodeContext, DecodeResult, RejectedSpan } from './request.js';

/**
 * Decodes an OTLP/HTTP JSON trace export. Throws a TracefoldError (INVALID_REQUEST, 400) whose
 * message names the JSON path when the request's structure is invalid; returns the accepted
 * spans (source 'otlp-json') and one entry per rejected span otherwise.
 */
export function decodeOtlpJson(body: unknown, ctx: DecodeContext): DecodeResult {
  return decodeTraceRequest(body, ctx, 'otlp-json');
}

/** Decodes an OTLP/HTTP JSON logs export into spans standing for its records (log-record.ts). */
export function decodeOtlpLogsJson(body: unknown, ctx: DecodeContext): DecodeResult {
  return decodeLogsRequest(body, ctx);
}
