/**
 * The OpenAPI entries of Agenta's paths (agenta-routes.ts), one per path and prefix.
 */
import type { z } from 'zod';
import type { ErrorStatus, JsonSchema, Operation } from '../../openapi.js';
import { AGENTA_PREFIXES, simpleTraceBody, traceIdParams } from './agenta-routes.js';

interface Shared {
  readonly otlpJsonRequest: JsonSchema;
  readonly flatSpansRequest: JsonSchema;
  readonly flatAnswer: z.ZodType;
  readonly otlpAnswer: z.ZodType;
  readonly errorsIngest: readonly ErrorStatus[];
}

const TAG = 'Agenta tracing (compatible paths)';
const tracesRequest: JsonSchema = {
  type: 'object',
  description: 'A Trace ({"trace": {"trace_id", "spans"}}) or Traces ({"traces": [...]} or {"traces": {"<trace_id>": {"spans"}}}); spans as in flat span ingest',
};
const simpleTraceAnswer: JsonSchema = {
  type: 'object',
  required: ['count', 'trace'],
  properties: { count: { type: 'integer' }, trace: { type: 'object', required: ['trace_id', 'span_id'], properties: { trace_id: { type: 'string' }, span_id: { type: 'string' } } } },
};
const tracesAnswer: JsonSchema = {
  type: 'object',
  required: ['count', 'traces'],
  properties: { count: { type: 'integer' }, traces: { type: 'object', description: 'by trace id: {spans: SpansTree}, spans keyed by span name, children under spans' } },
};

export function agentaOperations(shared: Shared): Operation[] {
  const ops: Operation[] = [];
  for (const prefix of AGENTA_PREFIXES) {
    const id = (name: string) => `agenta${name}${prefix === '' ? 'Relative' : ''}`;
    const base = { tags: [TAG], security: 'agenta' as const };
    const accepted = { status: 202, description: 'durable in the log; analysed once the window closes', schema: shared.flatAnswer };
    ops.push(
      { ...base, method: 'post', path: `${prefix}/tracing/spans/ingest`, operationId: id('IngestSpans'), summary: 'Agenta structured span ingest (flat list or nested tree)', body: { schema: shared.flatSpansRequest }, response: accepted, errors: shared.errorsIngest },
      { ...base, method: 'post', path: `${prefix}/traces/ingest`, operationId: id('IngestTraces'), summary: 'Agenta Trace / Traces ingest', body: { schema: tracesRequest }, response: accepted, errors: shared.errorsIngest },
      { ...base, method: 'post', path: `${prefix}/traces/`, operationId: id('CreateTraces'), summary: 'Agenta Trace / Traces create', body: { schema: tracesRequest }, response: accepted, errors: shared.errorsIngest },
      { ...base, method: 'put', path: `${prefix}/traces/:traceId`, operationId: id('PutTrace'), summary: 'Agenta trace re-send: its spans replace the earlier copies', params: traceIdParams, body: { schema: tracesRequest }, response: accepted, errors: shared.errorsIngest },
      { ...base, method: 'post', path: `${prefix}/simple/traces/`, operationId: id('CreateSimpleTrace'), summary: 'Agenta single-trace helper: ids generated, the trace closed at once', body: { schema: simpleTraceBody }, response: { status: 202, description: 'accepted: the created trace with its ids', schema: simpleTraceAnswer }, errors: shared.errorsIngest },
      { ...base, method: 'get', path: `${prefix}/simple/traces/:traceId`, operationId: id('GetSimpleTrace'), summary: 'Agenta simple trace, read back', params: traceIdParams, response: { status: 200, description: 'the trace in the simple shape', schema: simpleTraceAnswer }, errors: [400, 401, 404] },
      { ...base, method: 'patch', path: `${prefix}/simple/traces/:traceId`, operationId: id('PatchSimpleTrace'), summary: 'Not supported (append-only log): 405', params: traceIdParams, response: { status: 405, description: 'not supported', schema: { type: 'object' } }, errors: [401] },
      { ...base, method: 'delete', path: `${prefix}/simple/traces/:traceId`, operationId: id('DeleteSimpleTrace'), summary: 'Not supported (append-only log): 405', params: traceIdParams, response: { status: 405, description: 'not supported', schema: { type: 'object' } }, errors: [401] },
      { ...base, method: 'get', path: `${prefix}/traces/:traceId`, operationId: id('GetTrace'), summary: 'Agenta trace as a nested SpansTree, ag.* nested', params: traceIdParams, response: { status: 200, description: 'the trace', schema: tracesAnswer }, errors: [400, 401, 404] },
      { ...base, method: 'get', path: `${prefix}/tracing/traces/:traceId`, operationId: id('GetTracingTrace'), summary: 'Agenta trace as a nested SpansTree (same as GET /traces/{trace_id})', params: traceIdParams, response: { status: 200, description: 'the trace', schema: tracesAnswer }, errors: [400, 401, 404] },
      { ...base, method: 'post', path: `${prefix}/otlp/v1/traces`, operationId: id('Otlp'), summary: 'Agenta OTLP/HTTP endpoint (protobuf or JSON)', body: { schema: shared.otlpJsonRequest, protobuf: true }, response: { status: 200, description: 'OTLP ExportTraceServiceResponse', schema: shared.otlpAnswer }, errors: shared.errorsIngest },
    );
  }
  return ops;
}
