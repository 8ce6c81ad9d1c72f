/**
 * The OpenAPI 3.1 document of a list of declared operations (src/http/route.ts): paths,
 * parameters and bodies from the request schemas, answers from the response schemas, named
 * schemas under components, the `Error` answer of each error status, the security schemes.
 */
import { z } from 'zod';
import { jsonSchemaOf, type JsonSchema } from './json-schema.js';
import { isZod, type ErrorStatus, type Operation, type Security } from './route.js';

/** The body every error answers with (src/http/server.ts). */
export const errorBody = z
  .object({
    error: z.string().describe('machine-readable code, e.g. INVALID_REQUEST, NOT_FOUND, RATE_LIMITED'),
    message: z.string().describe('what went wrong; for 400s each problem names its field (`body.name: ...`)'),
  })
  .meta({ id: 'Error' });

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'invalid request: the message names each field',
  401: 'missing or invalid credential',
  403: 'not allowed (e.g. listing tenants without TRACEFOLD_ADMIN_TOKEN configured)',
  404: 'not found (also a tenant the credential does not belong to)',
  405: 'method not supported on this path (the Allow header lists those that are)',
  409: 'conflict: the session has ended',
  413: 'request body (or its decompressed size) exceeds the limit',
  414: 'a path parameter longer than the router takes',
  415: 'unsupported Content-Type or Content-Encoding',
  429: "over the tenant's ingest rate limit; see Retry-After",
  431: 'the request line and headers exceed the size Node takes',
  503: 'temporarily unavailable (log, ingest buffer, or a read-your-writes wait); retry after Retry-After',
};

const SECURITY: Record<Security, JsonSchema[]> = {
  none: [],
  tenant: [{ bearer: [] }],
  // The admin token is only asked for when the server has one configured.
  admin: [{ admin: [] }, {}],
  agenta: [{ apiKey: [] }, { bearer: [] }],
  // An ingest token in the path (agent-strace streaming): no header.
  'url-token': [],
};

/** OpenAPI wants `{name}` where Fastify has `:name`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

class DocumentBuilder {
  constructor(readonly components: Record<string, JsonSchema>) {}

  schema(schema: z.ZodType | JsonSchema, io: 'input' | 'output'): JsonSchema {
    return isZod(schema) ? jsonSchemaOf(schema, io, this.components) : schema;
  }

  private objectProperties(op: Operation, what: 'params' | 'query', schema: z.ZodType) {
    const json = this.schema(schema, 'input');
    if (json.type !== 'object' || typeof json.properties !== 'object' || json.properties === null) {
      throw new Error(`${op.operationId}: ${what} must be an object schema`);
    }
    const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
    return Object.entries(json.properties as Record<string, JsonSchema>).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
  }

  parameters(op: Operation): JsonSchema[] {
    const inPath = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    const pathProps = op.params === undefined ? [] : this.objectProperties(op, 'params', op.params);
    const documented = pathProps.map((p) => p.name);
    if ([...inPath].sort().join() !== [...documented].sort().join()) {
      throw new Error(`${op.operationId}: path parameters ${JSON.stringify(inPath)} differ from the params schema's ${JSON.stringify(documented)}`);
    }
    const query = op.query === undefined ? [] : this.objectProperties(op, 'query', op.query);
    return [
      ...pathProps.map((p) => ({ name: p.name, in: 'path', required: true, schema: p.schema })),
      ...query.map((p) => ({ name: p.name, in: 'query', required: p.required, schema: p.schema })),
    ];
  }

  requestBody(op: Operation): JsonSchema | undefined {
    if (op.body === undefined) return undefined;
    const content: Record<string, JsonSchema> = {
      'application/json': { schema: this.schema(op.body.schema, 'input'), ...(op.body.examples === undefined ? {} : { examples: op.body.examples }) },
    };
    if (op.body.protobuf === true) {
      content['application/x-protobuf'] = {
        schema: { type: 'string', contentMediaType: 'application/x-protobuf', description: 'an OTLP Export*ServiceRequest (opentelemetry-proto)' },
      };
    }
    return { required: op.body.required ?? true, content };
  }

  responses(op: Operation): Record<string, JsonSchema> {
    const r = op.response;
    const content: Record<string, JsonSchema> =
      r.schema !== undefined
        ? { [r.contentType ?? 'application/json']: { schema: this.schema(r.schema, 'output') } }
        : { [r.contentType ?? 'application/octet-stream']: { schema: { type: 'string' } } };
    if (r.protobuf === true) {
      content['application/x-protobuf'] = {
        schema: { type: 'string', contentMediaType: 'application/x-protobuf', description: 'an OTLP Export*ServiceResponse (opentelemetry-proto)' },
      };
    }
    const success = { description: r.description, content, ...(r.headers === undefined ? {} : { headers: r.headers }) };
    const responses: Record<string, JsonSchema> = { [String(r.status)]: success };
    for (const status of r.also ?? []) responses[String(status)] = success;
    for (const status of op.errors) responses[String(status)] = { $ref: `#/components/responses/E${status}` };
    return responses;
  }
}

export interface DocumentInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

/** Builds the OpenAPI 3.1 document of `ops`; `schemas` are further named JSON Schemas they refer to. */
export function openApiDocument(ops: readonly Operation[], info: DocumentInfo, schemas: Record<string, JsonSchema> = {}): JsonSchema {
  const builder = new DocumentBuilder({ ...schemas });
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const ids = new Set<string>();
  for (const op of ops) {
    if (ids.has(op.operationId)) throw new Error(`duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    const item = (paths[openApiPath(op.path)] ??= {});
    if (item[op.method] !== undefined) throw new Error(`${op.method.toUpperCase()} ${op.path} is listed twice`);
    const parameters = builder.parameters(op);
    const requestBody = builder.requestBody(op);
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description === undefined ? {} : { description: op.description }),
      tags: [...op.tags],
      security: SECURITY[op.security],
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(requestBody === undefined ? {} : { requestBody }),
      responses: builder.responses(op),
    };
  }
  const error = builder.schema(errorBody, 'output');
  const errorResponses = Object.fromEntries(
    Object.entries<string>(ERROR_DESCRIPTIONS).map(([status, description]) => [`E${status}`, { description, content: { 'application/json': { schema: error } } }]),
  );
  return {
    openapi: '3.1.0',
    info: { ...info, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    tags: [...new Set(ops.flatMap((op) => op.tags))].map((name) => ({ name })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(builder.components).sort(([a], [b]) => a.localeCompare(b))),
      responses: errorResponses,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (tfk_…) or a JWT from POST /api/v1/auth/token.' },
        admin: { type: 'http', scheme: 'bearer', description: 'The admin token (TRACEFOLD_ADMIN_TOKEN), when the server has one.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Agenta\'s scheme on its paths: "ApiKey <tracefold API key>".' },
      },
    },
  };
}
