/**
 * Ingest routes: OTLP/HTTP at POST /v1/traces (the OpenTelemetry default path, tenant from the
 * credential) and POST /v1/logs (log records joined to the spans they name), the tenant-scoped POST /api/v1/tenants/:tenantId/traces/ingest, and
 * POST /api/v1/traces/ingest (tenant from the credential; the default of Pisama's
 * `pisama.auto` exporter). The last two answer 202 with the counts Pisama's clients read.
 *
 * Both take an ExportTraceServiceRequest as protobuf (application/x-protobuf) or JSON
 * (application/json), either one optionally compressed (Content-Encoding gzip or deflate).
 * Both decode, validate, append to the raw topic and answer only after the append is durable.
 * Spans that fail validation are reported per span (OTLP partial success); the rest are
 * accepted. A protobuf request gets a protobuf ExportTraceServiceResponse, a JSON request its
 * JSON form plus the accepted / rejected counts.
 *
 * Body limits: Fastify caps the bytes received (config.maxBodyBytes); a compressed body is
 * inflated with the same cap on its decompressed size, so a small gzip bomb cannot expand
 * past it (413 naming the limit). A corrupt stream is a 400.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestContext } from '../http/context.js';
import { defineOperation, routesOf } from '../http/route.js';
import { tenantParams } from '../http/validate.js';
import { ERRORS_INGEST, otlpAnswer, otlpJsonRequest, otlpLogsAnswer, otlpLogsJsonRequest, tenantIngestAnswer } from './contract.js';
import { errors, TracefoldError } from '../model/errors.js';
import { appendRaw, spanRecord } from './append-raw.js';
import { admitIngest } from '../http/limits/index.js';
import { decodeOtlpJson, decodeOtlpLogsJson, type DecodeContext, type DecodeResult, type RejectedSpan } from './otlp/json.js';
import { decodeOtlpLogsProto, decodeOtlpProto, encodeExportResponse, PROTOBUF_CONTENT_TYPE } from './otlp/proto.js';
import { LOGS } from './otlp/log-record.js';
import { TRACES, type ExportSignal } from './otlp/request.js';


const JSON_CONTENT_TYPE = 'application/json';
const SUPPORTED_CONTENT_TYPES = `${PROTOBUF_CONTENT_TYPE} or ${JSON_CONTENT_TYPE}`;
const SUPPORTED_ENCODINGS = 'gzip, deflate or identity';

/** What the OTLP content-type parser hands to the routes: the decompressed bytes and their format. */
interface OtlpBody {
  readonly format: 'protobuf' | 'json';
  readonly bytes: Buffer;
}

export interface IngestOutcome {
  readonly accepted: number;
  /** The accepted spans' trace and parent ids, for answers that count traces or child spans. */
  readonly acceptedSpans: readonly { readonly traceId: string; readonly parentSpanId: string }[];
  readonly rejected: readonly RejectedSpan[];
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** The single content coding of a request, lowercased; "identity" when there is none. */
function contentCoding(request: FastifyRequest): string {
  const header = request.headers['content-encoding'];
  if (header === undefined) return 'identity';
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length > 1) {
    throw errors.unsupportedMediaType(`Content-Encoding "${header}": only one coding is supported (${SUPPORTED_ENCODINGS})`);
  }
  return codings[0]!;
}

/** Inflates `data` without letting the result grow past `limitBytes`. */
async function decompress(data: Buffer, coding: string, limitBytes: number): Promise<Buffer> {
  if (coding === 'identity') return data;
  if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== 'deflate') {
    throw errors.unsupportedMediaType(`Content-Encoding "${coding}" is not supported; use ${SUPPORTED_ENCODINGS}`);
  }
  try {
    const options = { maxOutputLength: limitBytes };
    return coding === 'deflate' ? await inflate(data, options) : await gunzip(data, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TracefoldError('PAYLOAD_TOO_LARGE', 413, `decompressed request body exceeds the limit of ${limitBytes} bytes`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw errors.invalidRequest(`body: invalid ${coding === 'deflate' ? 'deflate' : 'gzip'} data (${reason})`);
  }
}

/** An OTLP signal's request (names from its ExportSignal) and its two decoders. */
interface OtlpSignal {
  readonly names: ExportSignal<unknown>;
  readonly json: (body: unknown, ctx: DecodeContext) => DecodeResult;
  readonly protobuf: (body: Uint8Array, ctx: DecodeContext) => DecodeResult;
}

const TRACE_SIGNAL: OtlpSignal = { names: TRACES, json: decodeOtlpJson, protobuf: decodeOtlpProto };
/** Log records become spans standing for them (otlp/log-record.ts); they count as spans against the rate limits. */
const LOGS_SIGNAL: OtlpSignal = { names: LOGS, json: decodeOtlpLogsJson, protobuf: decodeOtlpLogsProto };

function decodeBody(request: FastifyRequest, tenantId: string, signal: OtlpSignal): DecodeResult {
  const body = request.body as OtlpBody | undefined | null;
  if (body == null) {
    throw errors.invalidRequest(`body: expected an OTLP ${signal.names.request} (${SUPPORTED_CONTENT_TYPES})`);
  }
  const ctx = { tenantId, receivedAtMs: Date.now() };
  if (body.format === 'protobuf') return signal.protobuf(body.bytes, ctx);
  if (body.bytes.length === 0) throw errors.invalidRequest('body: expected an OTLP JSON object, got an empty body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.bytes.toString('utf8'));
  } catch (error) {
    throw errors.invalidRequest(`body: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed === null) throw errors.invalidRequest('body: expected an OTLP JSON object');
  return signal.json(parsed, ctx);
}

export async function ingestOtlp(ctx: IngestContext, request: FastifyRequest, tenantId: string, signal: OtlpSignal = TRACE_SIGNAL): Promise<IngestOutcome> {
  const decoded = decodeBody(request, tenantId, signal);
  admitIngest(ctx, tenantId, decoded.spans.length, decoded.rejected.length);
  if (decoded.spans.length === 0 && decoded.rejected.length > 0) {
    const first = decoded.rejected.slice(0, 5).map((r) => `${r.path}: ${r.reason}`);
    throw errors.invalidRequest(`no valid ${signal.names.item}s: ${first.join('; ')}`);
  }
  const records = await Promise.all(decoded.spans.map((span) => spanRecord(ctx.codecs, span)));
  await appendRaw(ctx.log, records);
  return { accepted: decoded.spans.length, acceptedSpans: decoded.spans, rejected: decoded.rejected };
}

function errorMessage(outcome: IngestOutcome): string {
  return outcome.rejected
    .slice(0, 10)
    .map((r) => `${r.path}: ${r.reason}`)
    .join('; ');
}

export function otlpResponse(outcome: IngestOutcome) {
  return {
    // OTLP ExportTraceServiceResponse: partialSuccess only when something was rejected.
    ...(outcome.rejected.length > 0
      ? { partialSuccess: { rejectedSpans: String(outcome.rejected.length), errorMessage: errorMessage(outcome) } }
      : {}),
    accepted_spans: outcome.accepted,
    rejected_spans: outcome.rejected.length,
  };
}

/** The JSON ExportLogsServiceResponse, with the accepted and rejected counts beside it. */
export function otlpLogsResponse(outcome: IngestOutcome) {
  return {
    ...(outcome.rejected.length > 0
      ? { partialSuccess: { rejectedLogRecords: String(outcome.rejected.length), errorMessage: errorMessage(outcome) } }
      : {}),
    accepted_log_records: outcome.accepted,
    rejected_log_records: outcome.rejected.length,
  };
}

export function protobufResponse(outcome: IngestOutcome, signal: 'traces' | 'logs' = 'traces'): Buffer {
  const bytes = encodeExportResponse(outcome.rejected.length, errorMessage(outcome), signal);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function isProtobuf(request: FastifyRequest): boolean {
  return (request.body as OtlpBody | undefined | null)?.format === 'protobuf';
}

/**
 * Replaces the scope's content-type parsers with OTLP's: protobuf or JSON, either one
 * optionally compressed, inflated within the body limit. For the scope's routes only.
 */
export function otlpContentTypes(app: FastifyInstance, limitBytes: number): void {
  app.removeAllContentTypeParsers();
  const parser = (format: OtlpBody['format']) => async (request: FastifyRequest, raw: Buffer | string) => {
    const data = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const body: OtlpBody = { format, bytes: await decompress(data, contentCoding(request), limitBytes) };
    return body;
  };
  app.addContentTypeParser(PROTOBUF_CONTENT_TYPE, { parseAs: 'buffer' }, parser('protobuf'));
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'buffer' }, parser('json'));
  app.addContentTypeParser('*', async (request: FastifyRequest) => {
    const given = request.headers['content-type'];
    throw errors.unsupportedMediaType(
      `${given === undefined || given === '' ? 'missing Content-Type' : `unsupported Content-Type "${given}"`}; send ${SUPPORTED_CONTENT_TYPES}`,
    );
  });
}

export const otlpOperations = {
  exportTraces: defineOperation({
    method: 'post',
    path: '/v1/traces',
    operationId: 'exportTraces',
    summary: 'OTLP/HTTP trace export (tenant from the credential)',
    description:
      'The OpenTelemetry default path. Protobuf or JSON, optionally gzip- or deflate-compressed. Invalid spans are reported (partial success), the rest accepted; the answer comes once the append is durable.',
    tags: ['ingest'],
    security: 'tenant',
    openIngest: true,
    body: { schema: otlpJsonRequest, protobuf: true },
    response: { status: 200, description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)', schema: otlpAnswer, protobuf: true },
    errors: ERRORS_INGEST,
  }),
  exportLogs: defineOperation({
    method: 'post',
    path: '/v1/logs',
    operationId: 'exportLogs',
    summary: 'OTLP/HTTP logs export: GenAI events and other log records, joined to the spans they name',
    description:
      'Protobuf or JSON, optionally gzip- or deflate-compressed. Each record must carry the trace and span id of its span; one without them is refused alone (partial success). Records show as events of their span once its trace closes.',
    tags: ['ingest'],
    security: 'tenant',
    openIngest: true,
    body: { schema: otlpLogsJsonRequest, protobuf: true },
    response: { status: 200, description: 'accepted (a protobuf request gets a protobuf ExportLogsServiceResponse)', schema: otlpLogsAnswer, protobuf: true },
    errors: ERRORS_INGEST,
  }),
  ingestTenantTraces: defineOperation({
    method: 'post',
    path: '/api/v1/tenants/:tenantId/traces/ingest',
    operationId: 'ingestTenantTraces',
    summary: 'OTLP trace ingest for the tenant in the path',
    tags: ['ingest'],
    security: 'tenant',
    params: tenantParams,
    body: { schema: otlpJsonRequest, protobuf: true },
    response: { status: 202, description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)', schema: tenantIngestAnswer, protobuf: true },
    errors: ERRORS_INGEST,
  }),
  ingestTracesForCaller: defineOperation({
    method: 'post',
    path: '/api/v1/traces/ingest',
    operationId: 'ingestTracesForCaller',
    summary: 'OTLP trace ingest for the tenant of the credential, answered as the tenant path is',
    tags: ['ingest'],
    security: 'tenant',
    openIngest: true,
    body: { schema: otlpJsonRequest, protobuf: true },
    response: { status: 202, description: 'accepted (a protobuf request gets a protobuf ExportTraceServiceResponse)', schema: tenantIngestAnswer, protobuf: true },
    errors: ERRORS_INGEST,
  }),
};

/**
 * The OTLP routes, in their own encapsulation context: their content-type parsers replace
 * Fastify's JSON parser for these routes only. Without a credential, /v1/traces, /v1/logs and
 * /api/v1/traces/ingest take the open ingest tenant when the deployment opted into one.
 */
export function otlpRoutes(ctx: IngestContext) {
  return async (app: FastifyInstance) => {
    otlpContentTypes(app, ctx.config.maxBodyBytes);
    const route = routesOf(app, ctx);
    const ops = otlpOperations;

    // OTLP/HTTP answers 200 on success (OTLP specification); exporters treat it as delivered.
    route(ops.exportTraces, async ({ tenantId }, request, reply) => {
      const outcome = await ingestOtlp(ctx, request, tenantId);
      if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
      return otlpResponse(outcome);
    });

    // OTLP logs: records joined to their spans (GenAI events: prompts, completions, tool messages).
    route(ops.exportLogs, async ({ tenantId }, request, reply) => {
      const outcome = await ingestOtlp(ctx, request, tenantId, LOGS_SIGNAL);
      if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome, 'logs'));
      return otlpLogsResponse(outcome);
    });

    const accepted = (request: FastifyRequest, reply: FastifyReply, outcome: IngestOutcome) => {
      if (isProtobuf(request)) return reply.type(PROTOBUF_CONTENT_TYPE).send(protobufResponse(outcome));
      return {
        status: 'accepted' as const,
        ...otlpResponse(outcome),
        // Pisama's counts: spans sent, accepted and rejected; the rejections themselves, each with its path and reason.
        submitted: outcome.accepted + outcome.rejected.length,
        accepted: outcome.accepted,
        rejected: outcome.rejected.length,
        rejections: outcome.rejected,
      };
    };

    route(ops.ingestTenantTraces, async ({ tenantId }, request, reply) => accepted(request, reply, await ingestOtlp(ctx, request, tenantId)));
    route(ops.ingestTracesForCaller, async ({ tenantId }, request, reply) => accepted(request, reply, await ingestOtlp(ctx, request, tenantId)));
  };
}

export function ingestRoutes(ctx: IngestContext) {
  return async (app: FastifyInstance) => {
    await app.register(otlpRoutes(ctx));
  };
}
