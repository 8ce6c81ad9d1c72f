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

/**
 * The shape of one OTLP export request (traces or logs): its resource entries, their scope
 * entries and the items under each, each field in lowerCamelCase or snake_case.
 */
export interface ExportSignal<T> {
  /** What one item is, for messages: "span", "log record". */
  readonly item: string;
  readonly request: string;
  readonly resourceKeys: readonly [camel: string, snake: string];
  readonly scopeKeys: readonly [camel: string, snake: string];
  readonly itemKeys: readonly [camel: string, snake: string];
  readonly convert: (input: unknown, resource: Resource, scope: InstrumentationScope, context: SpanContext) => T;
}

function exportRequestSchema(signal: ExportSignal<unknown>) {
  const items = z.array(z.unknown()).nullish();
  const scopeEntry = z.object({ scope: message, schemaUrl, schema_url: schemaUrl, [signal.itemKeys[0]]: items, [signal.itemKeys[1]]: items });
  const resourceEntry = z.object({
    resource: message,
    schemaUrl,
    schema_url: schemaUrl,
    [signal.scopeKeys[0]]: z.array(scopeEntry).nullish(),
    [signal.scopeKeys[1]]: z.array(scopeEntry).nullish(),
  });
  return z.object({ [signal.resourceKeys[0]]: z.array(resourceEntry).nullish(), [signal.resourceKeys[1]]: z.array(resourceEntry).nullish() });
}

const schemas = new WeakMap<ExportSignal<unknown>, ReturnType<typeof exportRequestSchema>>();

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

type Loose = Record<string, unknown>;

function validateStructure(body: unknown, signal: ExportSignal<unknown>): Loose {
  let schema = schemas.get(signal);
  if (schema === undefined) schemas.set(signal, (schema = exportRequestSchema(signal)));
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0];
    const head = first === undefined ? 'request body: invalid' : formatIssue(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw errors.invalidRequest(`${head}${more}`);
  }
  // The parse output is a copy; the caller's objects are what is converted.
  return body as Loose;
}

function rejectAll(rejected: RejectedSpan[], prefix: string, count: number, reason: string): void {
  for (let k = 0; k < count; k++) rejected.push({ path: `${prefix}[${k}]`, reason });
}

/** The field of `o` spelled `keys[0]` (lowerCamelCase, preferred) or `keys[1]` (snake_case), and the spelling used. */
function listOf(o: Loose, keys: readonly [string, string]): { key: string; list: readonly Loose[] } {
  const [camel, snake] = keys;
  const key = o[camel] == null && o[snake] != null ? snake : camel;
  return { key, list: (o[camel] ?? o[snake] ?? []) as readonly Loose[] };
}

function schemaUrlOf(o: Loose): string {
  return (o.schemaUrl ?? o.schema_url ?? '') as string;
}

/**
 * Decodes one export request of `signal` given as a loose object (parsed JSON, or decoded
 * protobuf messages). Throws a TracefoldError (INVALID_REQUEST) when the request's structure
 * is invalid; otherwise returns the accepted items in request order and the rejected ones.
 */
export function decodeExportRequest<T extends CanonicalSpan>(body: unknown, ctx: DecodeContext, source: SpanSource, signal: ExportSignal<T>): { items: T[]; rejected: RejectedSpan[] } {
  const request = validateStructure(body, signal);
  const context: SpanContext = { tenantId: ctx.tenantId, receivedAtMs: ctx.receivedAtMs, source };
  const items: T[] = [];
  const rejected: RejectedSpan[] = [];

  const resources = listOf(request, signal.resourceKeys);
  for (let i = 0; i < resources.list.length; i++) {
    const rs = resources.list[i]!;
    const rsPath = `${resources.key}[${i}]`;
    let resource: Resource | undefined;
    let resourceFault: string | undefined;
    try {
      resource = convertResource(rs.resource, schemaUrlOf(rs));
    } catch (error) {
      if (!(error instanceof OtlpValueError)) throw error;
      resourceFault = `invalid resource: ${rsPath}.resource${error.path}: ${error.reason}`;
    }

    const scopes = listOf(rs, signal.scopeKeys);
    for (let j = 0; j < scopes.list.length; j++) {
      const ss = scopes.list[j]!;
      const entries = listOf(ss, signal.itemKeys);
      const list = entries.list;
      if (list.length === 0) continue;
      const itemsPath = `${rsPath}.${scopes.key}[${j}].${entries.key}`;
      if (resource === undefined) {
        rejectAll(rejected, itemsPath, list.length, resourceFault ?? 'invalid resource');
        continue;
      }
      let scope: InstrumentationScope;
      try {
        scope = convertScope(ss.scope, schemaUrlOf(ss));
      } catch (error) {
        if (!(error instanceof OtlpValueError)) throw error;
        rejectAll(rejected, itemsPath, list.length, `invalid scope: ${rsPath}.${scopes.key}[${j}].scope${error.path}: ${error.reason}`);
        continue;
      }
      for (let k = 0; k < list.length; k++) {
        try {
          const item = signal.convert(list[k], resource, scope, context);
          const keyPartProblem = spanKeyPartProblem(item);
          if (keyPartProblem === null) items.push(item);
          else rejected.push({ path: `${itemsPath}[${k}]`, reason: keyPartProblem });
        } catch (error) {
          if (!(error instanceof OtlpValueError)) throw error;
          rejected.push({ path: `${itemsPath}[${k}]${error.path}`, reason: error.reason });
        }
      }
    }
  }
  return { items, rejected };
}

/** The trace export: ResourceSpans, ScopeSpans, Span. */
export const TRACES: ExportSignal<CanonicalSpan> = {
  item: 'span',
  request: 'ExportTraceServiceRequest',
  resourceKeys: ['resourceSpans', 'resource_spans'],
  scopeKeys: ['scopeSpans', 'scope_spans'],
  itemKeys: ['spans', 'spans'],
  convert: convertSpan,
};

/** Decodes one ExportTraceServiceRequest (see decodeExportRequest). */
export function decodeTraceRequest(body: unknown, ctx: DecodeContext, source: SpanSource): DecodeResult {
  const { items, rejected } = decodeExportRequest(body, ctx, source, TRACES);
  return { spans: items, rejected };
}
