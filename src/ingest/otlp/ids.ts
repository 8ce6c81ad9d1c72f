/**
 * Trace and span id normalisation, shared by the OTLP decoders.
 *
 * OTLP ids are 16 (trace) and 8 (span) bytes. They arrive as:
 * - raw bytes (protobuf): must have exactly that length; become lowercase hex;
 * - hex strings of 32 / 16 characters, any case (the OTLP/HTTP JSON encoding): lowercased;
 * - base64 of those bytes, as generic protobuf-JSON encoders write bytes fields (for example
 *   "S+2Fn9l6AL6IdKnpIpNLgA=="): decoded to lowercase hex. Only the padded, canonical encoding
 *   of exactly 16 / 8 bytes is taken as base64 (24 / 12 characters, standard or URL-safe
 *   alphabet), so a producer's own id that merely looks like base64 is not rewritten;
 * - anything else non-empty (for example "demo-trace-001"): kept verbatim, up to 256
 *   characters, so producers with their own id schemes are still accepted.
 *
 * All-zero ids are invalid in OTLP and rejected. Absent (null/undefined), "" and empty bytes
 * normalise to "": callers decide whether an id is required.
 */
import { KEY_PART_LIMITS } from '../../model/key-parts.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { describe, OtlpValueError } from './value-error.js';

export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;
/** The key-part limit of ids (both trace and span ids are 256). */
export const MAX_VERBATIM_ID_LENGTH = KEY_PART_LIMITS.traceId;

const HEX = /^[0-9a-fA-F]+$/;
const ZEROS = /^0+$/;

function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** `hex` itself, or "" / an error when it is all zeros. */
function checkZero(hex: string, byteLength: number, zeroIsAbsent: boolean): string {
  if (hex.charCodeAt(0) !== 48 /* '0' */ || !ZEROS.test(hex)) return hex;
  if (zeroIsAbsent) return '';
  throw new OtlpValueError(`an all-zero ${byteLength === TRACE_ID_BYTES ? 'trace' : 'span'} id is invalid`);
}

/** Length of the padded base64 encoding of `byteLength` bytes. */
function paddedBase64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

function fromBase64(text: string, byteLength: number): string | undefined {
  const bytes = decodeBase64(text);
  if (bytes?.length !== byteLength) return undefined;
  // Canonical only: re-encoding must give back the same text (modulo the URL-safe alphabet).
  const canonical = encodeBase64(bytes);
  const given = text.includes('-') || text.includes('_') ? text.replace(/-/g, '+').replace(/_/g, '/') : text;
  return canonical === given ? bytesToHex(bytes) : undefined;
}

/**
 * Normalises one id of `byteLength` bytes (16 for trace ids, 8 for span ids). Returns "" when
 * the id is absent or empty, and for an all-zero id when `zeroIsAbsent`; throws an
 * OtlpValueError (empty path) when it is invalid.
 */
export function normalizeId(input: unknown, byteLength: number, zeroIsAbsent = false): string {
  if (input == null) return '';
  if (typeof input === 'string') {
    const length = input.length;
    if (length === 0) return '';
    if (length === byteLength * 2 && HEX.test(input)) {
      return checkZero(input.toLowerCase(), byteLength, zeroIsAbsent);
    }
    if (length === paddedBase64Length(byteLength) && input.endsWith('=')) {
      const hex = fromBase64(input, byteLength);
      if (hex !== undefined) return checkZero(hex, byteLength, zeroIsAbsent);
    }
    if (length > MAX_VERBATIM_ID_LENGTH) {
      throw new OtlpValueError(`longer than ${MAX_VERBATIM_ID_LENGTH} characters (${length})`);
    }
    return input;
  }
  if (input instanceof Uint8Array) {
    if (input.length === 0) return '';
    if (input.length !== byteLength) {
      throw new OtlpValueError(`expected ${byteLength} bytes, got ${input.length}`);
    }
    return checkZero(bytesToHex(input), byteLength, zeroIsAbsent);
  }
  throw new OtlpValueError(`expected a string, got ${describe(input)}`);
}

/** A trace id; "" when absent or empty. */
export function normalizeTraceId(input: unknown): string {
  return normalizeId(input, TRACE_ID_BYTES);
}

/** A span id; "" when absent or empty. */
export function normalizeSpanId(input: unknown): string {
  return normalizeId(input, SPAN_ID_BYTES);
}

/**
 * A parent span id: "" (a root span) when absent, empty, or all zeros. Some encoders write
 * the invalid all-zero id for "no parent", and OTLP readers treat it as no parent.
 */
export function normalizeParentSpanId(input: unknown): string {
  return normalizeId(input, SPAN_ID_BYTES, true);
}
