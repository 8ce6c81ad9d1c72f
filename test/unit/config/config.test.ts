import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

/** The problems loadConfig reports for `env`; fails the test if it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`configuration was accepted: ${JSON.stringify(env)}`);
}

/** The variable each problem names (problems read `NAME="value": message`). */
const namedKeys = (problems: readonly string[]) => problems.map((p) => p.slice(0, p.indexOf('=')));

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 4318,
      host: '127.0.0.1',
      dataDir: path.resolve('./.tracefold'),
      kafka: {
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1000,
        rebalanceTimeoutMs: 30_000,
        connectionTimeoutMs: 3000,
        requestTimeoutMs: 10_000,
        transactionTimeoutMs: 60_000,
        replicationFactor: null,
        minInsyncReplicas: null,
      },
      kafkaBrokers: null,
      schemaRegistryUrl: null,
      instanceId: null,
      adminToken: null,
      jwtSecret: null,
      tokenTtlSeconds: 3600,
      inactivityGapMs: 30_000,
      latenessHorizonMs: 3_600_000,
      rootSettleMs: 5000,
      windowMaxSpans: 10_000,
      windowMaxBytes: 64 * 1024 * 1024,
      liveDetection: true,
      readyMaxViewLag: 10_000,
      baselineSigma: 2,
      baselineMinSamples: 10,
      maxBodyBytes: 10 * 1024 * 1024,
      tracingMaxBodyBytes: 10 * 1024 * 1024,
      openIngestTenant: null,
      rateLimitSpansPerSecond: 50_000,
      rateLimitBurstSpans: 100_000,
      ingestInflightBytes: 64 * 1024 * 1024,
      logSync: 'fsync',
      logLevel: 'info',
      detectorSettings: {},
    });
  });

  it('reads detector settings from TRACEFOLD_DETECTORS or from the file TRACEFOLD_DETECTORS_FILE names', () => {
    const settings = { loop: { minRepeats: 5 }, persona_drift: { enabled: false } };
    expect(loadConfig({ TRACEFOLD_DETECTORS: JSON.stringify(settings) }).detectorSettings).toEqual(settings);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracefold-config-'));
    const file = path.join(dir, 'detectors.json');
    fs.writeFileSync(file, JSON.stringify(settings));
    try {
      expect(loadConfig({ TRACEFOLD_DETECTORS_FILE: file }).detectorSettings).toEqual(settings);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses detector settings that are not JSON, name an unknown detector or field, or break a rule, saying where', () => {
    expect(problemsOf({ TRACEFOLD_DETECTORS: '{loop' })).toEqual([expect.stringMatching(/^TRACEFOLD_DETECTORS: not valid JSON/)]);
    expect(problemsOf({ TRACEFOLD_DETECTORS: '{"lop":{}}' })).toEqual([expect.stringMatching(/^TRACEFOLD_DETECTORS: detector lop: no such detector/)]);
    expect(problemsOf({ TRACEFOLD_DETECTORS: '{"loop":{"minRepeat":5}}' })).toEqual([
      expect.stringMatching(/^TRACEFOLD_DETECTORS: detector loop: minRepeat: unknown setting/),
    ]);
    expect(problemsOf({ TRACEFOLD_DETECTORS: '{"loop":{"minRepeats":1}}' })).toEqual([expect.stringMatching(/^TRACEFOLD_DETECTORS: detector loop: minRepeats:/)]);
    expect(problemsOf({ TRACEFOLD_DETECTORS_FILE: '/nonexistent/detectors.json' })).toEqual([
      expect.stringMatching(/^TRACEFOLD_DETECTORS_FILE="\/nonexistent\/detectors.json": cannot read the file \(ENOENT\)/),
    ]);
    expect(problemsOf({ TRACEFOLD_DETECTORS: '{}', TRACEFOLD_DETECTORS_FILE: 'x.json' })).toEqual([expect.stringMatching(/set either it or TRACEFOLD_DETECTORS, not both/)]);
  });

  it('reads and converts set variables', () => {
    const config = loadConfig({
      TRACEFOLD_PORT: ' 8080 ',
      TRACEFOLD_HOST: '0.0.0.0',
      TRACEFOLD_DATA_DIR: '/var/lib/tracefold',
      TRACEFOLD_KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      TRACEFOLD_ADMIN_TOKEN: 'a-long-enough-admin-token',
      TRACEFOLD_JWT_SECRET: 's'.repeat(32),
      TRACEFOLD_INACTIVITY_GAP_MS: '100',
      TRACEFOLD_LOG_LEVEL: 'debug',
      TRACEFOLD_LOG_SYNC: 'none',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/var/lib/tracefold',
      kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      adminToken: 'a-long-enough-admin-token',
      jwtSecret: 's'.repeat(32),
      inactivityGapMs: 100,
      logLevel: 'debug',
      logSync: 'none',
    });
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ TRACEFOLD_PORTT: 'x', PATH: '/bin' }).port).toBe(4318);
  });

  it.each([
    ['a non-numeric port', { TRACEFOLD_PORT: 'http' }, 'TRACEFOLD_PORT'],
    ['a negative port', { TRACEFOLD_PORT: '-1' }, 'TRACEFOLD_PORT'],
    ['a fractional port', { TRACEFOLD_PORT: '80.5' }, 'TRACEFOLD_PORT'],
    ['a port out of range', { TRACEFOLD_PORT: '65536' }, 'TRACEFOLD_PORT'],
    ['a gap below the minimum', { TRACEFOLD_INACTIVITY_GAP_MS: '99' }, 'TRACEFOLD_INACTIVITY_GAP_MS'],
    ['a negative root settle time', { TRACEFOLD_ROOT_SETTLE_MS: '-5' }, 'TRACEFOLD_ROOT_SETTLE_MS'],
    ['a root settle time above a day', { TRACEFOLD_ROOT_SETTLE_MS: '86400001' }, 'TRACEFOLD_ROOT_SETTLE_MS'],
    ['a zero span cap', { TRACEFOLD_WINDOW_MAX_SPANS: '0' }, 'TRACEFOLD_WINDOW_MAX_SPANS'],
    ['a byte cap below 1 KiB', { TRACEFOLD_WINDOW_MAX_BYTES: '1000' }, 'TRACEFOLD_WINDOW_MAX_BYTES'],
    ['a bad log level', { TRACEFOLD_LOG_LEVEL: 'verbose' }, 'TRACEFOLD_LOG_LEVEL'],
    ['a short admin token', { TRACEFOLD_ADMIN_TOKEN: 'short' }, 'TRACEFOLD_ADMIN_TOKEN'],
    ['a short JWT secret', { TRACEFOLD_JWT_SECRET: 'x'.repeat(31) }, 'TRACEFOLD_JWT_SECRET'],
    ['a bad log sync mode', { TRACEFOLD_LOG_SYNC: 'sometimes' }, 'TRACEFOLD_LOG_SYNC'],
    ['a bad live detection switch', { TRACEFOLD_LIVE_DETECTION: 'yes' }, 'TRACEFOLD_LIVE_DETECTION'],
  ])('rejects %s, naming the variable', (_label, env, key) => {
    const problems = problemsOf(env);
    expect(namedKeys(problems)).toEqual([key]);
  });

  it('reads the window limits', () => {
    const config = loadConfig({ TRACEFOLD_ROOT_SETTLE_MS: '0', TRACEFOLD_WINDOW_MAX_SPANS: '500', TRACEFOLD_WINDOW_MAX_BYTES: '1048576' });
    expect(config).toMatchObject({ rootSettleMs: 0, windowMaxSpans: 500, windowMaxBytes: 1_048_576 });
  });

  it('turns live detection off', () => {
    expect(loadConfig({ TRACEFOLD_LIVE_DETECTION: 'off' }).liveDetection).toBe(false);
  });

  it('quotes the bad value and explains the rule', () => {
    const [problem] = problemsOf({ TRACEFOLD_PORT: 'http' });
    expect(problem).toBe('TRACEFOLD_PORT="http": must be a whole number');
    const [range] = problemsOf({ TRACEFOLD_PORT: '70000' });
    expect(range).toMatch(/^TRACEFOLD_PORT="70000": .*65535/);
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        TRACEFOLD_PORT: 'http',
        TRACEFOLD_INACTIVITY_GAP_MS: '50',
        TRACEFOLD_LOG_LEVEL: 'verbose',
        TRACEFOLD_ADMIN_TOKEN: 'short',
        TRACEFOLD_HOST: 'localhost',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message, name } = error as ConfigError;
    expect(name).toBe('ConfigError');
    expect([...namedKeys(problems)].sort()).toEqual([
      'TRACEFOLD_ADMIN_TOKEN',
      'TRACEFOLD_INACTIVITY_GAP_MS',
      'TRACEFOLD_LOG_LEVEL',
      'TRACEFOLD_PORT',
    ]);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it('names a bad secret without echoing it', () => {
    try {
      loadConfig({ TRACEFOLD_ADMIN_TOKEN: 'short-secret', TRACEFOLD_JWT_SECRET: 'also-short' });
      expect.unreachable('loadConfig accepted short secrets');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('TRACEFOLD_ADMIN_TOKEN=(hidden): must be at least 16 characters');
      expect(message).toContain('TRACEFOLD_JWT_SECRET=(hidden)');
      expect(message).not.toContain('short-secret');
      expect(message).not.toContain('also-short');
    }
  });

  it('drops empty entries from the broker list', () => {
    expect(loadConfig({ TRACEFOLD_KAFKA_BROKERS: 'a:9092, ,b:9092,', TRACEFOLD_JWT_SECRET: 's'.repeat(32) }).kafkaBrokers).toEqual([
      'a:9092',
      'b:9092',
    ]);
  });

  it('requires a shared JWT secret in Kafka mode, where processes verify each other\'s tokens', () => {
    expect(() => loadConfig({ TRACEFOLD_KAFKA_BROKERS: 'a:9092' })).toThrow(/TRACEFOLD_JWT_SECRET: must be set when TRACEFOLD_KAFKA_BROKERS is/);
  });

  it('reads the schema registry URL and the instance id, refusing malformed ones', () => {
    const config = loadConfig({ TRACEFOLD_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7', TRACEFOLD_INSTANCE_ID: 'api-1' });
    expect(config.schemaRegistryUrl).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.instanceId).toBe('api-1');
    expect(() => loadConfig({ TRACEFOLD_SCHEMA_REGISTRY_URL: 'ftp://x' })).toThrow(/TRACEFOLD_SCHEMA_REGISTRY_URL/);
    expect(() => loadConfig({ TRACEFOLD_INSTANCE_ID: 'has space' })).toThrow(/TRACEFOLD_INSTANCE_ID/);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({
      TRACEFOLD_PORT: '',
      TRACEFOLD_HOST: '',
      TRACEFOLD_ADMIN_TOKEN: '',
      TRACEFOLD_JWT_SECRET: '',
      TRACEFOLD_KAFKA_BROKERS: '',
      TRACEFOLD_LOG_LEVEL: '',
    });
    expect(config).toMatchObject({ port: 4318, host: '127.0.0.1', adminToken: null, jwtSecret: null, kafkaBrokers: null, logLevel: 'info' });
  });

  it('defaults the Kafka group timings so that a dead member loses its partitions within ten seconds', () => {
    expect(loadConfig({}).kafka).toEqual({
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      rebalanceTimeoutMs: 30_000,
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 10_000,
      transactionTimeoutMs: 60_000,
      replicationFactor: null,
      minInsyncReplicas: null,
    });
    const set = loadConfig({
      TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS: '6000',
      TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS: '2000',
      TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS: '6000',
      TRACEFOLD_KAFKA_REQUEST_TIMEOUT_MS: '5000',
      TRACEFOLD_KAFKA_REPLICATION_FACTOR: '3',
      TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS: '2',
    });
    expect(set.kafka).toMatchObject({ sessionTimeoutMs: 6000, heartbeatIntervalMs: 2000, requestTimeoutMs: 5000, replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('refuses Kafka settings that cannot work together, naming the variable', () => {
    expect(() => loadConfig({ TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS: '3000', TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS: '1500' })).toThrow(
      /TRACEFOLD_KAFKA_HEARTBEAT_INTERVAL_MS: must be at most a third/,
    );
    expect(() => loadConfig({ TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS: '45000' })).toThrow(/TRACEFOLD_KAFKA_REBALANCE_TIMEOUT_MS: must be at least/);
    expect(() => loadConfig({ TRACEFOLD_KAFKA_REPLICATION_FACTOR: '2', TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS: '3' })).toThrow(/TRACEFOLD_KAFKA_MIN_INSYNC_REPLICAS: must not exceed/);
    expect(() => loadConfig({ TRACEFOLD_KAFKA_REPLICATION_FACTOR: '0' })).toThrow(/TRACEFOLD_KAFKA_REPLICATION_FACTOR/);
    expect(() => loadConfig({ TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS: '10s' })).toThrow(/TRACEFOLD_KAFKA_SESSION_TIMEOUT_MS="10s": must be a whole number/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(4318);
  });

  it('applies overrides after validation, still frozen', () => {
    const config = loadConfig({ TRACEFOLD_PORT: '9000' }, { port: 0 });
    expect(config.port).toBe(0);
    expect(Object.isFrozen(config)).toBe(true);
  });
});
