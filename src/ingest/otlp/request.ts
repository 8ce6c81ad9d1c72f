/**
 * ExportTraceServiceRequest → canonical spans, shared by the OTLP decoders.
 *
 * Two levels of checking:
 * - the request's structure (the body, resourceSpans, each ResourceSpans and ScopeSpans entry,
 *   resource, scope, schemaUrl, the spans array) is validated once per request with zod; a
 *   failure there rejects the whole request with a TracefoldError naming the JSON path;
 * - each span is converted by hand-written code (src/ingest/otlp/span.ts); a span that cannot
 *   be converted is rejected alone, with a path and a reason, and its siblings are accepted
 *   (this feeds OTLP partial_success). A resource or scope whose content is invalid rejects
 *   every span under it, and so does a value that would be a key part over its limit
 *   (src/model/key-parts.ts), such as a service.name of 70,000 characters.
 *
 * Field names are accepted in lowerCamelCase (OTLP/JSON) and snake_case (proto names); when a
 * message carries both spellings of a field, the lowerCamelCase one wins. The caller's objects
 * are read, never copied or modified.
 */
import { z } from 'zod';
import { errors } from '../../model/errors.js';
import type { CanonicalSpan, InstrumentationScope, Resource, SpanSource } from '../../model/span.js';
import { spanKeyPartProblem } from '../../semantic/key-parts.js';
import { convertResource, convertScope, convertSpan, type SpanContext } from './span.js';
import { OtlpValueError } from './value-error.js';

export interface DecodeContext {
  readonly tenantId: string;
  readonly receivedAtMs: number;
}

/** One rejected span: `path` starts with the span's JSON path and, when the fault is inside the span, continues to the offending field. */
export interface RejectedSpan {
  readonly path: string;
  readonly reason: string;
}

export interface DecodeResult {
  spans: CanonicalSpan[];
  rejected: RejectedSpan[];
}

const schemaUrl = z.string().nullish();
const message = z.object({}).nullish();

const ScopeSpansSchema = z.object({
  scope: message,
  schemaUrl,
  schema_url: schemaUrl,
  spans: z.array(z.unknown()).nullish(),
});

const ResourceSpansSchema = z.object({
  resource: message,
  schemaUrl,
  schema_url: schemaUrl,
  scopeSpans: z.array(ScopeSpansSchema).nullish(),
  scope_spans: z.array(ScopeSpansSchema).nullish(),
});

const ExportTraceServiceRequestSchema = z.object({
  resourceSpans: z.array(ResourceSpansSchema).nullish(),
  resource_spans: z.array(ResourceSpansSchema).nullish(),
});

type ExportTraceServiceRequest = z.input<typeof ExportTraceServiceRequestSchema>;

/** `resourceSpans[0].scopeSpans`, or "request body" for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? 'request body' : out;
}

const ARTICLES: Readonly<Record<string, string>> = { array: 'an array', object: 'an object', string: 'a string' };

function formatIssue(issue: z.core.$ZodIssue): string {
  const what = issue.code === 'invalid_type' ? `expected ${ARTICLES[issue.expected] ?? issue.expected}` : issue.message;
  return `${formatPath(issue.path)}: ${what}`;
}

function validateStructure(body: unknown): ExportTraceServiceRequest {
  const result = ExportTraceServiceRequestSchema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0];
    const head = first === undefined ? 'request body: invalid' : formatIssue(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw errors.invalidRequest(`${head}${more}`);
  }
  // The parse output is a copy; the caller's objects are what is converted.
  return body as ExportTraceServiceRequest;
}

function rejectAll(rejected: RejectedSpan[], prefix: string, count: number, reason: string): void {
  for (let k = 0; k < count; k++) rejected.push({ path: `${prefix}[${k}]`, reason });
}

/**
 * Decodes one ExportTraceServiceRequest given as a loose object (parsed JSON, or decoded
 * protobuf messages). Throws a TracefoldError (INVALID_REQUEST) when the request's structure
 * is invalid; otherwise returns the accepted spans in request order and the rejected ones.
 */
export function decodeTraceRequest(body: unknown, ctx: DecodeContext, source: SpanSource): DecodeResult {
  const request = validateStructure(body);
  const context: SpanContext = { tenantId: ctx.tenantId, receivedAtMs: ctx.receivedAtMs, source };
  const spans: CanonicalSpan[] = [];
  const rejected: RejectedSpan[] = [];

  const rsKey = request.resourceSpans == null && request.resource_spans != null ? 'resource_spans' : 'resourceSpans';
  const resourceSpansList = request.resourceSpans ?? request.resource_spans ?? [];
  for (let i = 0; i < resourceSpansList.length; i++) {
    const rs = resourceSpansList[i]!;
    const rsPath = `${rsKey}[${i}]`;
    let resource: Resource | undefined;
    let resourceFault: string | undefined;
    try {
      resource = convertResource(rs.resource, rs.schemaUrl ?? rs.schema_url ?? '');
    } catch (error) {
      if (!(error instanceof OtlpValueError)) throw error;
      resourceFault = `invalid resource: ${rsPath}.resource${error.path}: ${error.reason}`;
    }

    const ssKey = rs.scopeSpans == null && rs.scope_spans != null ? 'scope_spans' : 'scopeSpans';
    const scopeSpansList = rs.scopeSpans ?? rs.scope_spans ?? [];
    for (let j = 0; j < scopeSpansList.length; j++) {
      const ss = scopeSpansList[j]!;
      const list = ss.spans ?? [];
      if (list.length === 0) continue;
      const spansPath = `${rsPath}.${ssKey}[${j}].spans`;
      if (resource === undefined) {
        rejectAll(rejected, spansPath, list.length, resourceFault ?? 'invalid resource');
        continue;
      }
      let scope: InstrumentationScope;
      try {
        scope = convertScope(ss.scope, ss.schemaUrl ?? ss.schema_url ?? '');
      } catch (error) {
        if (!(error instanceof OtlpValueError)) throw error;
        rejectAll(rejected, spansPath, list.length, `invalid scope: ${rsPath}.${ssKey}[${j}].scope${error.path}: ${error.reason}`);
        continue;
      }
      for (let k = 0; k < list.length; k++) {
        try {
          const span = convertSpan(list[k], resource, scope, context);
          const keyPartProblem = spanKeyPartProblem(span);
          if (keyPartProblem === null) spans.push(span);
          else rejected.push({ path: `${spansPath}[${k}]`, reason: keyPartProblem });
        } catch (error) {
          if (!(error instanceof OtlpValueError)) throw error;
          rejected.push({ path: `${spansPath}[${k}]${error.path}`, reason: error.reason });
        }
      }
    }
  }
  return { spans, rejected };
}
