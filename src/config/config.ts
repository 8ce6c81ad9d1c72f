/**
 * Configuration from environment variables, validated once at start and frozen. Every
 * error names the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { detectorSetup } from '../detectors/registry.js';
import { parseDetectorSettings, type DetectorSettings } from '../detectors/settings.js';

const intFrom = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  TRACEFOLD_PORT: intFrom(0, 65535).default(4318),
  TRACEFOLD_HOST: z.string().trim().min(1).default('127.0.0.1'),
  TRACEFOLD_DATA_DIR: z.string().trim().min(1).default('./.tracefold'),
  TRACEFOLD_KAFKA_BROKERS: z.string().trim().min(1).optional(),
  TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS: intFrom(1000, 3_600_000).default(10_000),
  TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS: intFrom(100, 3_600_000).default(1000),
  TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS: intFrom(1000, 3_600_000).default(30_000),
  TRACEFOLD_KAFKA_CONNECTION_TIMEOUT_MS: intFrom(100, 600_000).default(3000),
  TRACEFOLD_KAFKA_REQUEST_TIMEOUT_MS: intFrom(100, 600_000).default(10_000),
  TRACEFOLD_KAFKA_TRANSACTION_TIMEOUT_MS: intFrom(1000, 900_000).default(60_000),
  TRACEFOLD_KAFKA_REPLICATION_FACTOR: intFrom(1, 32_767).optional(),
  TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS: intFrom(1, 32_767).optional(),
  TRACEFOLD_SCHEMA_REGISTRY_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TRACEFOLD_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
    .optional(),
  TRACEFOLD_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TRACEFOLD_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TRACEFOLD_TOKEN_TTL_S: intFrom(60, 86_400).default(3600),
  TRACEFOLD_INACTIVITY_GAP_MS: intFrom(100, 86_400_000).default(30_000),
  TRACEFOLD_LATENESS_HORIZON_MS: intFrom(0, 7 * 86_400_000).default(3_600_000),
  TRACEFOLD_ROOT_SETTLE_MS: intFrom(0, 86_400_000).default(5000),
  TRACEFOLD_WINDOW_MAX_SPANS: intFrom(1, 100_000_000).default(10_000),
  TRACEFOLD_WINDOW_MAX_BYTES: intFrom(1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  TRACEFOLD_MAX_BODY_BYTES: intFrom(1024, 512 * 1024 * 1024).default(10 * 1024 * 1024),
  /** Cognipeer Console's own variable, for its paths only: megabytes, fractions allowed. */
  /** Local demos only: ingest without credentials goes to this tenant. Off unless set. */
  TRACEFOLD_OPEN_INGEST_TENANT: z.string().regex(/^[A-Za-z0-9._-]{1,256}$/, 'must be a tenant id').optional(),
  TRACING_MAX_BODY_SIZE_MB: z.coerce.number().min(0.001, 'must be at least 0.001').max(512, 'must be at most 512').default(10),
  TRACEFOLD_RATE_LIMIT_SPANS_PER_S: intFrom(0, 1_000_000_000).default(50_000),
  TRACEFOLD_RATE_LIMIT_BURST_SPANS: intFrom(0, 1_000_000_000).default(100_000),
  TRACEFOLD_INGEST_INFLIGHT_BYTES: intFrom(1024, 64 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  TRACEFOLD_LIVE_DETECTION: z.enum(['on', 'off']).default('on'),
  TRACEFOLD_READY_MAX_VIEW_LAG: intFrom(0, 1_000_000_000).default(10_000),
  TRACEFOLD_BASELINE_SIGMA: z.coerce.number().min(0.5, 'must be at least 0.5').max(100, 'must be at most 100').default(2.0),
  TRACEFOLD_BASELINE_MIN_SAMPLES: intFrom(2, 1_000_000).default(10),
  TRACEFOLD_LOG_SYNC: z.enum(['fsync', 'none']).default('fsync'),
  TRACEFOLD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRACEFOLD_DETECTORS: z.string().trim().min(1).optional(),
  TRACEFOLD_DETECTORS_FILE: z.string().trim().min(1).optional(),
});

const SECRET_KEYS = new Set(['TRACEFOLD_ADMIN_TOKEN', 'TRACEFOLD_JWT_SECRET']);

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly kafkaBrokers: readonly string[] | null;
  /** Kafka client settings; used only when kafkaBrokers is set. */
  readonly kafka: KafkaSettings;
  /** Confluent-compatible registry (…/apis/ccompat/v7 for Apicurio); null: locally derived schema ids. */
  readonly schemaRegistryUrl: string | null;
  /** Names this process among its peers (transactional ids, its own view group); kept in the data dir when unset. */
  readonly instanceId: string | null;
  readonly adminToken: string | null;
  readonly jwtSecret: string | null;
  readonly tokenTtlSeconds: number;
  readonly inactivityGapMs: number;
  readonly latenessHorizonMs: number;
  /** A window closes this long (stream time) after its root span arrived, unless the inactivity gap comes first. */
  readonly rootSettleMs: number;
  /** A window holding this many spans closes at once, marked truncated. */
  readonly windowMaxSpans: number;
  /** A window holding this many bytes of raw record values closes at once, marked truncated. */
  readonly windowMaxBytes: number;
  /** /readyz answers 503 while the views lag more records than this behind the log. */
  readonly readyMaxViewLag: number;
  /** Detectors that support it fire while a window is open (live detections). */
  readonly liveDetection: boolean;
  /** A trace beyond this many standard deviations of its baseline is an anomaly. */
  readonly baselineSigma: number;
  /** Traces a baseline must have seen before it judges one. */
  readonly baselineMinSamples: number;
  readonly maxBodyBytes: number;
  /** Body limit of Cognipeer Console's paths (/api/client/v1/...), from TRACING_MAX_BODY_SIZE_MB. */
  readonly tracingMaxBodyBytes: number;
  /** Tenant of ingest requests that carry no credential (TRACEFOLD_OPEN_INGEST_TENANT); null: off. */
  readonly openIngestTenant: string | null;
  /** Per-tenant ingest rate, in spans per second, per ingest process; 0 disables the limit. */
  readonly rateLimitSpansPerSecond: number;
  /** Spans a tenant may send at once above the steady rate; 0 disables the limit. */
  readonly rateLimitBurstSpans: number;
  /** Encoded bytes of appends in flight per process; above it ingest answers 503. */
  readonly ingestInflightBytes: number;
  /** fsync: appends are acknowledged after the WAL is on disk; none: after it is in the page cache. */
  readonly logSync: 'fsync' | 'none';
  readonly logLevel: string;
  /** Which detectors run and their thresholds (src/detectors/settings.ts); {}: all, with their defaults. */
  readonly detectorSettings: DetectorSettings;
}

export interface KafkaSettings {
  /** A group member silent for this long is removed and its partitions move to the others. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How long a rebalance waits for every member to rejoin. */
  readonly rebalanceTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  /** One request's timeout, and the broker's wait for in-sync replicas on an append. */
  readonly requestTimeoutMs: number;
  /** An open transaction older than this is aborted by its coordinator. */
  readonly transactionTimeoutMs: number;
  /** Replicas of each topic created; null: 3, or 1 on a one-broker cluster. */
  readonly replicationFactor: number | null;
  /** min.insync.replicas of each topic; null: 2, or 1 on a one-broker cluster. */
  readonly minInsyncReplicas: number | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]);
        // Secrets are named, never echoed: this message goes to logs.
        const shown = SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(picked[key] ?? '');
        return `${key}=${shown}: ${issue.message}`;
      }),
    );
  }
  const v = parsed.data;
  if (v.TRACEFOLD_KAFKA_BROKERS !== undefined && v.TRACEFOLD_JWT_SECRET === undefined) {
    // Every process must verify the tokens any other process issued.
    throw new ConfigError(['TRACEFOLD_JWT_SECRET: must be set when TRACEFOLD_KAFKA_BROKERS is (all processes share it)']);
  }
  const problems: string[] = [];
  if (v.TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS * 3 > v.TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS) {
    problems.push('TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS: must be at most a third of TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS (a member must get several heartbeats in per session)');
  }
  if (v.TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS > v.TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS) {
    problems.push('TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS: must be at least TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS');
  }
  if (v.TRACEFOLD_KAFKA_REPLICATION_FACTOR !== undefined && v.TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS !== undefined && v.TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS > v.TRACEFOLD_KAFKA_REPLICATION_FACTOR) {
    problems.push('TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS: must not exceed TRACEFOLD_KAFKA_REPLICATION_FACTOR (no append could ever succeed)');
  }
  const detectorSettings = readDetectorSettings(v.TRACEFOLD_DETECTORS, v.TRACEFOLD_DETECTORS_FILE, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port: v.TRACEFOLD_PORT,
    host: v.TRACEFOLD_HOST,
    dataDir: path.resolve(v.TRACEFOLD_DATA_DIR),
    kafkaBrokers: v.TRACEFOLD_KAFKA_BROKERS
      ? v.TRACEFOLD_KAFKA_BROKERS.split(',')
          .map((b) => b.trim())
          .filter((b) => b !== '')
      : null,
    kafka: Object.freeze({
      sessionTimeoutMs: v.TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: v.TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS,
      rebalanceTimeoutMs: v.TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS,
      connectionTimeoutMs: v.TRACEFOLD_KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: v.TRACEFOLD_KAFKA_REQUEST_TIMEOUT_MS,
      transactionTimeoutMs: v.TRACEFOLD_KAFKA_TRANSACTION_TIMEOUT_MS,
      replicationFactor: v.TRACEFOLD_KAFKA_REPLICATION_FACTOR ?? null,
      minInsyncReplicas: v.TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS ?? null,
    }),
    schemaRegistryUrl: v.TRACEFOLD_SCHEMA_REGISTRY_URL ?? null,
    instanceId: v.TRACEFOLD_INSTANCE_ID ?? null,
    adminToken: v.TRACEFOLD_ADMIN_TOKEN ?? null,
    jwtSecret: v.TRACEFOLD_JWT_SECRET ?? null,
    tokenTtlSeconds: v.TRACEFOLD_TOKEN_TTL_S,
    inactivityGapMs: v.TRACEFOLD_INACTIVITY_GAP_MS,
    latenessHorizonMs: v.TRACEFOLD_LATENESS_HORIZON_MS,
    rootSettleMs: v.TRACEFOLD_ROOT_SETTLE_MS,
    windowMaxSpans: v.TRACEFOLD_WINDOW_MAX_SPANS,
    windowMaxBytes: v.TRACEFOLD_WINDOW_MAX_BYTES,
    liveDetection: v.TRACEFOLD_LIVE_DETECTION === 'on',
    readyMaxViewLag: v.TRACEFOLD_READY_MAX_VIEW_LAG,
    baselineSigma: v.TRACEFOLD_BASELINE_SIGMA,
    baselineMinSamples: v.TRACEFOLD_BASELINE_MIN_SAMPLES,
    maxBodyBytes: v.TRACEFOLD_MAX_BODY_BYTES,
    tracingMaxBodyBytes: Math.round(v.TRACING_MAX_BODY_SIZE_MB * 1024 * 1024),
    openIngestTenant: v.TRACEFOLD_OPEN_INGEST_TENANT ?? null,
    rateLimitSpansPerSecond: v.TRACEFOLD_RATE_LIMIT_SPANS_PER_S,
    rateLimitBurstSpans: v.TRACEFOLD_RATE_LIMIT_BURST_SPANS,
    ingestInflightBytes: v.TRACEFOLD_INGEST_INFLIGHT_BYTES,
    logSync: v.TRACEFOLD_LOG_SYNC,
    logLevel: v.TRACEFOLD_LOG_LEVEL,
    detectorSettings,
    ...overrides,
  });
}

/**
 * Detector settings from TRACEFOLD_DETECTORS (the JSON itself) or TRACEFOLD_DETECTORS_FILE
 * (a JSON file), checked against every detector's schema now so that a bad threshold
 * stops the start, naming the variable, the detector and the field.
 */
function readDetectorSettings(inline: string | undefined, file: string | undefined, problems: string[]): DetectorSettings {
  if (inline !== undefined && file !== undefined) {
    problems.push('TRACEFOLD_DETECTORS_FILE: set either it or TRACEFOLD_DETECTORS, not both');
    return {};
  }
  let source: string;
  let text: string;
  if (inline !== undefined) {
    source = 'TRACEFOLD_DETECTORS';
    text = inline;
  } else if (file !== undefined) {
    source = `TRACEFOLD_DETECTORS_FILE=${JSON.stringify(file)}`;
    try {
      text = fs.readFileSync(path.resolve(file), 'utf8');
    } catch (err) {
      problems.push(`${source}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return {};
    }
  } else {
    return {};
  }
  try {
    const settings = parseDetectorSettings(text, source);
    detectorSetup(settings);
    return settings;
  } catch (err) {
    const message = (err as Error).message;
    problems.push(message.startsWith(source) ? message : `${source}: ${message}`);
    return {};
  }
}
