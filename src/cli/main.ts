/**
 * The `tracefold` command. `tracefold start` runs every role in one process on the
 * embedded log (Kafka mode and per-role processes arrive with the Kafka adapter).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { createLogger, startTracefold } from './runtime.js';

const USAGE = `usage: tracefold start

Runs tracefold: OTLP/HTTP ingest, the trace stage and the API in one process, with its
data in TRACEFOLD_DATA_DIR (default ./.tracefold). Configuration comes from TRACEFOLD_*
environment variables (see README.md).`;

function printWelcome(url: string, adminToken: boolean): void {
  const auth = adminToken ? ' -H "Authorization: Bearer $TRACEFOLD_ADMIN_TOKEN"' : '';
  process.stderr.write(
    `\ntracefold is listening on ${url}\n\n` +
      `Create a tenant and its API key:\n` +
      `  curl -s -X POST ${url}/api/v1/auth/tenants${auth} -H 'content-type: application/json' -d '{"name":"my-project"}'\n\n` +
      `Then send OTLP/HTTP JSON to ${url}/v1/traces with "Authorization: Bearer <api_key>".\n\n`,
  );
}

async function start(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tracefold: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config);
  if (config.adminToken === null) {
    logger.warn('TRACEFOLD_ADMIN_TOKEN is not set: anyone who can reach this server can create tenants');
  }
  const tracefold = await startTracefold(config, logger);
  printWelcome(tracefold.url, config.adminToken !== null);

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
}

const { positionals } = parseArgs({ allowPositionals: true, strict: false });
const command = positionals[0];
if (command === 'start') {
  start().catch((err: unknown) => {
    process.stderr.write(`tracefold: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`${USAGE}\n`);
  process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2);
}
