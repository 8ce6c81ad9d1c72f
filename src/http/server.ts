/**
 * The HTTP kernel every route group builds on: the Fastify instance with the body limit and
 * router bounds, request metrics, the body nesting check, and one error handler through
 * which every error leaves: TracefoldError codes with their status (Retry-After for
 * retryable ones), a log error that says it is retryable (a broker or coordinator away or
 * moving) as 503 with Retry-After, Fastify's own 4xx with a message, other 5xx masked.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { errors, TracefoldError } from '../model/errors.js';
import { KEY_PART_LIMITS } from '../model/key-parts.js';
import type { BaseContext } from './context.js';
import { httpMetricsHook, noteErrorCode } from './prometheus/http.js';
import { checkBodyNesting } from './validate.js';

/**
 * Path parameters are ids, which ingest takes up to the key-part limit; the router sees them
 * percent-encoded (a UTF-16 code unit is at most 3 UTF-8 bytes, each `%XX`), so it lets
 * through anything that could decode to an id ingest accepts, and the routes' schemas then
 * apply the limit itself with a 400 naming the parameter.
 */
const MAX_ENCODED_PARAM_LENGTH = 9 * Math.max(...Object.values(KEY_PART_LIMITS));

/**
 * Fastify's own client errors (FST_ERR_*: an empty or malformed JSON body, an unsupported
 * content type, an over-long URL) leave in the documented shape, with the codes the API
 * documents for their statuses rather than Fastify's internal ones.
 */
const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'INVALID_REQUEST',
  404: 'NOT_FOUND',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function clientErrorMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return `body: invalid JSON (${error.message})`;
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'body: empty, but Content-Type says application/json; send a JSON body, or no Content-Type';
  if (error.code?.startsWith('FST_ERR_CTP_') === true) return `body: ${error.message}`;
  return error.message;
}

/** The log adapters mark failures that a later attempt can fix (KafkaLogError.retryable). */
function isRetryableLogError(error: unknown): boolean {
  return !(error instanceof TracefoldError) && (error as { retryable?: unknown }).retryable === true;
}

/** A Fastify instance with the kernel's hooks and error handling, no routes yet. */
export function createHttpServer(base: BaseContext): FastifyInstance {
  const logger: FastifyBaseLogger = base.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: base.config.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_ENCODED_PARAM_LENGTH },
    // Per-request logs would dominate at ingest volumes; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    // A URL the router refuses (a parameter past maxParamLength, bad encoding) answers in the documented shape.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      const code = CLIENT_ERROR_CODES[status] ?? 'INVALID_REQUEST';
      noteErrorCode(request, code);
      void reply.code(status).send({ error: code, message: error.message });
    },
    // Requests Node's parser refuses before Fastify sees them (a request line and headers past
    // its size limit, a malformed request) answer in the documented shape too.
    clientErrorHandler: (error: Error & { code?: string }, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, code, message] =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'HEADERS_TOO_LARGE', 'the request line and headers exceed the allowed size']
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'REQUEST_TIMEOUT', 'the request was not received in time']
            : [400, 'INVALID_REQUEST', 'malformed HTTP request'];
      const body = JSON.stringify({ error: code, message });
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy(error);
    },
  });

  app.addHook('onResponse', httpMetricsHook(base.metrics));
  // Every JSON body, on every route, before any handler walks it.
  app.addHook('preValidation', async (request) => checkBodyNesting(request.body));

  app.setErrorHandler((thrown: FastifyError | TracefoldError, request, reply) => {
    const error = isRetryableLogError(thrown) ? errors.logNotAnswering(thrown) : thrown;
    if (error instanceof TracefoldError) {
      noteErrorCode(request, error.code);
      if (error.retryAfterMs !== undefined) void reply.header('retry-after', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      if (error.statusCode >= 500) request.log.warn({ err: error.cause ?? error }, error.message);
      return reply.code(error.statusCode).send({ error: error.code, message: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      noteErrorCode(request, 'PAYLOAD_TOO_LARGE');
      // A route may have a limit of its own (another product's paths, with that product's setting).
      const limit = request.routeOptions.bodyLimit ?? base.config.maxBodyBytes;
      const setting = (request.routeOptions.config as { bodyLimitSetting?: string } | undefined)?.bodyLimitSetting ?? 'TRACEFOLD_MAX_BODY_BYTES';
      return reply.code(413).send({ error: 'PAYLOAD_TOO_LARGE', message: `request body exceeds the limit of ${limit} bytes (${setting})` });
    }
    if (status >= 400 && status < 500) {
      const code = CLIENT_ERROR_CODES[status] ?? 'INVALID_REQUEST';
      noteErrorCode(request, code);
      return reply.code(status).send({ error: code, message: clientErrorMessage(error) });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  return app;
}
