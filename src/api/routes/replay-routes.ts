/**
 * Replay runs (operator only, like tenant creation): start a re-run of the raw topic with
 * other detector settings, follow it, read its diff against what is in force, promote it or
 * roll that back, cancel it, remove it.
 * src/replay/ does the work; these routes check and present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errors } from '../../model/errors.js';
import type { ReplayDiff } from '../../replay/diff.js';
import type { ReplayStatus } from '../../replay/replay-runs.js';
import { checkAdmin } from '../../http/auth.js';
import type { AppContext } from '../../http/context.js';
import { instantQuery, keyPartString, parseWith } from '../../http/validate.js';

/** Epoch milliseconds as a JSON number, within what a date holds. */
const epochMs = z.number().int().min(0).max(8.64e15, 'must be at most 8.64e15 (the last instant a date holds)');

export const startReplayBody = z
  .object({
    tenants: z.array(keyPartString('tenantId')).min(1, 'must name at least one tenant, or be left out for all').max(10_000).optional(),
    from: z.union([instantQuery, epochMs]).optional(),
    to: z.union([instantQuery, epochMs]).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export const replayParams = z.object({ replayId: z.string().min(1).max(64) });
export const promoteReplayBody = z
  .object({ tenants: z.array(keyPartString('tenantId')).min(1, 'must name at least one tenant, or be left out for all').max(10_000).optional() })
  .strict();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentReplay(run: ReplayStatus) {
  return {
    replay_id: run.id,
    state: run.state,
    created_at: iso(run.createdAtMs),
    ended_at: iso(run.endedAtMs),
    pipeline_version: run.pipelineVersion,
    settings: run.settings,
    scope: { tenants: run.scope.tenants ?? null, from: iso(run.scope.fromMs ?? null), to: iso(run.scope.toMs ?? null) },
    records_read: run.recordsRead,
    records_total: run.recordsTotal,
    records_per_second: run.recordsPerSecond,
    eta_seconds: run.etaSeconds,
    traces_replayed: run.tracesReplayed,
    error: run.error,
    promotions: (run.promotions ?? []).map((p) => ({
      tenant_id: p.tenantId,
      promoted_at: iso(p.promotedAtMs),
      rolled_back_at: iso(p.rolledBackAtMs),
      traces: p.traces,
      withdrawn: p.withdrawn,
      put: p.put,
      skipped: p.skipped,
      digest: p.digest,
    })),
  };
}

export function presentDiff(diff: ReplayDiff) {
  return { traces: diff.traces, traces_changed: diff.tracesChanged, total: diff.total, by_tenant: diff.byTenant };
}

export function replayRoutes(ctx: AppContext) {
  const runs = () => {
    if (ctx.replays === undefined) throw errors.notFound('this process runs no replays (start it with the api role)');
    return ctx.replays;
  };
  return async (app: FastifyInstance) => {
    app.post('/api/v1/replays', async (request, reply) => {
      checkAdmin(ctx, request);
      const body = parseWith(startReplayBody, request.body ?? {}, 'body');
      if (body.from !== undefined && body.to !== undefined && body.to <= body.from) throw errors.invalidRequest('body.to: must be after body.from');
      const scope = {
        ...(body.tenants === undefined ? {} : { tenants: body.tenants }),
        ...(body.from === undefined ? {} : { fromMs: body.from }),
        ...(body.to === undefined ? {} : { toMs: body.to }),
      };
      const run = await runs().start({ scope, ...(body.settings === undefined ? {} : { settings: body.settings }) });
      return reply.code(201).send(presentReplay(run));
    });

    app.get('/api/v1/replays', async (request) => {
      checkAdmin(ctx, request);
      return { items: runs().list().map(presentReplay) };
    });

    app.get('/api/v1/replays/:replayId', async (request) => {
      checkAdmin(ctx, request);
      const { replayId } = parseWith(replayParams, request.params, 'params');
      return presentReplay(runs().status(replayId));
    });

    app.get('/api/v1/replays/:replayId/diff', async (request) => {
      checkAdmin(ctx, request);
      const { replayId } = parseWith(replayParams, request.params, 'params');
      return presentDiff(await runs().diff(replayId));
    });

    app.post('/api/v1/replays/:replayId/promote', async (request) => {
      checkAdmin(ctx, request);
      const { replayId } = parseWith(replayParams, request.params, 'params');
      const body = parseWith(promoteReplayBody, request.body ?? {}, 'body');
      return presentReplay(await runs().promote(replayId, body.tenants === undefined ? {} : { tenants: body.tenants }));
    });

    app.post('/api/v1/replays/:replayId/rollback', async (request) => {
      checkAdmin(ctx, request);
      const { replayId } = parseWith(replayParams, request.params, 'params');
      const body = parseWith(promoteReplayBody, request.body ?? {}, 'body');
      return presentReplay(await runs().rollback(replayId, body.tenants === undefined ? {} : { tenants: body.tenants }));
    });

    // A running run is cancelled (its state stays, for its diff so far); an ended one is removed with its state.
    app.delete('/api/v1/replays/:replayId', async (request) => {
      checkAdmin(ctx, request);
      const { replayId } = parseWith(replayParams, request.params, 'params');
      const run = runs().status(replayId);
      if (run.state === 'running') return presentReplay(await runs().cancel(replayId));
      await runs().remove(replayId);
      return presentReplay(run);
    });
  };
}
