/**
 * What the HTTP layer is given: the log to write to, the views to read from, and the
 * credentials services. Built once per process in src/cli/runtime.ts.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { IngestLimits } from '../ingest/limits/index.js';
import type { Log } from '../log/port.js';
import type { Codecs } from '../log/serde/index.js';
import type { StageHealth } from '../runtime/health.js';
import type { ReplayRuns } from '../replay/replay-runs.js';
import type { ViewQueries } from '../views/queries.js';
import type { Views } from '../views/views.js';
import type { TokenService } from './credentials.js';
import type { Metrics } from './metrics/metrics.js';

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

/** What a process serving tenant routes has: views to read and credentials to check. */
export interface AppContext extends BaseContext {
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
