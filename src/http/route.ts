/**
 * Routes declared once. An `Operation` states what the OpenAPI document says of a route
 * (method, path, operationId, summary, tags, who may call, the zod schemas of its params,
 * query, body and answer, the error statuses); `routesOf(app, ctx)` registers it with
 * Fastify from that same declaration, and src/http/openapi.ts builds the document from it.
 *
 * Registration gives Fastify the JSON Schema forms of the zod schemas (requests as zod
 * accepts them, the answer as the route sends it) but not its own validation: zod checks
 * each part, so a 400 names the field as `query.limit: ...`. Answers are serialized with
 * JSON.stringify, not compiled from the response schema, which would drop the fields it
 * does not list (open objects: attributes, settings, evidence data).
 *
 * One preHandler hook per route checks the request, the caller first:
 *   1. the credential of the route's security: tenant (a bearer API key or JWT), agenta
 *      (Agenta's `ApiKey` scheme as well), admin (the admin token, when one is configured);
 *   2. params, and on a tenant path that the credential is the path's tenant (404 if not);
 *      a url-token route's credential is the ingest token in its path (`:token`), checked here;
 *   3. query, then body;
 * and the handler gets what zod made of each part, and the caller.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { z } from 'zod';
import { errors } from '../model/errors.js';
import { authenticate, authenticateIngestToken, checkAdmin, openIngestTenant, type AuthScheme, type Caller } from './auth.js';
import type { IngestContext } from './context.js';
import { jsonSchemaOf, type JsonSchema } from './json-schema.js';
import { parseWith } from './validate.js';

export type { JsonSchema } from './json-schema.js';
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

/**
 * Who may call: `none` (open), `tenant` (bearer API key or JWT of the tenant), `admin`
 * (the admin token, when the server has one configured), `agenta` (the tenant's API key as
 * `Authorization: ApiKey <key>`, or the bearer forms), `url-token` (an ingest token as the
 * path's `:token`, for clients that cannot send headers).
 */
export type Security = 'none' | 'tenant' | 'admin' | 'agenta' | 'url-token';

/** Error statuses an operation documents; each answers with the `Error` body. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 414 | 415 | 429 | 431 | 503;

export interface Operation {
  readonly method: HttpMethod;
  /** As registered with Fastify (`:param` segments). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly security: Security;
  /**
   * On a tenant route without a tenant in the path: a request without an Authorization
   * header is taken for the tenant of TRACEFOLD_OPEN_INGEST_TENANT, when the deployment set one.
   */
  readonly openIngest?: boolean;
  /** An object schema holding every `:param` of the path. */
  readonly params?: z.ZodType;
  /** An object schema: each property is a query parameter. */
  readonly query?: z.ZodType;
  readonly body?: {
    /** JSON Schema only where a route decodes the body itself (OTLP, flat spans). */
    readonly schema: z.ZodType | JsonSchema;
    /** Absent means required. */
    readonly required?: boolean;
    /** Also accepted as an OTLP Export*ServiceRequest in protobuf. */
    readonly protobuf?: boolean;
    readonly examples?: Record<string, unknown>;
  };
  readonly response: {
    readonly status: number;
    readonly description: string;
    /** A JSON body, as the handler must return it; absent for a non-JSON answer (see `contentType`). */
    readonly schema?: z.ZodType;
    readonly contentType?: string;
    /** A protobuf request gets a protobuf answer (an OTLP Export*ServiceResponse). */
    readonly protobuf?: boolean;
    /** Further statuses with the same body (e.g. 200 for a repeated start, 503 for not ready). */
    readonly also?: readonly number[];
    readonly headers?: Record<string, { description: string; schema: JsonSchema }>;
  };
  readonly errors: readonly ErrorStatus[];
}

/** Declares an operation, keeping its literal types (the schemas) for the handler. */
export function defineOperation<const O extends Operation>(op: O): O {
  return op;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOf<O extends Operation> = O['body'] extends { schema: infer S } ? (S extends z.ZodType ? z.output<S> : unknown) : undefined;
/** What a handler may return for a schema: arrays and properties may be readonly. */
type Answer<T> = T extends readonly (infer U)[] ? readonly Answer<U>[] : T extends object ? { readonly [K in keyof T]: Answer<T[K]> } : T;
type AnswerOf<O extends Operation> = O['response'] extends { schema: infer S extends z.ZodType } ? Answer<z.input<S>> : unknown;

/** What the preHandler made of a request, for the handler. */
export interface RouteInput<O extends Operation> {
  readonly params: Parsed<O['params']>;
  readonly query: Parsed<O['query']>;
  readonly body: BodyOf<O>;
  /** The authenticated caller; null on routes of security none or admin, and for open ingest. */
  readonly caller: O['security'] extends 'tenant' | 'agenta' | 'url-token' ? (O['openIngest'] extends true ? Caller | null : Caller) : null;
  /** The tenant the request acts for: the path's, else the caller's (or the open ingest tenant). */
  readonly tenantId: O['security'] extends 'tenant' | 'agenta' | 'url-token' ? string : null;
}

export type RouteHandler<O extends Operation> = (input: RouteInput<O>, request: FastifyRequest, reply: FastifyReply) => Promise<AnswerOf<O> | FastifyReply>;

/** What the security check needs; absent in a process that serves no tenant routes. */
export type RouteContext = IngestContext | null;

const SCHEMES: Partial<Record<Security, readonly AuthScheme[]>> = { tenant: ['Bearer'], agenta: ['ApiKey', 'Bearer'] };

function paramsTenant(params: unknown): string | undefined {
  const tenantId = (params as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof tenantId === 'string' ? tenantId : undefined;
}

/** The checks of one route, in the order of its security (see the file comment). */
async function checkRequest(ctx: RouteContext, op: Operation, request: FastifyRequest): Promise<RouteInput<Operation>> {
  const schemes = SCHEMES[op.security];
  if (op.security !== 'none' && ctx === null) throw new Error(`${op.operationId}: a ${op.security} route needs the API context`);
  if (op.security === 'admin') checkAdmin(ctx!, request);
  const open = schemes !== undefined && op.openIngest === true ? openIngestTenant(ctx!, request) : null;
  const caller = schemes === undefined || open !== null ? null : await authenticate(ctx!, request, schemes);
  const params = op.params === undefined ? undefined : parseWith(op.params, request.params, 'params');
  // An ingest token in the path (a stream URL): the caller is its tenant.
  const urlCaller = op.security === 'url-token' ? await authenticateIngestToken(ctx!, (params as { token: string }).token) : null;
  // A credential of another tenant gets 404 on a tenant path, never a hint that the tenant exists.
  const tenantId = paramsTenant(params);
  if (caller !== null && tenantId !== undefined && caller.tenantId !== tenantId) throw errors.notFound(`tenant ${tenantId} not found`);
  const query = op.query === undefined ? undefined : parseWith(op.query, request.query, 'query');
  const bodySchema = op.body?.schema;
  const body = bodySchema === undefined ? undefined : isZod(bodySchema) ? parseWith(bodySchema, op.body?.required === false ? (request.body ?? {}) : request.body, 'body') : request.body;
  const who = caller ?? urlCaller;
  return { params, query, body, caller: who, tenantId: tenantId ?? who?.tenantId ?? open } as RouteInput<Operation>;
}

export function isZod(schema: z.ZodType | JsonSchema): schema is z.ZodType {
  return typeof schema === 'object' && '_zod' in schema;
}

/** The Fastify schema of an operation: JSON Schema forms, for Fastify's route table and hooks. */
function fastifySchema(op: Operation) {
  const request = (schema: z.ZodType | JsonSchema) => (isZod(schema) ? jsonSchemaOf(schema, 'input') : schema);
  const answer = op.response.schema;
  return {
    ...(op.params === undefined ? {} : { params: request(op.params) }),
    ...(op.query === undefined ? {} : { querystring: request(op.query) }),
    ...(op.body === undefined ? {} : { body: request(op.body.schema) }),
    ...(answer === undefined ? {} : { response: { [op.response.status]: jsonSchemaOf(answer, 'output') } }),
  };
}

const inputs = new WeakMap<FastifyRequest, RouteInput<Operation>>();

/** Route options every declared route shares: zod validates, JSON.stringify serializes. */
const KERNEL_OPTIONS: RouteShorthandOptions = {
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data) => JSON.stringify(data),
};

export interface RouteOptions {
  /** Per-route Fastify settings (a body limit of another product's paths, with its config). */
  readonly bodyLimit?: number;
  readonly config?: Record<string, unknown>;
}

/**
 * A registrar for `app`: each call registers one declared operation with its handler.
 * Answers leave with the operation's status unless the handler sets another.
 */
export function routesOf(app: FastifyInstance, ctx: RouteContext) {
  return <O extends Operation>(op: O, handler: RouteHandler<O>, options: RouteOptions = {}): void => {
    app.route({
      ...KERNEL_OPTIONS,
      ...options,
      method: op.method.toUpperCase(),
      url: op.path,
      schema: fastifySchema(op),
      preHandler: async (request) => {
        inputs.set(request, await checkRequest(ctx, op, request));
      },
      handler: async (request, reply) => {
        const input = inputs.get(request) as RouteInput<O>;
        void reply.code(op.response.status);
        return handler(input, request, reply);
      },
    });
  };
}
