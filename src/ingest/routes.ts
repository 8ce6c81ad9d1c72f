/**
 * Ingest routes: OTLP/HTTP JSON at POST /v1/traces (the OpenTelemetry default path, tenant
 * from the credential) and the tenant-scoped POST /api/v1/tenants/:tenantId/traces/ingest.
 * Both decode, validate, append to the raw topic and answer only after the append is
 * durable. Spans that fail validation are reported per span (OTLP partial success); the
 * rest are accepted.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate, authenticateForTenant } from '../api/auth.js';
import type { AppContext } from '../api/context.js';
import { parseWith } from '../api/validate.js';
import { errors } from '../model/errors.js';
import { appendRaw, spanRecord } from './append-raw.js';
import { decodeOtlpJson } from './otlp/json.js';

const tenantParams = z.object({ tenantId: z.string().min(1) });

interface IngestOutcome {
  readonly accepted: number;
  readonly rejected: { path: string; reason: string }[];
}

async function ingestOtlpJson(ctx: AppContext, request: FastifyRequest, tenantId: string): Promise<IngestOutcome> {
  if (request.body === undefined || request.body === null) throw errors.invalidRequest('body: expected an OTLP JSON object');
  const decoded = decodeOtlpJson(request.body, { tenantId, receivedAtMs: Date.now() });
  if (decoded.spans.length === 0 && decoded.rejected.length > 0) {
    const first = decoded.rejected.slice(0, 5).map((r) => `${r.path}: ${r.reason}`);
    throw errors.invalidRequest(`no valid spans: ${first.join('; ')}`);
  }
  const records = await Promise.all(decoded.spans.map((span) => spanRecord(ctx.codecs, span)));
  await appendRaw(ctx.log, records);
  return { accepted: decoded.spans.length, rejected: decoded.rejected };
}

function otlpResponse(outcome: IngestOutcome) {
  return {
    // OTLP ExportTraceServiceResponse: partialSuccess only when something was rejected.
    ...(outcome.rejected.length > 0
      ? {
          partialSuccess: {
            rejectedSpans: String(outcome.rejected.length),
            errorMessage: outcome.rejected
              .slice(0, 10)
              .map((r) => `${r.path}: ${r.reason}`)
              .join('; '),
          },
        }
      : {}),
    accepted_spans: outcome.accepted,
    rejected_spans: outcome.rejected.length,
  };
}

export function ingestRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    // OTLP/HTTP answers 200 on success (OTLP specification); exporters treat it as delivered.
    app.post('/v1/traces', async (request, reply) => {
      const caller = await authenticate(ctx, request);
      const outcome = await ingestOtlpJson(ctx, request, caller.tenantId);
      return reply.code(200).send(otlpResponse(outcome));
    });

    app.post('/api/v1/tenants/:tenantId/traces/ingest', async (request, reply) => {
      const { tenantId } = parseWith(tenantParams, request.params, 'params');
      await authenticateForTenant(ctx, request, tenantId);
      const outcome = await ingestOtlpJson(ctx, request, tenantId);
      return reply.code(202).send({
        status: 'accepted',
        ...otlpResponse(outcome),
        rejected: outcome.rejected,
      });
    });
  };
}
