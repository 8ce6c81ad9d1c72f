/**
 * What the HTTP layer is given: the log to write to, the views to read from, and the
 * credentials services. Built once per process in src/cli/runtime.ts.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { IngestLimits } from './limits/index.js';
import type { Log, LogAppender } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import type { StageHealth } from '../runtime/health.js';
import type { ReplayRuns } from '../replay/replay-runs.js';
import type { ViewQueries } from '../views/queries.js';
import type { Views } from '../views/views.js';
import type { TokenService } from './credentials.js';
import type { Metrics } from './prometheus/metrics.js';

/** What every process has, whatever its roles. */
export interface BaseContext {
  readonly config: Config;
  readonly log: Log;
  readonly codecs: Codecs;
  readonly logger: Logger;
  /** The process's Prometheus registry and instruments, served at /metrics. */
  readonly metrics: Metrics;
  /** The consumers this process runs; /readyz is 503 while one of them has failed. */
  readonly stages?: readonly StageHealth[];
}

/**
 * What a process serving tenant routes has: views to read and credentials to check. `L` is
 * the part of the log a route may use: all of it for the API, appends only for ingest.
 */
export interface AppContext<L extends LogAppender = Log> extends Omit<BaseContext, 'log'> {
  readonly log: L;
  readonly views: Views;
  readonly queries: ViewQueries;
  readonly tokens: TokenService;
  /** Per-tenant rate limit and the in-flight byte bound of ingest, per process. */
  readonly limits: IngestLimits;
  /** How long a request waits for the pipeline to reflect its own write. */
  readonly readYourWritesTimeoutMs: number;
  /** Replay runs, in a process that serves the API. */
  readonly replays?: ReplayRuns;
}

/**
 * What ingest routes are given: the app context with a log they can only append to, through
 * the process's in-flight byte budget (limits/bounded-log.ts). Helpers that serve both
 * ingest and the API (authentication, route declarations, read-your-writes) take this.
 */
export type IngestContext = AppContext<LogAppender>;
