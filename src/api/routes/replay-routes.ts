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
import type { AppContext } from '../../http/context.js';
import { defineOperation, routesOf } from '../../http/route.js';
import { instantQuery, keyPartString } from '../../http/validate.js';
import { dateTime, openObject, requestedInstant } from '../answers.js';

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

function iso(ms: number): string;
function iso(ms: number | null): string | null;
function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

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

const diffCounts = z.object({
  added: z.int(),
  removed: z.int(),
  changed: z.int(),
  unchanged: z.int(),
  examples: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
});

const replayAnswer = z
  .object({
    replay_id: z.string(),
    state: z.enum(['running', 'finished', 'cancelled', 'failed']),
    created_at: dateTime,
    ended_at: dateTime.nullable(),
    pipeline_version: z.string(),
    settings: openObject,
    scope: z.object({ tenants: z.array(z.string()).nullable(), from: requestedInstant.nullable(), to: requestedInstant.nullable() }),
    records_read: z.int(),
    records_total: z.int(),
    records_per_second: z.int().nullable(),
    eta_seconds: z.int().nullable(),
    traces_replayed: z.int(),
    error: z.string().nullable(),
    promotions: z.array(
      z.object({
        tenant_id: z.string(),
        promoted_at: dateTime,
        rolled_back_at: dateTime.nullable(),
        traces: z.int(),
        withdrawn: z.int(),
        put: z.int(),
        skipped: z.int(),
        digest: z.string(),
      }),
    ),
  })
  .meta({ id: 'Replay' });

const ERRORS_REPLAY = [400, 401, 404, 409] as const;

export const replayOperations = {
  startReplay: defineOperation({
    method: 'post',
    path: '/api/v1/replays',
    operationId: 'startReplay',
    summary: 'Re-run the raw topic (all, a time range, some tenants) through detectors with other settings, beside live processing',
    description:
      'The run has its own consumer group and state; nothing it finds reaches the output topics, baselines or the audit chain. ' +
      "`settings` is detector settings as in TRACEFOLD_DETECTORS (default: the server's). At most two runs go at once (409 beyond). Needs the admin token when the server has one.",
    tags: ['replays'],
    security: 'admin',
    body: { schema: startReplayBody, required: false },
    response: { status: 201, description: 'the run, started', schema: replayAnswer },
    errors: ERRORS_REPLAY,
  }),
  listReplays: defineOperation({
    method: 'get',
    path: '/api/v1/replays',
    operationId: 'listReplays',
    summary: 'Every replay run, newest first',
    tags: ['replays'],
    security: 'admin',
    response: { status: 200, description: 'the runs', schema: z.object({ items: z.array(replayAnswer) }) },
    errors: [401, 404],
  }),
  getReplay: defineOperation({
    method: 'get',
    path: '/api/v1/replays/:replayId',
    operationId: 'getReplay',
    summary: 'A replay run: state, progress, rate and ETA',
    tags: ['replays'],
    security: 'admin',
    params: replayParams,
    response: { status: 200, description: 'the run', schema: replayAnswer },
    errors: [400, 401, 404],
  }),
  replayDiff: defineOperation({
    method: 'get',
    path: '/api/v1/replays/:replayId/diff',
    operationId: 'replayDiff',
    summary: "A replay's detections against the ones in force: added, removed and changed per tenant and detector, with example trace ids",
    description: 'Matched by detector, detection type and affected spans. Anomaly detections (baselines) are left out.',
    tags: ['replays'],
    security: 'admin',
    params: replayParams,
    response: {
      status: 200,
      description: 'the diff so far (complete once the run finished)',
      schema: z.object({ traces: z.int(), traces_changed: z.int(), total: diffCounts, by_tenant: z.record(z.string(), z.record(z.string(), diffCounts)) }),
    },
    errors: [400, 401, 404],
  }),
  promoteReplay: defineOperation({
    method: 'post',
    path: '/api/v1/replays/:replayId/promote',
    operationId: 'promoteReplay',
    summary: "Put a finished replay's detections in force, for some of its tenants or all",
    description:
      "Per tenant: a withdrawal on tracefold.detections.v1 for each detection in force the run no longer finds, the run's record for each it adds or changes, " +
      'and one replay_promoted fact in the audit chain with the digest of the change, all in one unit. Baselines and rollups do not move. ' +
      'Traces that closed again since the run analyzed them are skipped. 409 when the run has not finished or is promoted already for a named tenant.',
    tags: ['replays'],
    security: 'admin',
    params: replayParams,
    body: { schema: promoteReplayBody, required: false },
    response: { status: 200, description: 'the run, with its promotions', schema: replayAnswer },
    errors: ERRORS_REPLAY,
  }),
  rollbackReplay: defineOperation({
    method: 'post',
    path: '/api/v1/replays/:replayId/rollback',
    operationId: 'rollbackReplay',
    summary: "Undo a replay's promotion: what it replaced is in force again",
    description:
      'Withdraws the detections the promotion added and writes again the ones it withdrew or changed, with one replay_rolled_back fact in the audit chain. ' +
      '409 when the run is not promoted for the tenants named, or another run was promoted for one of them since.',
    tags: ['replays'],
    security: 'admin',
    params: replayParams,
    body: { schema: promoteReplayBody, required: false },
    response: { status: 200, description: 'the run, with its promotions', schema: replayAnswer },
    errors: ERRORS_REPLAY,
  }),
  cancelReplay: defineOperation({
    method: 'delete',
    path: '/api/v1/replays/:replayId',
    operationId: 'cancelReplay',
    summary: 'Cancel a running replay (its state stays, for its diff so far), or remove an ended one with its state',
    description:
      'An ended run (finished, cancelled or failed) is removed: its record, its state and what its promotions replaced; the answer is the run as it was. 409 while one of its promotions is in force.',
    tags: ['replays'],
    security: 'admin',
    params: replayParams,
    response: { status: 200, description: 'the run, cancelled; or as it was, removed', schema: replayAnswer },
    errors: ERRORS_REPLAY,
  }),
};

export function replayRoutes(ctx: AppContext) {
  const runs = () => {
    if (ctx.replays === undefined) throw errors.notFound('this process runs no replays (start it with the api role)');
    return ctx.replays;
  };
  return async (app: FastifyInstance) => {
    const route = routesOf(app, ctx);
    const ops = replayOperations;

    route(ops.startReplay, async ({ body }) => {
      if (body.from !== undefined && body.to !== undefined && body.to <= body.from) throw errors.invalidRequest('body.to: must be after body.from');
      const scope = {
        ...(body.tenants === undefined ? {} : { tenants: body.tenants }),
        ...(body.from === undefined ? {} : { fromMs: body.from }),
        ...(body.to === undefined ? {} : { toMs: body.to }),
      };
      const run = await runs().start({ scope, ...(body.settings === undefined ? {} : { settings: body.settings }) });
      return presentReplay(run);
    });

    route(ops.listReplays, async () => ({ items: runs().list().map(presentReplay) }));

    route(ops.getReplay, async ({ params: { replayId } }) => presentReplay(runs().status(replayId)));

    route(ops.replayDiff, async ({ params: { replayId } }) => presentDiff(await runs().diff(replayId)));

    route(ops.promoteReplay, async ({ params: { replayId }, body }) =>
      presentReplay(await runs().promote(replayId, body.tenants === undefined ? {} : { tenants: body.tenants })),
    );

    route(ops.rollbackReplay, async ({ params: { replayId }, body }) =>
      presentReplay(await runs().rollback(replayId, body.tenants === undefined ? {} : { tenants: body.tenants })),
    );

    // A running run is cancelled (its state stays, for its diff so far); an ended one is removed with its state.
    route(ops.cancelReplay, async ({ params: { replayId } }) => {
      const run = runs().status(replayId);
      if (run.state === 'running') return presentReplay(await runs().cancel(replayId));
      await runs().remove(replayId);
      return presentReplay(run);
    });
  };
}
