/**
 * Chooses the Kafka broker for the test run once (see test/support/kafka.ts). Until the
 * broker selection with testcontainers and the local JVM broker lands, it honours
 * KAFKA_BROKERS only.
 */
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject): void {
  const brokers = process.env.KAFKA_BROKERS ?? '';
  project.provide('kafkaBrokers', brokers);
  project.provide('schemaRegistryUrl', process.env.SCHEMA_REGISTRY_URL ?? '');
}
