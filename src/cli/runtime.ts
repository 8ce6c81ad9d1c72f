/**
 * Assembles a running tracefold from its configuration and roles: the log, the codecs,
 * the topics, then what the roles ask for, downstream first (views, trace stage) and the
 * HTTP server last, so nothing is accepted before something can process it. Shutdown runs
 * in reverse: stop accepting, drain the stages, close the stores. Safe to call twice.
 *
 * Roles: `ingest` (OTLP and tenant-path ingest, with a tenants view to check keys),
 * `trace` (the trace stage), `api` (tenants, tokens, queries, analyze, feedback, over its
 * own views), `all` (every role in one process: the embedded mode's only choice).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from '../api/app.js';
import type { AppContext, BaseContext } from '../http/context.js';
import { TokenService } from '../http/credentials.js';
import { createMetrics } from '../http/prometheus/metrics.js';
import type { Config } from '../config/config.js';
import { createDetectors } from '../detectors/registry.js';
import { createIngestLimits } from '../http/limits/index.js';
import type { Log } from '../log/port.js';
import { createCodecs } from '../log/serde/index.js';
import { createSchemaIds } from '../log/serde/registry-schema-ids.js';
import { loadTopicDeclarations, TOPICS } from '../log/topics.js';
import { ReplayRuns } from '../replay/replay-runs.js';
import { pipelineVersion } from '../stages/pipeline-version.js';
import { TraceStage } from '../stages/trace/trace-stage.js';
import { ViewQueries } from '../views/queries.js';
import { Views } from '../views/views.js';
import { TenantStage } from '../stages/tenant/tenant-stage.js';
import { CalibrationReader } from '../stages/trace/calibration-reader.js';
import type { StageHealth } from '../runtime/health.js';
import { openLog } from './open-log.js';
import { checkSchemaIds } from './schema-id-check.js';

export const ROLES = ['ingest', 'trace', 'tenant', 'api', 'all'] as const;

/**
 * What an ingest-only process materializes: tenants and keys to check credentials, and the
 * session registry, because the session-events routes answer 404 for unknown sessions.
 */
const INGEST_VIEW_TOPICS = [TOPICS.tenants, TOPICS.sessions];
export type Role = (typeof ROLES)[number];

export interface Tracefold {
  readonly app: FastifyInstance;
  readonly log: Log;
  readonly traceStage: TraceStage | null;
  readonly tenantStage: TenantStage | null;
  readonly views: Views | null;
  /** The address the server listens on, e.g. http://127.0.0.1:4318. */
  readonly url: string;
  /**
   * Rejects when a stage or the views stop on an error they could not get past. The
   * process should then exit non-zero so its supervisor restarts it: state and offsets are
   * committed together, so a restart resumes exactly where the last unit ended.
   */
  readonly failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * The data directory holds every tenant's data, the key hashes and the token secret: it and
 * everything in it are for tracefold's user alone (directories 0700, files 0600). What an
 * earlier start left with looser modes is tightened; what is created from now on gets the
 * process umask the command sets (src/cli/main.ts), RocksDB's files included.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const pending = [dir];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    await fs.chmod(current, 0o700);
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const entryPath = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(entryPath);
      else if (entry.isFile() && ((await fs.stat(entryPath)).mode & 0o077) !== 0) await fs.chmod(entryPath, 0o600);
    }
  }
}

/** A value kept in the data dir: read it, or create it once with `make`. */
async function keptInDataDir(config: Config, name: string, make: () => string): Promise<string> {
  const file = path.join(config.dataDir, name);
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const value = make();
    await fs.writeFile(file, value + '\n', { mode: 0o600, flag: 'wx' });
    return value;
  }
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'tracefold' } });
}

/** How long a promotion or rollback waits for the views to show it before it answers. */
const PROMOTION_VISIBLE_TIMEOUT_MS = 120_000;
/** How long a forgotten trace's revision number is remembered (the raw topic's retention). */
const TOMBSTONE_RETENTION_MS = 7 * 86_400_000;

export async function startTracefold(config: Config, logger: Logger = createLogger(config), role: Role = 'all'): Promise<Tracefold> {
  if (config.kafkaBrokers === null && role !== 'all') {
    throw new Error(`--role ${role} needs TRACEFOLD_KAFKA_BROKERS: the embedded log runs every role in one process`);
  }
  const has = (r: Role) => role === 'all' || role === r;
  await prepareDataDir(config.dataDir);
  const instanceId = config.instanceId ?? (await keptInDataDir(config, 'instance-id', () => randomBytes(6).toString('hex')));
  const log = await openLog(config, instanceId, logger.child({ component: 'log' }));
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
    const declarations = await loadTopicDeclarations();
    const drift = await log.ensureTopics(declarations);
    for (const message of drift) logger.warn(message);
    // Without a registry, refuse to start on a log written through one (it could not be read).
    await checkSchemaIds(log, declarations, { registryUrl: config.schemaRegistryUrl, logger });
    const codecs = await createCodecs(createSchemaIds(config.schemaRegistryUrl));
    const metrics = createMetrics();
    const stages: StageHealth[] = [];
    const base: BaseContext = { config, log, codecs, logger, metrics, stages };

    let views: Views | null = null;
    /** Resolves once the views consume; its rejection is the views' failure to start. */
    let viewsJoined: Promise<void> = Promise.resolve();
    if (has('ingest') || has('api')) {
      // Every API instance keeps its own views, so each needs its own group in Kafka.
      const group = log.kind === 'embedded' ? 'tracefold-views' : `tracefold-views-${instanceId}`;
      views = new Views({ log, codecs, group, topics: has('api') ? undefined : INGEST_VIEW_TOPICS, logger: logger.child({ component: 'views' }) });
      const started = views;
      await started.open();
      if (role === 'ingest') {
        // Ingest appends without its views: it serves at once, checking keys against the
        // tenants it loaded before, while the group rebalances (as long as a session timeout
        // after a crash); /readyz says not ready until the views consume again.
        viewsJoined = started.start();
        viewsJoined.catch(() => undefined);
        closers.push(async () => {
          await viewsJoined.catch(() => undefined);
          await started.stop();
        });
      } else {
        await started.start();
        closers.push(() => started.stop());
      }
      metrics.observeViews(started, log);
      metrics.observeDeadLetters(started.poison.counts);
      stages.push(started.health);
    }

    let tenantStage: TenantStage | null = null;
    if (has('tenant')) {
      tenantStage = new TenantStage({
        log,
        codecs,
        pipelineVersion: pipelineVersion(config.detectorSettings),
        baseline: { k: config.baselineSigma, minSamples: config.baselineMinSamples },
        logger: logger.child({ component: 'tenant-stage' }),
      });
      await tenantStage.start();
      metrics.observeTenantStage(tenantStage.stats);
      metrics.observeDeadLetters(tenantStage.poison.counts);
      stages.push(tenantStage.health);
      const started = tenantStage;
      closers.push(() => started.stop());
    }

    let traceStage: TraceStage | null = null;
    let calibrationReader: CalibrationReader | null = null;
    if (has('trace')) {
      const calibration = new CalibrationReader({ log, codecs, instanceId, logger: logger.child({ component: 'calibration-reader' }) });
      await calibration.start();
      calibrationReader = calibration;
      metrics.observeDeadLetters(calibration.poison.counts);
      stages.push(calibration.health);
      closers.push(() => calibration.stop());
      traceStage = new TraceStage({
        calibration,
        log,
        codecs,
        detectors: createDetectors(config.detectorSettings),
        pipelineVersion: pipelineVersion(config.detectorSettings),
        inactivityGapMs: config.inactivityGapMs,
        latenessHorizonMs: config.latenessHorizonMs,
        rootSettleMs: config.rootSettleMs,
        windowMaxSpans: config.windowMaxSpans,
        windowMaxBytes: config.windowMaxBytes,
        liveDetection: config.liveDetection,
        detectorRuns: metrics.detectorRuns,
        tombstoneRetentionMs: TOMBSTONE_RETENTION_MS,
        logger: logger.child({ component: 'trace-stage' }),
      });
      await traceStage.start();
      const stage = traceStage;
      metrics.observeTraceStage(stage.stats, () => stage.openWindows, () => stage.lag());
      metrics.observeDeadLetters(stage.poison.counts);
      stages.push(stage.health);
      const started = traceStage;
      closers.push(() => started.stop());
    }

    const limits = createIngestLimits(config);
    if (has('ingest')) metrics.observeIngestLimits(limits);
    const queries = views === null ? null : new ViewQueries(views.readStore, codecs);
    // Replay runs live with the API: their diff reads the views. They use the live stage's
    // window settings and, when this process has it, its calibration.
    const replays =
      queries === null || !has('api')
        ? undefined
        : new ReplayRuns({
            log,
            codecs,
            queries,
            defaultSettings: config.detectorSettings,
            // A promotion of many traces is many records for the views to apply: more time than a request's.
            catchUp: (topics) => views!.catchUp(topics, PROMOTION_VISIBLE_TIMEOUT_MS),
            stage: {
              log,
              codecs,
              inactivityGapMs: config.inactivityGapMs,
              latenessHorizonMs: config.latenessHorizonMs,
              rootSettleMs: config.rootSettleMs,
              windowMaxSpans: config.windowMaxSpans,
              windowMaxBytes: config.windowMaxBytes,
              tombstoneRetentionMs: TOMBSTONE_RETENTION_MS,
              calibration: { shiftOf: (tenantId, detectorId) => (calibrationReader === null ? 0 : calibrationReader.shiftOf(tenantId, detectorId)) },
              logger: logger.child({ component: 'replay' }),
            },
            logger: logger.child({ component: 'replay' }),
          });
    const ctx: AppContext | null =
      views === null || queries === null
        ? null
        : {
            ...base,
            views,
            queries,
            ...(replays === undefined ? {} : { replays }),
            tokens: new TokenService(config.jwtSecret ?? (await keptInDataDir(config, 'jwt-secret', () => randomBytes(48).toString('base64url'))), config.tokenTtlSeconds),
            readYourWritesTimeoutMs: 10_000,
            limits,
          };
    if (replays !== undefined) {
      await replays.open();
      closers.push(() => replays.close());
    }
    const app = buildApp(base, ctx, { ingest: has('ingest'), api: has('api') }, role === 'all' ? ['ingest', 'trace', 'tenant', 'api'] : [role]);
    const url = await app.listen({ port: config.port, host: config.host });
    closers.push(() => app.close());
    // node and code say what runs: the Node version, and this module's file (dist/…js when
    // compiled, src/…ts under tsx).
    logger.info(
      { url, role, instanceId, dataDir: config.dataDir, pipeline: pipelineVersion(config.detectorSettings), log: log.kind, node: process.version, code: fileURLToPath(import.meta.url) },
      'tracefold started',
    );

    let closing: Promise<void> | null = null;
    const consumers = [traceStage?.done, tenantStage?.done, views === null ? undefined : viewsJoined.then(() => views.done)].filter(
      (d): d is Promise<void> => d !== undefined,
    );
    const failed = new Promise<never>((_resolve, reject) => {
      for (const done of consumers) done.catch(reject);
    });
    failed.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
    return { app, log, traceStage, tenantStage, views, url, failed, close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
