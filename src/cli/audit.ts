/**
 * `tracefold audit …` (docs/audit.md).
 *
 *   tracefold audit verify --tenant ID [--url URL --token TOKEN]
 *   tracefold audit verify --from-export FILE [--tenant ID]
 *   tracefold audit export --tenant ID [--from T] [--to T] --format eu-ai-act --output FILE [--url URL --token TOKEN]
 *
 * Exit codes: 0 verified; 1 broken (or an export that cannot be built because the chain is
 * broken); 2 usage error or unknown tenant; 3 the check could not run (server unreachable
 * or refusing, data dir in use, file unreadable). See common.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, verifyAuditChain, type AuditVerification } from '../audit/chain.js';
import { AuditExportError, EXPORT_PROFILES, buildAuditExport, fromExportRecord, verifyAuditExport, type ExportProfile } from '../audit/export.js';
import { loadConfig } from '../config/config.js';
import type { Log, LogRecord } from '../log/port.js';
import { TOPICS } from '../log/topics.js';
import { readRecords } from '../log/read-topic.js';
import { createCodecs } from '../log/serde/index.js';
import { createSchemaIds } from '../log/serde/registry-schema-ids.js';
import type { AuditEventType, AuditRecord } from '../model/tenant-records.js';
import {
  BrokenLogError,
  EXIT_FAILED,
  EXIT_OK,
  UnavailableError,
  UsageError,
  apiUrl,
  get,
  messageOf,
  optionalString,
  parse,
  parseAnswer,
  parseTimeArg,
  processIo,
  refuse,
  remote,
  requireString,
  run,
  tenantOf,
  type CommandIo,
  type Values,
} from './common.js';
import { openLog } from './open-log.js';

export { parseTimeArg } from './common.js';

export const AUDIT_USAGE = `usage:
  tracefold audit verify --tenant ID [--url URL --token TOKEN]
  tracefold audit verify --from-export FILE [--tenant ID]
  tracefold audit export --tenant ID [--from T] [--to T] --format eu-ai-act --output FILE
                         [--url URL --token TOKEN]

audit verify   recomputes every payload digest and link of the tenant's audit chain and
               prints its head, or the first broken record and why.
               With --url, asks the running tracefold at URL (TOKEN: a bearer token of the
               tenant). Without, reads the log of TRACEFOLD_DATA_DIR (or the Kafka cluster
               of TRACEFOLD_KAFKA_BROKERS) directly; the embedded log can only be read
               while tracefold is stopped.
               With --from-export, verifies an export package offline, including its
               summary; --tenant then also checks whose package it is. Compare the head
               hash printed with one obtained independently: the package alone cannot
               prove it was not rebuilt.
audit export   writes the records of [--from, --to) with a summary for an EU AI Act
               Article 12/13 review to FILE (see docs/audit.md). T is ISO-8601
               (2025-06-01, 2025-06-01T12:00:00Z) or epoch milliseconds; without --from
               the export starts at the chain's first record, without --to it runs to its
               head. Reads the log directly, or the running tracefold with --url.

exit codes: 0 verified, 1 broken, 2 usage error or unknown tenant, 3 the check could not
run (server unreachable or refusing the token, data dir in use, unreadable file).`;

/** What the audit commands touch outside themselves; tests replace parts of it. */
export interface CliIo extends CommandIo {
  /** One tenant's audit records from the configured log, in topic order. */
  readonly readLocalAuditRecords: (tenantId: string, env: NodeJS.ProcessEnv) => Promise<AuditRecord[]>;
}

export const defaultIo: CliIo = { ...processIo, readLocalAuditRecords };

// ---- the audit topic ----------------------------------------------------------------------

export const AUDIT_TOPIC = TOPICS.audit;

/**
 * The audit topic's value codec, looked up in this one place: once `Codecs` declares
 * `audit`, the body reduces to `return codecs.audit`.
 */
const isLockError = (message: string) => /\block\b|LOCK/i.test(message);

/**
 * Reads the tenant's audit records from the log the configuration names, keeping topic
 * order (partition, then offset): a tenant's chain lives on one partition, and sorting by
 * seq would hide a reordering that verification must see.
 */
async function readLocalAuditRecords(tenantId: string, env: NodeJS.ProcessEnv): Promise<AuditRecord[]> {
  let config = loadConfig(env);
  const logger = pino({ level: 'warn', base: { service: 'tracefold-cli' } }, pino.destination(2));
  let scratch: string | null = null;
  if (config.kafkaBrokers === null) {
    // Opening would create an empty log; a wrong TRACEFOLD_DATA_DIR should say so instead.
    if (!existsSync(join(config.dataDir, 'embedded-log'))) {
      throw new UnavailableError(`no tracefold data in ${config.dataDir}: set TRACEFOLD_DATA_DIR, or ask a running tracefold with --url URL --token TOKEN`);
    }
  } else {
    // The Kafka adapter keeps a local state store; a scratch dir keeps it off a server's lock.
    scratch = await mkdtemp(join(tmpdir(), 'tracefold-audit-'));
    config = { ...config, dataDir: scratch };
  }
  let log: Log;
  try {
    // Never the configured instance id: in Kafka mode it names a running server's producers.
    log = await openLog(config, `audit-cli-${process.pid}`, logger);
  } catch (err) {
    if (scratch !== null) await rm(scratch, { recursive: true, force: true });
    const message = messageOf(err);
    if (config.kafkaBrokers === null && isLockError(message)) {
      throw new UnavailableError(
        `the data dir ${config.dataDir} is in use (${message}); the embedded log allows one process: stop tracefold, or ask it with --url URL --token TOKEN`,
      );
    }
    throw new UnavailableError(`cannot open the log: ${message}`);
  }
  try {
    const codec = (await createCodecs(createSchemaIds(config.schemaRegistryUrl))).audit;
    let raw: LogRecord[];
    try {
      raw = await readRecords(log, AUDIT_TOPIC);
    } catch (err) {
      if (/unknown topic/i.test(messageOf(err))) throw new UnavailableError(`the log has no ${AUDIT_TOPIC} topic: this tracefold has recorded no audit chain`);
      throw err;
    }
    raw.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const records: AuditRecord[] = [];
    for (const r of raw) {
      if (r.value === null) continue;
      let record: AuditRecord;
      try {
        record = await codec.decode(r.value);
      } catch (err) {
        // Bytes that no longer decode are damage to the chain's medium, whoever's record it was.
        throw new BrokenLogError(`cannot decode ${AUDIT_TOPIC} partition ${r.partition} offset ${r.offset}: ${messageOf(err)}`);
      }
      if (record.tenantId === tenantId) records.push(record);
    }
    return records;
  } finally {
    await log.close();
    if (scratch !== null) await rm(scratch, { recursive: true, force: true });
  }
}


// ---- audit ----------------------------------------------------------------------------------

export function describe(subject: string, result: AuditVerification): string {
  if (!result.ok && result.firstBroken !== null) {
    const { seq, index, reason } = result.firstBroken;
    if (index < 0) return `${subject}: BROKEN: ${reason} (${result.checked} records verified)`;
    return `${subject}: BROKEN at seq ${seq}: ${reason} (index ${index}; ${result.checked} records before it verified)`;
  }
  if (result.head === null) return `${subject}: ${result.checked} records verified, no records`;
  return `${subject}: ${result.checked} records verified, head seq ${result.head.seq} hash ${result.head.hash}`;
}

const remoteVerification = z.object({
  ok: z.boolean(),
  checked: z.number().int().min(0),
  head: z.object({ seq: z.number(), hash: z.string() }).nullable(),
  first_broken: z.object({ seq: z.number(), index: z.number(), reason: z.string() }).nullable(),
});

async function auditVerify(io: CliIo, values: Values): Promise<number> {
  refuse(values, ['from', 'to', 'format', 'output'], 'audit verify');
  const exportFile = optionalString(values, 'from-export');
  if (exportFile !== undefined) {
    refuse(values, ['url', 'token'], 'audit verify --from-export (it runs offline)');
    const tenantId = optionalString(values, 'tenant');
    let text: string;
    try {
      text = await readFile(exportFile, 'utf8');
    } catch (err) {
      throw new UnavailableError(`cannot read ${exportFile}: ${messageOf(err)}`);
    }
    let pkg: unknown;
    try {
      pkg = JSON.parse(text);
    } catch (err) {
      io.stdout(`audit export ${exportFile}: BROKEN: not JSON (${messageOf(err)})\n`);
      return EXIT_FAILED;
    }
    const result = verifyAuditExport(pkg, tenantId === undefined ? {} : { tenantId });
    const tenant = typeof (pkg as { tenant?: unknown } | null)?.tenant === 'string' ? (pkg as { tenant: string }).tenant : '?';
    io.stdout(`${describe(`audit export ${exportFile} of tenant ${tenant}`, result)}\n`);
    return result.ok ? EXIT_OK : EXIT_FAILED;
  }

  const tenantId = tenantOf(values, io.env);
  const subject = `audit chain of tenant ${tenantId}`;
  const server = remote(values);
  let result: AuditVerification;
  if (server !== null) {
    const url = apiUrl(server.url, `/api/v1/tenants/${encodeURIComponent(tenantId)}/audit/verify`);
    const answer = parseAnswer(remoteVerification, await get(io, url, server.token, `tenant ${tenantId} is unknown to ${server.url}`), 'audit verify');
    result = { ok: answer.ok, checked: answer.checked, head: answer.head, firstBroken: answer.first_broken };
  } else {
    let records: AuditRecord[];
    try {
      records = await io.readLocalAuditRecords(tenantId, io.env);
    } catch (err) {
      if (!(err instanceof BrokenLogError)) throw err;
      io.stdout(`${subject}: BROKEN: ${err.message}\n`);
      return EXIT_FAILED;
    }
    result = verifyAuditChain(records, { tenantId });
  }
  io.stdout(`${describe(subject, result)}\n`);
  return result.ok ? EXIT_OK : EXIT_FAILED;
}

export function formatArg(values: Values): ExportProfile {
  const format = optionalString(values, 'format');
  if (format === undefined) throw new UsageError(`--format is required (one of: ${EXPORT_PROFILES.join(', ')})`);
  if (!(EXPORT_PROFILES as readonly string[]).includes(format)) throw new UsageError(`--format: unknown export format ${JSON.stringify(format)} (known: ${EXPORT_PROFILES.join(', ')})`);
  return format as ExportProfile;
}

export interface ExportRequest {
  readonly tenantId: string;
  readonly format: ExportProfile;
  readonly output: string;
  readonly fromMs: number | undefined;
  readonly toMs: number | undefined;
  readonly server: { url: string; token: string } | null;
  /** The chain already read from the log, when the caller had to read it. */
  readonly records?: AuditRecord[];
  /** What the package is of, for the message: the tenant's chain, or one trace of it. */
  readonly subject?: string;
  /** Counts the included records that concern the subject, for the message. */
  readonly about?: (seq: number, type: string, subjectId: string, payloadJson: string) => boolean;
}

const exportRecordSchema = z.object({ seq: z.number(), type: z.string(), subject_id: z.string(), payload_json: z.string() });

/** Builds (or downloads) the package of [fromMs, toMs), verifies it and writes it to the output file. */
export async function writeExport(io: CliIo, request: ExportRequest): Promise<number> {
  const { tenantId, format, output, fromMs, toMs, server } = request;
  let text: string;
  if (server !== null) {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const url = apiUrl(server.url, `/api/v1/tenants/${encodeURIComponent(tenantId)}/audit/export`, { format, from: iso(fromMs), to: iso(toMs) });
    try {
      text = await get(io, url, server.token, `tenant ${tenantId} is unknown to ${server.url}`);
    } catch (err) {
      // The server refuses to package a broken chain (HTTP 400 naming the broken record).
      if (err instanceof UnavailableError && /is broken at seq/.test(err.message)) {
        io.stderr(`tracefold: cannot export: ${err.message}\n  run \`tracefold audit verify --tenant ${tenantId} --url ${server.url} --token …\` for details\n`);
        return EXIT_FAILED;
      }
      throw err;
    }
  } else {
    let records: AuditRecord[];
    try {
      records = request.records ?? (await io.readLocalAuditRecords(tenantId, io.env));
    } catch (err) {
      if (!(err instanceof BrokenLogError)) throw err;
      io.stderr(`tracefold: cannot export: ${err.message}\n`);
      return EXIT_FAILED;
    }
    try {
      const pkg = buildAuditExport(tenantId, records, { fromMs, toMs, generatedAtMs: io.now(), profile: format });
      text = `${JSON.stringify(pkg, null, 2)}\n`;
    } catch (err) {
      if (!(err instanceof AuditExportError)) throw err;
      io.stderr(`tracefold: cannot export: ${err.message}\n  run \`tracefold audit verify --tenant ${tenantId}\` for details\n`);
      return EXIT_FAILED;
    }
  }

  // Checked before writing: a package that does not verify is not worth handing to a reviewer.
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch {
    throw new UnavailableError('the server answered an export that is not JSON');
  }
  const result = verifyAuditExport(pkg, { tenantId });
  try {
    await writeFile(output, text);
  } catch (err) {
    throw new UnavailableError(`cannot write ${output}: ${messageOf(err)}`);
  }
  const subject = request.subject ?? `tenant ${tenantId}`;
  if (!result.ok) {
    io.stdout(`wrote ${output}, but ${describe(`the export of ${subject}`, result)}\n`);
    return EXIT_FAILED;
  }
  const count = result.checked;
  let range = count === 0 ? 'no records in the range' : `${count} records, seq ${result.head!.seq - count + 1}..${result.head!.seq}, head hash ${result.head!.hash}`;
  if (request.about !== undefined && count > 0) {
    const records = z.object({ records: z.array(exportRecordSchema) }).parse(pkg).records;
    const about = records.filter((r) => request.about!(r.seq, r.type, r.subject_id, r.payload_json)).length;
    range += ` (${about} of them about the trace; the others lie between its records and keep the run verifiable)`;
  }
  io.stdout(`wrote the ${format} audit export of ${subject} to ${output}: ${range}\n`);
  return EXIT_OK;
}

async function auditExport(io: CliIo, values: Values): Promise<number> {
  refuse(values, ['from-export'], 'audit export');
  const tenantId = tenantOf(values, io.env);
  const format = formatArg(values);
  const output = requireString(values, 'output');
  const fromArg = optionalString(values, 'from');
  const toArg = optionalString(values, 'to');
  const fromMs = fromArg === undefined ? undefined : parseTimeArg('from', fromArg);
  const toMs = toArg === undefined ? undefined : parseTimeArg('to', toArg);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new UsageError('--from is after --to');
  return writeExport(io, { tenantId, format, output, fromMs, toMs, server: remote(values) });
}

const packagedRecord = z.object({
  tenant_id: z.string(),
  seq: z.number(),
  type: z.enum(AUDIT_EVENT_TYPES as [AuditEventType, ...AuditEventType[]]),
  subject_id: z.string(),
  at_ms: z.number(),
  payload_json: z.string(),
  payload_digest: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
});

/**
 * The tenant's whole chain, verified: from the running tracefold's export of it (--url), or
 * from the log. Throws BrokenLogError when it does not verify.
 */
export async function wholeChain(io: CliIo, tenantId: string, server: { url: string; token: string } | null): Promise<AuditRecord[]> {
  let records: AuditRecord[];
  if (server !== null) {
    const url = apiUrl(server.url, `/api/v1/tenants/${encodeURIComponent(tenantId)}/audit/export`, { format: 'eu-ai-act' });
    let text: string;
    try {
      text = await get(io, url, server.token, `tenant ${tenantId} is unknown to ${server.url}`);
    } catch (err) {
      if (err instanceof UnavailableError && /is broken at seq/.test(err.message)) throw new BrokenLogError(err.message);
      throw err;
    }
    const pkg = parseAnswer(z.object({ records: z.array(packagedRecord) }), text, 'audit export');
    const check = verifyAuditExport(JSON.parse(text), { tenantId });
    if (!check.ok) throw new BrokenLogError(describe(`the export of tenant ${tenantId}`, check));
    records = pkg.records.map(fromExportRecord);
  } else {
    records = await io.readLocalAuditRecords(tenantId, io.env);
  }
  const result = verifyAuditChain(records, { tenantId });
  if (!result.ok) throw new BrokenLogError(describe(`audit chain of tenant ${tenantId}`, result));
  return records;
}

/** `tracefold audit …` with the arguments after `audit`; resolves to the exit code. */
export async function runAuditCommand(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  const cli: CliIo = { ...defaultIo, ...io };
  return run(cli, AUDIT_USAGE, async () => {
    const { positionals, values } = parse(args, {
      tenant: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      'from-export': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
    });
    if (values.help === true) {
      cli.stdout(`${AUDIT_USAGE}\n`);
      return EXIT_OK;
    }
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    if (sub === 'verify') return auditVerify(cli, values);
    if (sub === 'export') return auditExport(cli, values);
    throw new UsageError(sub === undefined ? 'audit needs a subcommand: verify or export' : `unknown command "audit ${sub}"`);
  });
}
