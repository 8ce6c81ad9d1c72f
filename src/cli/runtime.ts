/**
 * Assembles a running tracefold from its configuration: the log, the codecs, the topics,
 * then the stages downstream-first (views, trace stage) and the HTTP server last, so
 * nothing is accepted before something can process it. Shutdown runs in reverse: stop
 * accepting, drain the stages, close the stores. Safe to call twice.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { TokenService } from '../api/credentials.js';
import type { Config } from '../config/config.js';
import { createDetectors } from '../detectors/registry.js';
import { createEmbeddedLog } from '../log/embedded/index.js';
import type { Log } from '../log/port.js';
import { createCodecs, LocalSchemaIds } from '../log/serde/index.js';
import { loadTopicDeclarations } from '../log/topics.js';
import { pipelineVersion } from '../stages/pipeline-version.js';
import { TraceStage } from '../stages/trace/trace-stage.js';
import { ViewQueries } from '../views/queries.js';
import { Views } from '../views/views.js';

export interface Tracefold {
  readonly app: FastifyInstance;
  readonly log: Log;
  readonly traceStage: TraceStage;
  readonly views: Views;
  /** The address the server listens on, e.g. http://127.0.0.1:4318. */
  readonly url: string;
  close(): Promise<void>;
}

/** The JWT secret: configured, or generated once and kept in the data dir. */
async function jwtSecret(config: Config): Promise<string> {
  if (config.jwtSecret !== null) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const secret = randomBytes(48).toString('base64url');
    await fs.writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'tracefold' } });
}

export async function startTracefold(config: Config, logger: Logger = createLogger(config)): Promise<Tracefold> {
  await fs.mkdir(config.dataDir, { recursive: true });
  const log = await createEmbeddedLog({ dataDir: config.dataDir, sync: config.logSync, logger: logger.child({ component: 'log' }) });
  const closers: (() => Promise<void>)[] = [() => log.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  };
  try {
    const drift = await log.ensureTopics(await loadTopicDeclarations());
    for (const message of drift) logger.warn(message);
    const codecs = await createCodecs(new LocalSchemaIds());

    const views = new Views({ log, codecs, group: 'tracefold-views', logger: logger.child({ component: 'views' }) });
    await views.start();
    closers.push(() => views.stop());

    const traceStage = new TraceStage({
      log,
      codecs,
      detectors: createDetectors(),
      pipelineVersion: pipelineVersion(),
      inactivityGapMs: config.inactivityGapMs,
      latenessHorizonMs: config.latenessHorizonMs,
      tombstoneRetentionMs: 7 * 86_400_000,
      logger: logger.child({ component: 'trace-stage' }),
    });
    await traceStage.start();
    closers.push(() => traceStage.stop());

    const app = buildApp({
      config,
      log,
      codecs,
      views,
      queries: new ViewQueries(views.readStore, codecs),
      tokens: new TokenService(await jwtSecret(config), config.tokenTtlSeconds),
      logger,
      readYourWritesTimeoutMs: 10_000,
    });
    const url = await app.listen({ port: config.port, host: config.host });
    closers.push(() => app.close());
    logger.info({ url, dataDir: config.dataDir, pipeline: pipelineVersion(), log: log.kind }, 'tracefold started');

    let closing: Promise<void> | null = null;
    return {
      app,
      log,
      traceStage,
      views,
      url,
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
