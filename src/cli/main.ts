/**
 * The `tracefold` command.
 *
 *   tracefold start [--role ingest|trace|tenant|api|all]   run tracefold (every role by default)
 *   tracefold topics apply                                 create or update the topics in topics/
 *   tracefold audit verify|export …                        check or export a tenant's audit chain
 *   tracefold baseline check|show|update …                 baselines; check exits 1 when a trace is anomalous
 *   tracefold export …, verify …, audit-readiness          the audit commands as agent-strace spells them
 *   tracefold detectors                                    the detectors and settings in force
 *   tracefold replay start|status|diff|cancel …            re-run history with other detector settings
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { detectorDefaults, detectorSetup } from '../detectors/registry.js';
import { loadTopicDeclarations } from '../log/topics.js';
import { pipelineVersion } from '../stages/pipeline-version.js';
import { runAuditCommand } from './audit.js';
import { runAuditReadinessCommand, runExportCommand } from './audit-review.js';
import { runBaselineCommand } from './baseline.js';
import { openLog } from './open-log.js';
import { runReplayCommand } from './replay.js';
import { createLogger, ROLES, startTracefold, type Role } from './runtime.js';

const USAGE = `usage:
  tracefold start [--role ingest|trace|tenant|api|all]
  tracefold topics apply
  tracefold audit verify|export …     (tracefold audit --help)
  tracefold baseline check|show|update …   (tracefold baseline --help)
  tracefold export TRACE_ID | --all …      (tracefold export --help)
  tracefold verify --from-export FILE      (as tracefold audit verify)
  tracefold audit-readiness …              (tracefold audit-readiness --help)
  tracefold detectors
  tracefold replay start|status|diff|cancel …   (tracefold replay --help)

start         runs tracefold. Without TRACEFOLD_KAFKA_BROKERS it runs every role in one
              process on the embedded log, with its data in TRACEFOLD_DATA_DIR
              (default ./.tracefold). With brokers, --role picks what this process does.
topics apply  creates missing topics from topics/ and updates their settings; prints what
              it cannot reconcile (for example fewer partitions than exist) and exits 1
              if there is any.
detectors     prints, as JSON, the pipeline version and every detector with its version,
              whether it runs and its settings, as TRACEFOLD_DETECTORS or
              TRACEFOLD_DETECTORS_FILE make them (exits 2 naming a bad setting).

Exit codes: 0 success, 1 a failed check (broken chain, anomalous trace, topic drift),
2 usage error (unknown command or flag, missing or bad argument), 3 could not run.

Configuration comes from TRACEFOLD_* environment variables (see README.md).`;

class UsageError extends Error {}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tracefold: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function printWelcome(url: string, adminToken: boolean): void {
  const auth = adminToken ? ' -H "Authorization: Bearer $TRACEFOLD_ADMIN_TOKEN"' : '';
  process.stderr.write(
    `\ntracefold is listening on ${url}\n\n` +
      `Create a tenant and its API key:\n` +
      `  curl -s -X POST ${url}/api/v1/auth/tenants${auth} -H 'content-type: application/json' -d '{"name":"my-project"}'\n\n` +
      `Then send OTLP/HTTP JSON to ${url}/v1/traces with "Authorization: Bearer <api_key>",\n` +
      `and open the web UI at ${url}/ to sign in with that key.\n\n`,
  );
}

async function start(roleArg: string | undefined): Promise<void> {
  const role = (roleArg ?? 'all') as Role;
  if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${roleArg}"`);
  const config = configOrExit();
  const logger = createLogger(config);
  if (config.adminToken === null && (role === 'all' || role === 'api')) {
    logger.warn('TRACEFOLD_ADMIN_TOKEN is not set: anyone who can reach this server can create tenants');
  }
  const tracefold = await startTracefold(config, logger, role);
  if (role === 'all' || role === 'api') printWelcome(tracefold.url, config.adminToken !== null);
  else process.stderr.write(`\ntracefold (${role}) is listening on ${tracefold.url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    tracefold.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  tracefold.failed.catch((err: unknown) => {
    logger.fatal({ err }, 'a stage stopped on an error; exiting so that a supervisor restarts this process');
    stopping = true;
    void tracefold.close().finally(() => process.exit(1));
  });
}

async function topicsApply(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config);
  const log = await openLog(config, config.instanceId ?? 'topics-apply', logger.child({ component: 'log' }));
  try {
    const declarations = await loadTopicDeclarations();
    const drift = await log.ensureTopics(declarations);
    for (const d of declarations) {
      process.stdout.write(`${d.name}: ${log.partitionsOf(d.name)} partitions, cleanup.policy=${d.cleanupPolicy}, retention.ms=${d.retentionMs}\n`);
    }
    for (const message of drift) process.stdout.write(`drift: ${message}\n`);
    process.exitCode = drift.length > 0 ? 1 : 0;
  } finally {
    await log.close();
  }
}

function printDetectors(): void {
  const config = configOrExit();
  const { detectors, changed } = detectorSetup(config.detectorSettings);
  const running = new Set(detectors.map((d) => d.id));
  const all = Object.entries(detectorDefaults()).map(([id, { version, defaults }]) => ({
    id,
    version,
    enabled: running.has(id),
    settings: changed[id] ?? defaults,
    defaults,
  }));
  process.stdout.write(`${JSON.stringify({ pipeline_version: pipelineVersion(config.detectorSettings), detectors: all }, null, 2)}\n`);
}

async function main(): Promise<void> {
  // Everything tracefold writes (the log, state stores, secrets, audit exports) is for its
  // user alone: directories 0700, files 0600, RocksDB's own files included.
  process.umask(0o077);
  // The audit and baseline commands parse their own flags.
  const [first, ...rest] = process.argv.slice(2);
  if (first === 'audit') return void (process.exitCode = await runAuditCommand(rest));
  if (first === 'baseline') return void (process.exitCode = await runBaselineCommand(rest));
  if (first === 'replay') return void (process.exitCode = await runReplayCommand(rest));
  if (first === 'export') return void (process.exitCode = await runExportCommand(rest));
  if (first === 'verify') return void (process.exitCode = await runAuditCommand(['verify', ...rest]));
  if (first === 'audit-readiness') return void (process.exitCode = await runAuditReadinessCommand(rest));
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [command, sub, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const only = (n: number) => {
    const unexpected = [sub, ...extra].slice(n - 1).find((a) => a !== undefined);
    if (unexpected !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(unexpected)} after "${positionals.slice(0, n).join(' ')}"`);
  };
  if (values.role !== undefined && command !== 'start') throw new UsageError(`--role applies to tracefold start, not "${command}"`);
  if (command === 'start') {
    only(1);
    return start(values.role);
  }
  if (command === 'topics' && sub === 'apply') {
    only(2);
    return topicsApply();
  }
  if (command === 'detectors') {
    only(1);
    return printDetectors();
  }
  throw new UsageError(`unknown command "${positionals.join(' ')}"`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`tracefold: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`tracefold: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
