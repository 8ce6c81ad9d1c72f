/**
 * OTLP/HTTP protobuf trace export → canonical spans, and the protobuf export response.
 *
 * The messages come from the OTLP .proto definitions kept under proto/ (version noted in
 * proto/README.md), turned into a protobufjs reflection descriptor by scripts/gen-otlp-proto.sh
 * and built here with Root.fromJSON. protobufjs compiles a decoder per message type on first
 * use, so decoding runs generated code, not a generic interpreter.
 *
 * Decoded messages are handed to the same converters as parsed JSON (request.ts): protobufjs
 * names fields in lowerCamelCase, ids arrive as bytes (→ lowercase hex), 64-bit integers as
 * Long objects (→ exact bigints), bytes values as bytes. Unset proto3 scalars read as their
 * defaults ("" / 0 / empty bytes), which is what an absent field means in protobuf, so a span
 * is rejected exactly as its JSON twin would be and at the same path (for example
 * `resourceSpans[0].scopeSpans[0].spans[1].traceId`).
 */
import protobuf from 'protobufjs';
import { errors } from '../../model/errors.js';
import { otlpDescriptor } from './proto-descriptor.js';
import { decodeLogsRequest } from './log-record.js';
import { decodeTraceRequest, type DecodeContext, type DecodeResult } from './request.js';

export type { DecodeContext, DecodeResult, RejectedSpan } from './request.js';

// 64-bit fields must decode to Long objects: without the `long` package protobufjs would
// hand out doubles and silently lose precision beyond 2^53.
if (protobuf.util.Long == null) throw new Error('protobufjs was loaded without Long support (the "long" package is missing)');

const root = protobuf.Root.fromJSON(otlpDescriptor);
root.resolveAll();

export const ExportTraceServiceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
export const ExportLogsServiceRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');

/**
 * protobufjs puts a default on each message prototype for every field. Two of them do not
 * suit the shared converters, so they are made to read as absent (null):
 * - members of a oneof: an AnyValue holding an int would also read as stringValue "", and
 *   the converters find the variant by the first member present;
 * - bytes fields: their default is an empty plain array, not bytes; absent ids must read as
 *   absent ("missing or empty"), as they do in JSON.
 */
function clearDefaults(namespace: protobuf.NamespaceBase): void {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Type) {
      const prototype = nested.ctor.prototype as unknown as Record<string, unknown>;
      for (const field of nested.fieldsArray) {
        if (field.repeated || field.map) continue;
        if (field.partOf !== null || field.type === 'bytes') prototype[field.name] = null;
      }
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) clearDefaults(nested);
  }
}
clearDefaults(root);

/** The media type of OTLP/HTTP protobuf bodies. */
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

function describeDecodeError(error: unknown): string {
  if (error instanceof Error && error.message === 'max depth exceeded') {
    return `messages nested deeper than ${protobuf.Reader.recursionLimit} levels`;
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'messages nested too deeply';
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Decodes an OTLP/HTTP protobuf trace export. Throws a TracefoldError (INVALID_REQUEST, 400)
 * when the bytes are not an ExportTraceServiceRequest or its structure is invalid; returns the
 * accepted spans (source 'otlp-proto') and one entry per rejected span otherwise.
 */
export function decodeOtlpProto(body: Uint8Array, ctx: DecodeContext): DecodeResult {
  let message: protobuf.Message;
  try {
    message = ExportTraceServiceRequest.decode(body);
  } catch (error) {
    throw errors.invalidRequest(`body: not a valid protobuf ExportTraceServiceRequest (${describeDecodeError(error)})`);
  }
  return decodeTraceRequest(message, ctx, 'otlp-proto');
}

/** Decodes an OTLP/HTTP protobuf logs export, as decodeOtlpProto does a trace export. */
export function decodeOtlpLogsProto(body: Uint8Array, ctx: DecodeContext): DecodeResult {
  let message: protobuf.Message;
  try {
    message = ExportLogsServiceRequest.decode(body);
  } catch (error) {
    throw errors.invalidRequest(`body: not a valid protobuf ExportLogsServiceRequest (${describeDecodeError(error)})`);
  }
  return decodeLogsRequest(message, ctx);
}

/**
 * An ExportTraceServiceResponse (or, for `logs`, an ExportLogsServiceResponse):
 * partial_success only when items were rejected, as OTLP asks (an empty partial_success
 * means full success).
 */
export function encodeExportResponse(rejected: number, errorMessage: string, signal: 'traces' | 'logs' = 'traces'): Uint8Array {
  if (signal === 'logs') {
    const response = rejected > 0 ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage } } : {};
    return ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject(response)).finish();
  }
  const response = rejected > 0 ? { partialSuccess: { rejectedSpans: rejected, errorMessage } } : {};
  return ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(response)).finish();
}
