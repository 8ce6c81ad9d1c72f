/**
 * What the audit and baseline commands share: exit codes, the errors that map to them,
 * flag helpers and the JSON client for a running tracefold's API.
 *
 * Exit codes: 0 ok / within; 1 broken / anomalous; 2 usage error (an unknown flag or
 * command, a missing or bad argument) or an unknown tenant or trace; 3 the command could not
 * run (server unreachable or refusing the token, data dir in use, file unreadable). A usage
 * error never exits 1, so that `tracefold baseline check $ID || echo outside` cannot lie.
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError } from '../config/config.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 3;

/** What the commands touch outside themselves; tests replace parts of it. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly fetch: typeof fetch;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
}

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  fetch: (input, init) => fetch(input, init),
  env: process.env,
  now: () => Date.now(),
};

export class UsageError extends Error {}

/** The check could not run: exit 3 (or 2 for what the user named wrongly, see `exitCode`). */
export class UnavailableError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_UNAVAILABLE,
  ) {
    super(message);
  }
}

/** The audit topic holds a record that cannot be read: reported as a broken chain. */
export class BrokenLogError extends Error {}

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// ---- HTTP -----------------------------------------------------------------------------------

const REQUEST_TIMEOUT_MS = 60_000;

export function apiUrl(base: string, path: string, query?: Record<string, string | undefined>): string {
  let url: URL;
  try {
    url = new URL(`${base.replace(/\/+$/, '')}${path}`);
  } catch {
    throw new UsageError(`--url: not a URL: ${JSON.stringify(base)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url: must be an http(s) URL, got ${JSON.stringify(base)}`);
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

/**
 * Sends a request to the API; answers the body of a 200, throws for anything else: 404 as
 * `notFound` and 400 (a value the server refuses) with exit 2, the rest with exit 3.
 */
export async function call(io: CommandIo, method: 'GET' | 'PUT', url: string, token: string, notFound: string, body?: unknown): Promise<string> {
  let response: Response;
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    response = await io.fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new UnavailableError(`cannot reach ${new URL(url).origin}: ${messageOf(err)}${cause}`);
  }
  const text = await response.text();
  if (response.status === 200) return text;
  const detail = text.trim().slice(0, 300);
  const suffix = detail === '' ? '' : `: ${detail}`;
  if (response.status === 404) throw new UnavailableError(`${notFound} (HTTP 404${suffix})`, EXIT_USAGE);
  if (response.status === 400) throw new UnavailableError(`the server refused the request (HTTP 400${suffix})`, EXIT_USAGE);
  if (response.status === 401 || response.status === 403) throw new UnavailableError(`the server refused the token (HTTP ${response.status}${suffix})`);
  throw new UnavailableError(`${method} ${url} answered HTTP ${response.status}${suffix}`);
}

/** GETs `url`: see `call`. */
export const get = (io: CommandIo, url: string, token: string, notFound: string): Promise<string> => call(io, 'GET', url, token, notFound);

export function parseAnswer<T>(schema: z.ZodType<T>, body: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UnavailableError(`the ${what} answer is not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UnavailableError(`unexpected ${what} answer: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  return parsed.data;
}

// ---- arguments ------------------------------------------------------------------------------

export type Values = Record<string, string | boolean | undefined>;

export function requireString(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export const optionalString = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

export function refuse(values: Values, names: readonly string[], context: string): void {
  for (const name of names) if (values[name] !== undefined) throw new UsageError(`--${name} does not apply to ${context}`);
}

/** --url and --token go together. */
export function remote(values: Values): { url: string; token: string } | null {
  const url = optionalString(values, 'url');
  const token = optionalString(values, 'token');
  if (url === undefined && token === undefined) return null;
  if (url === undefined) throw new UsageError('--token needs --url');
  if (token === undefined || token === '') throw new UsageError('--url needs --token (a bearer token of the tenant)');
  return { url, token };
}

/**
 * --url and --token, or TRACEFOLD_URL and TRACEFOLD_TOKEN, for the commands that always ask
 * a running tracefold (a flag wins over its variable).
 */
export function remoteFromFlagsOrEnv(values: Values, env: NodeJS.ProcessEnv): { url: string; token: string } | null {
  const url = optionalString(values, 'url') ?? nonEmpty(env.TRACEFOLD_URL);
  const token = optionalString(values, 'token') ?? nonEmpty(env.TRACEFOLD_TOKEN);
  return remote({ url, token });
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** --tenant, or TRACEFOLD_TENANT. */
export function tenantOf(values: Values, env: NodeJS.ProcessEnv): string {
  const tenant = optionalString(values, 'tenant') ?? nonEmpty(env.TRACEFOLD_TENANT);
  if (tenant === undefined || tenant === '') throw new UsageError('--tenant is required (or set TRACEFOLD_TENANT)');
  return tenant;
}

/** A number flag within [min, max]; `integer` refuses fractions. */
export function numberArg(values: Values, name: string, min: number, max: number, what: string, integer = false): number | undefined {
  const raw = optionalString(values, name);
  if (raw === undefined) return undefined;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name}: expected ${what} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** ISO-8601 or epoch milliseconds. A date-time without a zone is local time (ECMAScript's rule). */
export function parseTimeArg(flag: string, value: string): number {
  let ms = Number.NaN;
  if (/^-?\d+$/.test(value)) ms = Number(value);
  else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)) ms = Date.parse(value);
  if (!Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime())) {
    throw new UsageError(`--${flag}: expected an ISO-8601 time (2025-06-01T12:00:00Z) or epoch milliseconds, got ${JSON.stringify(value)}`);
  }
  return ms;
}

export function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): { positionals: string[]; values: Values } {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  return { positionals, values };
}

/** Runs a command body and turns its errors into a message and an exit code. */
export async function run(io: CommandIo, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`tracefold: ${err.message}\n\n${usage}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.stderr(`tracefold: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof UnavailableError) {
      io.stderr(`tracefold: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`tracefold: ${messageOf(err)}\n`);
    return EXIT_UNAVAILABLE;
  }
}

/** Six significant digits, without trailing zeros. */
export const num = (n: number): string => String(Number(n.toPrecision(6)));
