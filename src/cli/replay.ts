/**
 * `tracefold replay`: starts, follows, compares and cancels replay runs of a running
 * tracefold through its API (a run lives in the server process: in embedded mode it alone
 * can read the log). Progress is a bar on a terminal, plain lines otherwise.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDiff, type DiffCounts, type ReplayDiff } from '../replay/diff.js';

const USAGE = `usage:
  tracefold replay start [--tenant ID]… [--from TIME] [--to TIME] [--settings JSON | --settings @FILE] [--no-wait]
  tracefold replay status [RUN]        one run, or every run
  tracefold replay diff RUN [--json]   its detections against the ones in force
  tracefold replay cancel RUN          stop a running run (its state stays, for its diff)
  tracefold replay delete RUN          forget an ended run and its state
  tracefold replay promote RUN [--tenant ID]…    put its detections in force
  tracefold replay rollback RUN [--tenant ID]…   undo that promotion

start   re-runs tracefold.raw.v1 (all of it, or the tenants and time range named) through
        the detectors with the settings given (TRACEFOLD_DETECTORS syntax; default: the
        server's), beside live processing; nothing it finds is emitted. It follows the
        run until it ends and prints the diff, unless --no-wait.
promote makes a finished run's detections the ones the API and subscribers see, for the
        tenants named or all of them, in one unit: what it no longer finds is withdrawn on
        tracefold.detections.v1; the audit chain records one fact with the change's digest.
rollback puts back what a promotion replaced.
TIME    ISO-8601 or epoch milliseconds.

The server is TRACEFOLD_URL (default http://127.0.0.1:$TRACEFOLD_PORT, port 4318); the
admin token, when the server has one, comes from TRACEFOLD_ADMIN_TOKEN.`;

/** A run as the API presents it. */
interface RunAnswer {
  replay_id: string;
  state: string;
  pipeline_version: string;
  records_read: number;
  records_total: number;
  records_per_second: number | null;
  eta_seconds: number | null;
  traces_replayed: number;
  error: string | null;
  promotions?: { tenant_id: string; rolled_back_at: string | null; traces: number; withdrawn: number; put: number; skipped: number; digest: string }[];
}

interface DiffAnswer {
  traces: number;
  traces_changed: number;
  total: DiffCounts;
  by_tenant: Record<string, Record<string, DiffCounts>>;
}

class CliError extends Error {}

function serverUrl(): string {
  return process.env.TRACEFOLD_URL ?? `http://127.0.0.1:${process.env.TRACEFOLD_PORT ?? '4318'}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = process.env.TRACEFOLD_ADMIN_TOKEN;
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${serverUrl()}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (err) {
    throw new CliError(`cannot reach tracefold at ${serverUrl()} (${(err as Error).message}); is it running? (TRACEFOLD_URL)`);
  }
  const text = await res.text();
  const parsed = text === '' ? null : (JSON.parse(text) as unknown);
  if (!res.ok) throw new CliError(`${method} ${path}: ${res.status} ${(parsed as { message?: string } | null)?.message ?? text}`);
  return parsed as T;
}

function settingsArg(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? readFile(value.slice(1)) : value;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`--settings: not valid JSON (${(err as Error).message})`);
  }
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--settings: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line of progress: a bar on a terminal. */
export function progressLine(run: RunAnswer, width = 30): string {
  const share = run.records_total === 0 ? 1 : Math.min(1, run.records_read / run.records_total);
  const filled = Math.round(share * width);
  const rate = run.records_per_second === null ? '' : `, ${count(run.records_per_second)} records/s`;
  const eta = run.eta_seconds === null ? '' : `, ETA ${run.eta_seconds}s`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${count(run.records_read)}/${count(run.records_total)} records${rate}${eta}, ${count(run.traces_replayed)} traces`;
}

async function follow(id: string): Promise<RunAnswer> {
  const tty = process.stderr.isTTY === true;
  let lastPlain = 0;
  for (;;) {
    const run = await call<RunAnswer>('GET', `/api/v1/replays/${encodeURIComponent(id)}`);
    if (tty) process.stderr.write(`\r${progressLine(run)}`);
    else if (Date.now() - lastPlain >= 2000 || run.state !== 'running') {
      process.stderr.write(`${progressLine(run)}\n`);
      lastPlain = Date.now();
    }
    if (run.state !== 'running') {
      if (tty) process.stderr.write('\n');
      return run;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function fromAnswer(diff: DiffAnswer): ReplayDiff {
  return { traces: diff.traces, tracesChanged: diff.traces_changed, total: diff.total, byTenant: diff.by_tenant };
}

async function printDiff(id: string, json: boolean): Promise<void> {
  const diff = await call<DiffAnswer>('GET', `/api/v1/replays/${encodeURIComponent(id)}/diff`);
  process.stdout.write(json ? `${JSON.stringify(diff, null, 2)}\n` : `${formatDiff(fromAnswer(diff))}\n`);
}

export async function runReplayCommand(args: readonly string[]): Promise<number> {
  try {
    const { positionals, values } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        tenant: { type: 'string', multiple: true },
        from: { type: 'string' },
        to: { type: 'string' },
        settings: { type: 'string' },
        'no-wait': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, id] = positionals;
    if (values.help === true || command === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined && values.help !== true ? 2 : 0;
    }
    if (command === 'start') {
      const body = {
        ...(values.tenant === undefined ? {} : { tenants: values.tenant }),
        ...(values.from === undefined ? {} : { from: values.from }),
        ...(values.to === undefined ? {} : { to: values.to }),
        ...(values.settings === undefined ? {} : { settings: settingsArg(values.settings) }),
      };
      const run = await call<RunAnswer>('POST', '/api/v1/replays', body);
      process.stderr.write(`replay ${run.replay_id} started, pipeline ${run.pipeline_version}\n`);
      process.stdout.write(`${run.replay_id}\n`);
      if (values['no-wait'] === true) return 0;
      const ended = await follow(run.replay_id);
      if (ended.state !== 'finished') throw new CliError(`replay ${ended.replay_id} ${ended.state}${ended.error === null ? '' : `: ${ended.error}`}`);
      await printDiff(run.replay_id, values.json === true);
      return 0;
    }
    if (command === 'status') {
      if (id === undefined) {
        const { items } = await call<{ items: RunAnswer[] }>('GET', '/api/v1/replays');
        for (const run of items) process.stdout.write(`${run.replay_id} ${run.state.padEnd(9)} ${progressLine(run)}\n`);
      } else {
        const run = await call<RunAnswer>('GET', `/api/v1/replays/${encodeURIComponent(id)}`);
        process.stdout.write(values.json === true ? `${JSON.stringify(run, null, 2)}\n` : `${run.replay_id} ${run.state} ${progressLine(run)}\n`);
      }
      return 0;
    }
    if (command === 'diff' || command === 'cancel' || command === 'delete') {
      if (id === undefined) throw new CliError(`tracefold replay ${command} needs the run's id`);
      if (command === 'diff') await printDiff(id, values.json === true);
      else {
        // One route: it cancels a running run and removes an ended one; each command says which it means.
        const run = await call<RunAnswer>('GET', `/api/v1/replays/${encodeURIComponent(id)}`);
        if (command === 'cancel' && run.state !== 'running') throw new CliError(`replay ${id} is ${run.state}, not running (tracefold replay delete ${id} forgets it)`);
        if (command === 'delete' && run.state === 'running') throw new CliError(`replay ${id} is running: cancel it first`);
        const answer = await call<RunAnswer>('DELETE', `/api/v1/replays/${encodeURIComponent(id)}`);
        process.stdout.write(command === 'cancel' ? `${answer.state}\n` : `removed\n`);
      }
      return 0;
    }
    if (command === 'promote' || command === 'rollback') {
      if (id === undefined) throw new CliError(`tracefold replay ${command} needs the run's id`);
      const body = values.tenant === undefined ? {} : { tenants: values.tenant };
      const run = await call<RunAnswer>('POST', `/api/v1/replays/${encodeURIComponent(id)}/${command}`, body);
      if (values.json === true) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      else {
        for (const p of run.promotions ?? []) {
          const state = p.rolled_back_at === null ? 'promoted' : 'rolled back';
          process.stdout.write(`${p.tenant_id} ${state}: ${p.traces} traces, ${p.withdrawn} withdrawn, ${p.put} put, ${p.skipped} skipped (digest ${p.digest.slice(0, 16)})\n`);
        }
      }
      return 0;
    }
    throw new CliError(`unknown replay command "${command}"\n${USAGE}`);
  } catch (err) {
    if (err instanceof CliError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`tracefold replay: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
