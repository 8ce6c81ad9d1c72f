/**
 * The audit commands as agent-strace spells them (seed 001), on tracefold's audit chain
 * (docs/audit.md, "CLI"):
 *
 *   tracefold export TRACE_ID --format eu-ai-act --output FILE
 *   tracefold export --all [--since T] [--until T] --format eu-ai-act --output FILE
 *   tracefold audit-readiness [--format text|json]
 *
 * each with --tenant ID (or TRACEFOLD_TENANT) and, to ask a running tracefold instead of
 * reading the log, --url URL --token TOKEN. Exit codes as in common.ts.
 */
import { summarizeAuditRecords } from '../audit/export.js';
import { verifyAuditChain } from '../audit/chain.js';
import type { AuditRecord } from '../model/tenant-records.js';
import { defaultIo, formatArg, wholeChain, writeExport, type CliIo } from './audit.js';
import {
  BrokenLogError,
  EXIT_FAILED,
  EXIT_OK,
  UsageError,
  apiUrl,
  get,
  optionalString,
  parse,
  parseTimeArg,
  refuse,
  remote,
  requireString,
  run,
  tenantOf,
  type Values,
} from './common.js';

export const EXPORT_USAGE = `usage:
  tracefold export TRACE_ID --format eu-ai-act --output FILE
  tracefold export --all [--since T] [--until T] --format eu-ai-act --output FILE
each with --tenant ID (or TRACEFOLD_TENANT), and --url URL --token TOKEN to ask a running
tracefold instead of reading the log of TRACEFOLD_DATA_DIR (readable while it is stopped).

export TRACE_ID  the audit package of one trace: the chain's unbroken run from the trace's
                 first record to its last (trace closed, its detections, feedback on it),
                 with the records of other traces that lie between them, since a gap would
                 make the package unverifiable.
export --all     the package of the records of [--since, --until), as
                 \`tracefold audit export --from --to\`. T is ISO-8601 (2026-01-01,
                 2026-01-01T12:00:00Z), epoch milliseconds, or a time ago (30m, 24h, 7d, 2w);
                 a date alone as --until includes that whole day (UTC).
Verify a package with \`tracefold verify --from-export FILE\`. Only --format eu-ai-act:
tracefold receives OTLP (its /v1/traces), it does not export it.

exit codes: 0 written and verified, 1 the chain is broken, 2 usage error or unknown tenant
or trace, 3 the export could not run (server unreachable or refusing the token, data dir
in use, file unwritable).`;

export const READINESS_USAGE = `usage:
  tracefold audit-readiness [--format text|json] --tenant ID [--url URL --token TOKEN]

Checks what an EU AI Act review of the tenant's audit chain would rest on, before an
export: the chain verifies (fail otherwise), traces were recorded, models, tools and
agents were observed, which data categories the traces carried, detections by severity,
human oversight points (feedback on detections) and, with --url, the baselines in force.
Reads the log of TRACEFOLD_DATA_DIR, or asks a running tracefold with --url and --token.

exit codes: 0 ready (warnings allowed), 1 not ready (the chain is broken), 2 usage error or
unknown tenant, 3 the check could not run.`;

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** ISO-8601, epoch ms, or a time ago (`7d`); `untilDay`: a date alone means the end of that day. */
function timeArg(io: CliIo, flag: string, value: string, untilDay: boolean): number {
  const ago = /^(\d+)([mhdw])$/.exec(value);
  if (ago !== null) return io.now() - Number(ago[1]) * UNITS[ago[2]!]!;
  const ms = parseTimeArg(flag, value);
  return untilDay && /^\d{4}-\d{2}-\d{2}$/.test(value) ? ms + UNITS.d! : ms;
}

/** Whether an audit record concerns the trace: its closing, its detections, feedback on it. */
function concerns(traceId: string, type: string, subjectId: string, payloadJson: string): boolean {
  if (type === 'trace_closed') return subjectId === traceId;
  if (type !== 'detection_emitted' && type !== 'feedback_recorded') return false;
  try {
    return (JSON.parse(payloadJson) as { traceId?: unknown }).traceId === traceId;
  } catch {
    return false;
  }
}

async function exportCommand(io: CliIo, values: Values, traceId: string | undefined): Promise<number> {
  const all = values.all === true;
  if (traceId !== undefined && all) throw new UsageError('give a trace id or --all, not both');
  if (traceId === undefined && !all) throw new UsageError('export needs a trace id, or --all for a time range');
  if (traceId !== undefined) refuse(values, ['since', 'until'], 'the export of one trace');
  const format = formatArg(values);
  const output = requireString(values, 'output');
  const tenantId = tenantOf(values, io.env);
  const server = remote(values);

  if (all) {
    const since = optionalString(values, 'since');
    const until = optionalString(values, 'until');
    const fromMs = since === undefined ? undefined : timeArg(io, 'since', since, false);
    const toMs = until === undefined ? undefined : timeArg(io, 'until', until, true);
    if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new UsageError('--since is after --until');
    return writeExport(io, { tenantId, format, output, fromMs, toMs, server });
  }

  const id = traceId!;
  let records: AuditRecord[];
  try {
    records = await wholeChain(io, tenantId, server);
  } catch (err) {
    if (!(err instanceof BrokenLogError)) throw err;
    io.stderr(`tracefold: cannot export: ${err.message}\n`);
    return EXIT_FAILED;
  }
  const own = records.filter((r) => concerns(id, r.type, r.subjectId, r.payloadJson));
  if (own.length === 0) {
    throw new UsageError(`trace ${id} has no records in the audit chain of tenant ${tenantId}: it is unknown, or has not closed yet`);
  }
  const fromMs = Math.min(...own.map((r) => r.atMs));
  const toMs = Math.max(...own.map((r) => r.atMs)) + 1;
  return writeExport(io, {
    tenantId,
    format,
    output,
    fromMs,
    toMs,
    server,
    ...(server === null ? { records } : {}),
    subject: `trace ${id} of tenant ${tenantId}`,
    about: (_seq, type, subjectId, payloadJson) => concerns(id, type, subjectId, payloadJson),
  });
}

/** `tracefold export …` with the arguments after `export`; resolves to the exit code. */
export async function runExportCommand(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  const cli: CliIo = { ...defaultIo, ...io };
  return run(cli, EXPORT_USAGE, async () => {
    const { positionals, values } = parse(args, {
      tenant: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      all: { type: 'boolean' },
      since: { type: 'string' },
      until: { type: 'string' },
    });
    if (values.help === true) {
      cli.stdout(`${EXPORT_USAGE}\n`);
      return EXIT_OK;
    }
    const [traceId, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    return exportCommand(cli, values, traceId);
  });
}

// ---- audit-readiness ------------------------------------------------------------------------

type Status = 'ok' | 'warn' | 'fail';

interface Check {
  readonly check: string;
  readonly status: Status;
  readonly detail: string;
}

const list = (items: readonly string[]) => (items.length === 0 ? 'none' : items.join(', '));
const counts = (byKey: Readonly<Record<string, number>>) =>
  Object.entries(byKey)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

async function readiness(io: CliIo, values: Values): Promise<number> {
  const format = optionalString(values, 'format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json; got ${JSON.stringify(format)}`);
  const tenantId = tenantOf(values, io.env);
  const server = remote(values);
  const checks: Check[] = [];
  let records: AuditRecord[] = [];
  let broken: string | null = null;
  try {
    records = await wholeChain(io, tenantId, server);
  } catch (err) {
    if (!(err instanceof BrokenLogError)) throw err;
    broken = err.message;
  }
  if (broken !== null) {
    checks.push({ check: 'audit chain', status: 'fail', detail: `${broken}; no package can be exported until it is investigated (tracefold audit verify)` });
  } else {
    const result = verifyAuditChain(records, { tenantId });
    const head = result.head === null ? 'no records yet' : `head seq ${result.head.seq} hash ${result.head.hash}`;
    checks.push({ check: 'audit chain', status: 'ok', detail: `${result.checked} records verified, ${head}` });
    const s = summarizeAuditRecords(records);
    const traces = s.event_counts.trace_closed;
    checks.push({
      check: 'period of use (Art. 12)',
      status: records.length === 0 ? 'warn' : 'ok',
      detail: records.length === 0 ? 'no records' : `from ${s.period.first_event_at} to ${s.period.last_event_at}, ${counts(Object.fromEntries(Object.entries(s.event_counts).filter(([, n]) => n > 0)))}`,
    });
    checks.push({ check: 'traces recorded', status: traces === 0 ? 'warn' : 'ok', detail: traces === 0 ? 'no trace has closed: the chain holds nothing to review yet' : `${traces} traces closed` });
    checks.push({ check: 'models observed (Art. 13)', status: s.models.length === 0 && traces > 0 ? 'warn' : 'ok', detail: list(s.models) });
    checks.push({ check: 'tools observed', status: 'ok', detail: list(s.tools) });
    checks.push({ check: 'agents observed', status: 'ok', detail: list(s.agents) });
    const uncategorised = records.filter((r) => r.type === 'trace_closed' && !r.payloadJson.includes('"dataCategories":')).length;
    checks.push({
      check: 'data categories processed',
      status: uncategorised > 0 ? 'warn' : 'ok',
      detail: `${list(s.data_categories)}${uncategorised > 0 ? ` (${uncategorised} traces closed before tracefold recorded data categories: theirs are not known)` : ''}`,
    });
    checks.push({ check: 'detections', status: 'ok', detail: s.detections.total === 0 ? 'none' : `${s.detections.total} (${counts(s.detections.by_severity)})` });
    const feedback = s.human_feedback.length;
    checks.push({
      check: 'human oversight points',
      status: feedback === 0 && s.detections.total > 0 ? 'warn' : 'ok',
      detail: feedback === 0 ? 'no feedback recorded on any detection (POST /api/v1/tenants/{id}/feedback records a human verdict)' : `${feedback} feedback records`,
    });
  }
  if (server !== null && broken === null) {
    const text = await get(io, apiUrl(server.url, `/api/v1/tenants/${encodeURIComponent(tenantId)}/baselines`), server.token, `tenant ${tenantId} is unknown to ${server.url}`);
    const b = JSON.parse(text) as { sigma_threshold?: number; baselines?: unknown[] };
    checks.push({ check: 'baselines', status: 'ok', detail: `${b.baselines?.length ?? 0} scopes, anomalies beyond ${b.sigma_threshold ?? '?'} sigma` });
  }
  const ready = checks.every((c) => c.status !== 'fail');
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ tenant_id: tenantId, ready, checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.check.length));
    const lines = checks.map((c) => `  ${c.status.toUpperCase().padEnd(4)} ${c.check.padEnd(width)}  ${c.detail}`);
    const warnings = checks.filter((c) => c.status === 'warn').length;
    const verdict = ready ? `ready for export${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}` : 'NOT ready for export';
    io.stdout(`audit readiness of tenant ${tenantId}: ${verdict}\n${lines.join('\n')}\n`);
  }
  return ready ? EXIT_OK : EXIT_FAILED;
}

/** `tracefold audit-readiness …`; resolves to the exit code. */
export async function runAuditReadinessCommand(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  const cli: CliIo = { ...defaultIo, ...io };
  return run(cli, READINESS_USAGE, async () => {
    const { positionals, values } = parse(args, { tenant: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' }, format: { type: 'string' } });
    if (values.help === true) {
      cli.stdout(`${READINESS_USAGE}\n`);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    return readiness(cli, values);
  });
}
