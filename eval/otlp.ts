/**
 * Small builders for OTLP/HTTP JSON trace exports (ExportTraceServiceRequest), shared by the
 * Who&When converter and the clean-run generator. Ids are derived from stable keys so the
 * same input always yields the same payload.
 */
import { createHash } from 'node:crypto';

export type OtlpAttributeValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

export interface OtlpAttribute {
  key: string;
  value: OtlpAttributeValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status?: { code: number; message?: string };
}

export interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope: { name: string; version: string }; spans: OtlpSpan[] }[];
  }[];
}

/** Attribute values as plain JS; undefined and null entries are dropped. */
export type AttributeInput = Readonly<Record<string, string | number | boolean | null | undefined>>;

export const STATUS_OK = 1;
export const STATUS_ERROR = 2;
const SPAN_KIND_INTERNAL = 1;

export function hexId(key: string, hexChars: 16 | 32): string {
  return createHash('sha256').update(key).digest('hex').slice(0, hexChars);
}

export function attributes(input: AttributeInput): OtlpAttribute[] {
  const out: OtlpAttribute[] = [];
  for (const [key, v] of Object.entries(input)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out.push({ key, value: { stringValue: v } });
    else if (typeof v === 'boolean') out.push({ key, value: { boolValue: v } });
    else if (Number.isInteger(v)) out.push({ key, value: { intValue: String(v) } });
    else out.push({ key, value: { doubleValue: v } });
  }
  return out;
}

export interface SpanInput {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: AttributeInput;
  /** Absent: status unset. */
  readonly error?: string;
}

export function span(input: SpanInput): OtlpSpan {
  const ms = (x: number) => (BigInt(Math.round(x)) * 1_000_000n).toString();
  const out: OtlpSpan = {
    traceId: input.traceId,
    spanId: input.spanId,
    name: input.name,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: ms(input.startMs),
    endTimeUnixNano: ms(input.startMs + input.durationMs),
    attributes: attributes(input.attributes),
  };
  if (input.parentSpanId !== undefined) out.parentSpanId = input.parentSpanId;
  if (input.error !== undefined) out.status = { code: STATUS_ERROR, message: input.error };
  return out;
}

export function request(serviceName: string, spans: OtlpSpan[]): OtlpRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes({ 'service.name': serviceName }) },
        scopeSpans: [{ scope: { name: 'tracefold-eval', version: '1' }, spans }],
      },
    ],
  };
}
