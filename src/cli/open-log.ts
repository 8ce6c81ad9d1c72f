/**
 * The one place that chooses the transport: Kafka when brokers are configured, the
 * embedded log otherwise. Nothing else in tracefold knows which it runs on.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { createEmbeddedLog } from '../log/embedded/index.js';
import { createKafkaLog } from '../log/kafka/index.js';
import type { Log } from '../log/port.js';

export async function openLog(config: Config, instanceId: string, logger: Logger): Promise<Log> {
  if (config.kafkaBrokers === null) return createEmbeddedLog({ dataDir: config.dataDir, sync: config.logSync, logger });
  return createKafkaLog({
    brokers: [...config.kafkaBrokers],
    clientId: `tracefold-${instanceId}`,
    instanceId,
    dataDir: config.dataDir,
    logger,
    connectionTimeoutMs: config.kafka.connectionTimeoutMs,
    requestTimeoutMs: config.kafka.requestTimeoutMs,
    transactionTimeoutMs: config.kafka.transactionTimeoutMs,
    consumer: {
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
      rebalanceTimeoutMs: config.kafka.rebalanceTimeoutMs,
    },
    replication: {
      ...(config.kafka.replicationFactor === null ? {} : { replicationFactor: config.kafka.replicationFactor }),
      ...(config.kafka.minInsyncReplicas === null ? {} : { minInsyncReplicas: config.kafka.minInsyncReplicas }),
    },
  });
}
