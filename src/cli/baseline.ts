/**
 * `tracefold baseline …` (docs/audit.md, "CLI"): a tenant's baselines as a running tracefold
 * keeps them in its views.
 *
 *   tracefold baseline check [TRACE_ID] [--threshold K] [--format text|json]
 *   tracefold baseline show [--format text|json]
 *   tracefold baseline update [--threshold K] [--min-samples N] [--format text|json]
 *
 * each with --tenant ID --url URL --token TOKEN (or TRACEFOLD_TENANT, TRACEFOLD_URL,
 * TRACEFOLD_TOKEN). Exit codes: 0 within the baseline / done; 1 anomalous; 2 usage error or
 * unknown tenant or trace; 3 the command could not run (common.ts).
 */
import { z } from 'zod';
import {
  EXIT_FAILED,
  EXIT_OK,
  UsageError,
  apiUrl,
  call,
  get,
  num,
  numberArg,
  optionalString,
  parse,
  parseAnswer,
  processIo,
  refuse,
  remoteFromFlagsOrEnv,
  requireString,
  run,
  tenantOf,
  type CommandIo,
  type Values,
} from './common.js';

export const BASELINE_USAGE = `usage:
  tracefold baseline check [TRACE_ID] [--trace TRACE_ID] [--threshold K] [--format text|json]
  tracefold baseline show [--format text|json]
  tracefold baseline update [--threshold K] [--min-samples N] [--format text|json]
each with --tenant ID --url URL --token TOKEN, or TRACEFOLD_TENANT, TRACEFOLD_URL and
TRACEFOLD_TOKEN (a flag wins). They ask a running tracefold: baselines live in its views.

baseline check   which metrics of the trace lie outside the tenant's baseline (per service
                 and agent), with their z-scores, as found when the trace closed.
                 --threshold K judges this check at K standard deviations instead of the
                 tenant's setting: the deviations beyond K of those recorded. K below the
                 tenant's setting is refused (smaller deviations were not recorded; lower the
                 setting with baseline update for the traces that close afterwards).
baseline show    the baselines: per service and agent, each metric's samples, mean and
                 standard deviation, with the threshold and the samples a baseline needs.
baseline update  baselines take in every trace as it closes, so there is nothing to rebuild;
                 update stores the tenant's threshold (--threshold K, 0.5 to 100 sigma) and
                 the samples a baseline needs before it judges (--min-samples N), for the
                 traces that close from then on, and shows the baselines. agent-strace's
                 --sessions N is refused: there is no window of recent traces.

exit codes: 0 within the baseline (check) or done, 1 anomalous, 2 usage error (unknown flag
or command, bad or missing value) or unknown tenant or trace, 3 the command could not run
(server unreachable or refusing the token).`;

/** The server's bounds for baseline_sigma and baseline_min_samples (PUT …/settings). */
const SIGMA_MIN = 0.5;
const SIGMA_MAX = 100;
const SAMPLES_MIN = 2;
const SAMPLES_MAX = 1_000_000;

const anomaliesAnswer = z.object({
  trace_id: z.string(),
  anomalous: z.boolean(),
  anomalies: z.array(
    z.object({
      metric: z.string(),
      value: z.number(),
      mean: z.number(),
      sigma: z.number(),
      z_score: z.number().nullable(),
      scope: z.object({ service: z.string().nullish(), agent: z.string().nullish() }),
    }),
  ),
});
type Anomaly = z.infer<typeof anomaliesAnswer>['anomalies'][number];

const settingsAnswer = z.object({
  baseline_sigma: z.number(),
  baseline_min_samples: z.number(),
  defaults: z.object({ baseline_sigma: z.number(), baseline_min_samples: z.number() }),
});

const baselinesAnswer = z.object({
  tenant_id: z.string(),
  sigma_threshold: z.number(),
  min_samples: z.number(),
  baselines: z.array(
    z.object({
      service: z.string(),
      agent: z.string().nullable(),
      updated_at: z.string(),
      metrics: z.record(z.string(), z.object({ samples: z.number(), mean: z.number(), stddev: z.number() })),
    }),
  ),
});
type Baselines = z.infer<typeof baselinesAnswer>;

interface Target {
  readonly io: CommandIo;
  readonly tenantId: string;
  readonly url: string;
  readonly token: string;
}

function targetOf(io: CommandIo, values: Values, command: string): Target {
  const tenantId = tenantOf(values, io.env);
  const server = remoteFromFlagsOrEnv(values, io.env);
  if (server === null) throw new UsageError(`baseline ${command} needs --url and --token (or TRACEFOLD_URL and TRACEFOLD_TOKEN): it asks a running tracefold`);
  return { io, tenantId, ...server };
}

const tenantPath = (t: Target, rest: string) => apiUrl(t.url, `/api/v1/tenants/${encodeURIComponent(t.tenantId)}${rest}`);
const unknownTenant = (t: Target) => `tenant ${t.tenantId} is unknown to ${t.url}`;

function formatOf(values: Values): 'text' | 'json' {
  const format = optionalString(values, 'format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json; got ${JSON.stringify(format)}`);
  return format;
}

const thresholdOf = (values: Values) => numberArg(values, 'threshold', SIGMA_MIN, SIGMA_MAX, 'a number of standard deviations');

// ---- check ----------------------------------------------------------------------------------

/** Kept at threshold K: beyond K sigma, or any difference from a baseline that never varied. */
const beyond = (a: Anomaly, k: number) => a.z_score === null || Math.abs(a.z_score) > k;

async function baselineCheck(io: CommandIo, values: Values, positional: string | undefined): Promise<number> {
  refuse(values, ['min-samples', 'sessions'], 'baseline check');
  const flag = optionalString(values, 'trace');
  if (positional !== undefined && flag !== undefined && positional !== flag) throw new UsageError(`two traces given: ${JSON.stringify(positional)} and --trace ${JSON.stringify(flag)}`);
  const traceId = positional ?? requireString(values, 'trace');
  const format = formatOf(values);
  const threshold = thresholdOf(values);
  const t = targetOf(io, values, 'check');

  if (threshold !== undefined) {
    const settings = parseAnswer(settingsAnswer, await get(io, tenantPath(t, '/settings'), t.token, unknownTenant(t)), 'settings');
    if (threshold < settings.baseline_sigma) {
      throw new UsageError(
        `--threshold ${threshold} is below tenant ${t.tenantId}'s baseline_sigma ${settings.baseline_sigma}: deviations under ${settings.baseline_sigma} sigma ` +
          `were not recorded when the trace closed. Lower the setting with \`tracefold baseline update --threshold ${threshold}\` (it applies to traces that close afterwards)`,
      );
    }
  }
  const answer = parseAnswer(
    anomaliesAnswer,
    await get(io, tenantPath(t, `/traces/${encodeURIComponent(traceId)}/anomalies`), t.token, `trace ${traceId} is unknown to tenant ${t.tenantId}`),
    'baseline check',
  );
  const anomalies = threshold === undefined ? answer.anomalies : answer.anomalies.filter((a) => beyond(a, threshold));
  const anomalous = threshold === undefined ? answer.anomalous : anomalies.length > 0;
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ tenant_id: t.tenantId, trace_id: answer.trace_id, ...(threshold === undefined ? {} : { threshold }), anomalous, anomalies }, null, 2)}\n`);
    return anomalous ? EXIT_FAILED : EXIT_OK;
  }
  const subject = `trace ${answer.trace_id} of tenant ${t.tenantId}`;
  const at = threshold === undefined ? '' : ` at ${num(threshold)} sigma`;
  if (!anomalous) {
    io.stdout(`${subject}: within the baseline${at}\n`);
    return EXIT_OK;
  }
  const lines = anomalies.map((a) => {
    const scope = [a.scope.service ? `service ${a.scope.service}` : 'all services', a.scope.agent ? `agent ${a.scope.agent}` : null].filter((s) => s !== null).join(', ');
    return `  ${a.metric}: ${num(a.value)} (mean ${num(a.mean)}, sigma ${num(a.sigma)}, z-score ${a.z_score === null ? 'n/a (no spread in the baseline)' : num(a.z_score)}; ${scope})`;
  });
  io.stdout(`${subject}: anomalous${at}, ${anomalies.length} metric${anomalies.length === 1 ? '' : 's'} outside the baseline\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`);
  return EXIT_FAILED;
}

// ---- show -----------------------------------------------------------------------------------

function describeBaselines(b: Baselines): string {
  const head = `baselines of tenant ${b.tenant_id}: threshold ${num(b.sigma_threshold)} sigma, judging from ${b.min_samples} samples\n`;
  if (b.baselines.length === 0) return `${head}  none yet: a baseline forms per service and agent as traces close\n`;
  const blocks = b.baselines.map((scope) => {
    const name = `service ${scope.service}${scope.agent === null ? '' : `, agent ${scope.agent}`} (updated ${scope.updated_at})`;
    const entries = Object.entries(scope.metrics);
    const width = Math.max(...entries.map(([metric]) => metric.length), 0);
    const rows = entries.map(([metric, s]) => `    ${metric.padEnd(width)}  samples ${s.samples}, mean ${num(s.mean)}, stddev ${num(s.stddev)}`);
    return `  ${name}\n${rows.join('\n')}${rows.length > 0 ? '\n' : ''}`;
  });
  return head + blocks.join('');
}

async function fetchBaselines(t: Target): Promise<Baselines> {
  return parseAnswer(baselinesAnswer, await get(t.io, tenantPath(t, '/baselines'), t.token, unknownTenant(t)), 'baseline show');
}

async function baselineShow(io: CommandIo, values: Values): Promise<number> {
  refuse(values, ['trace', 'threshold', 'min-samples', 'sessions'], 'baseline show');
  const format = formatOf(values);
  const baselines = await fetchBaselines(targetOf(io, values, 'show'));
  io.stdout(format === 'json' ? `${JSON.stringify(baselines, null, 2)}\n` : describeBaselines(baselines));
  return EXIT_OK;
}

// ---- update ---------------------------------------------------------------------------------

async function baselineUpdate(io: CommandIo, values: Values): Promise<number> {
  refuse(values, ['trace'], 'baseline update');
  if (values.sessions !== undefined) {
    throw new UsageError(
      "--sessions: tracefold's baselines take in every trace as it closes (a running mean and standard deviation per service and agent), " +
        'not a window of the last N runs, so there is nothing to rebuild; --threshold K and --min-samples N set how they judge',
    );
  }
  const format = formatOf(values);
  const threshold = thresholdOf(values);
  const minSamples = numberArg(values, 'min-samples', SAMPLES_MIN, SAMPLES_MAX, 'a whole number of traces', true);
  const t = targetOf(io, values, 'update');
  let settings = parseAnswer(settingsAnswer, await get(io, tenantPath(t, '/settings'), t.token, unknownTenant(t)), 'settings');
  let changed = false;
  if (threshold !== undefined || minSamples !== undefined) {
    // PUT replaces both settings; the one not given keeps its value (the default stays the default).
    const keep = (current: number, fallback: number) => (current === fallback ? null : current);
    const body = {
      baseline_sigma: threshold ?? keep(settings.baseline_sigma, settings.defaults.baseline_sigma),
      baseline_min_samples: minSamples ?? keep(settings.baseline_min_samples, settings.defaults.baseline_min_samples),
    };
    settings = parseAnswer(settingsAnswer, await call(io, 'PUT', tenantPath(t, '/settings'), t.token, unknownTenant(t), body), 'settings');
    changed = true;
  }
  const baselines = await fetchBaselines(t);
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ ...baselines, settings_changed: changed }, null, 2)}\n`);
    return EXIT_OK;
  }
  const what = changed
    ? `tenant ${t.tenantId} now judges at ${num(settings.baseline_sigma)} sigma from ${settings.baseline_min_samples} samples, for the traces that close from now on`
    : `tenant ${t.tenantId}: baselines take in every trace as it closes; nothing to rebuild`;
  io.stdout(`${what}\n${describeBaselines(baselines)}`);
  return EXIT_OK;
}

/** `tracefold baseline …` with the arguments after `baseline`; resolves to the exit code. */
export async function runBaselineCommand(args: string[], io: Partial<CommandIo> = {}): Promise<number> {
  const cli: CommandIo = { ...processIo, ...io };
  return run(cli, BASELINE_USAGE, async () => {
    const { positionals, values } = parse(args, {
      tenant: { type: 'string' },
      trace: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      format: { type: 'string' },
      threshold: { type: 'string' },
      'min-samples': { type: 'string' },
      sessions: { type: 'string' },
    });
    if (values.help === true) {
      cli.stdout(`${BASELINE_USAGE}\n`);
      return EXIT_OK;
    }
    const [sub, traceArg, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    if (sub === 'check') return baselineCheck(cli, values, traceArg);
    if (traceArg !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(traceArg)}`);
    if (sub === 'show') return baselineShow(cli, values);
    if (sub === 'update') return baselineUpdate(cli, values);
    throw new UsageError(sub === undefined ? 'baseline needs a subcommand: check, show or update' : `unknown command "baseline ${sub}"`);
  });
}
