/**
 * What the ingest routes take and answer, for their declarations (src/http/route.ts) and the
 * compatibility paths built on them: OTLP/JSON and flat-span request bodies as JSON Schema
 * (the decoders check them span by span, so the schemas describe the shape loosely), and the
 * answers as zod schemas.
 */
import { z } from 'zod';
import type { ErrorStatus, JsonSchema } from '../http/route.js';

export const ERRORS_INGEST: readonly ErrorStatus[] = [400, 401, 404, 413, 415, 429, 503];

const attributes: JsonSchema = { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'object' } } } };
const nanos: JsonSchema = { type: ['string', 'integer'] };

/** OTLP/JSON ExportTraceServiceRequest, loosely: the decoder reports bad spans one by one. */
export const otlpJsonRequest: JsonSchema = {
  type: 'object',
  description: 'An OTLP ExportTraceServiceRequest in its JSON encoding (opentelemetry-proto).',
  properties: {
    resourceSpans: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          resource: { type: 'object', properties: { attributes: { type: 'array', items: { type: 'object' } } } },
          scopeSpans: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                scope: { type: 'object' },
                spans: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      traceId: { type: 'string' },
                      spanId: { type: 'string' },
                      parentSpanId: { type: 'string' },
                      name: { type: 'string' },
                      kind: { type: ['integer', 'string'] },
                      startTimeUnixNano: nanos,
                      endTimeUnixNano: nanos,
                      attributes,
                      status: { type: 'object' },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** OTLP/JSON ExportLogsServiceRequest, loosely: the decoder reports bad records one by one. */
export const otlpLogsJsonRequest: JsonSchema = {
  type: 'object',
  description: 'An OTLP ExportLogsServiceRequest in its JSON encoding (opentelemetry-proto).',
  properties: {
    resourceLogs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          resource: { type: 'object', properties: { attributes: { type: 'array', items: { type: 'object' } } } },
          scopeLogs: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                scope: { type: 'object' },
                logRecords: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      timeUnixNano: nanos,
                      observedTimeUnixNano: nanos,
                      traceId: { type: 'string' },
                      spanId: { type: 'string' },
                      eventName: { type: 'string' },
                      severityNumber: { type: ['integer', 'string'] },
                      severityText: { type: 'string' },
                      body: { type: 'object' },
                      attributes,
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** Flat spans (src/ingest/flat/spans.ts): a list, a bare array, or traces keyed by id. */
export const flatSpansRequest: JsonSchema = {
  description: 'Flat spans: {"spans": [...]}, a bare array of spans, or {"traces": {"<trace_id>": {"spans": {...}}}}.',
  anyOf: [
    {
      type: 'object',
      properties: {
        spans: {
          type: 'array',
          items: {
            type: 'object',
            properties: { trace_id: { type: 'string' }, span_id: { type: 'string' }, parent_id: { anyOf: [{ type: 'string' }, { type: 'null' }] }, name: { type: 'string' } },
          },
        },
      },
      required: ['spans'],
    },
    { type: 'array', items: { type: 'object' } },
    { type: 'object', properties: { traces: { type: 'object', additionalProperties: { type: 'object' } } }, required: ['traces'] },
  ],
};

const count = z.string().describe('a count, as OTLP/JSON writes int64');

/** The JSON ExportTraceServiceResponse, with the accepted and rejected counts beside it. */
export const otlpAnswer = z
  .object({
    partialSuccess: z.object({ rejectedSpans: count, errorMessage: z.string() }).optional(),
    accepted_spans: z.int(),
    rejected_spans: z.int(),
  })
  .meta({ id: 'OtlpAnswer' });

/** The JSON ExportLogsServiceResponse, with the accepted and rejected counts beside it. */
export const otlpLogsAnswer = z
  .object({
    partialSuccess: z.object({ rejectedLogRecords: count, errorMessage: z.string() }).optional(),
    accepted_log_records: z.int(),
    rejected_log_records: z.int(),
  })
  .meta({ id: 'OtlpLogsAnswer' });

/** The tenant-path answer: OTLP's, with the counts Pisama's clients read. */
export const tenantIngestAnswer = otlpAnswer
  .extend({
    status: z.literal('accepted'),
    submitted: z.int(),
    accepted: z.int(),
    rejected: z.int(),
    rejections: z.array(z.object({ path: z.string(), reason: z.string() })),
  })
  .meta({ id: 'TenantIngestAnswer' });

export const flatIngestAnswer = z
  .object({ count: z.int(), links: z.array(z.object({ trace_id: z.string(), span_id: z.string() })) })
  .meta({ id: 'FlatIngestAnswer' });
