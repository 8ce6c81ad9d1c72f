/**
 * Where the Kafka broker for tests is, as decided once by the global setup
 * (test/global-setup.ts): `KAFKA_BROKERS` if set, else a testcontainers broker when a
 * container runtime answers, else the local JVM broker of scripts/kafka.sh. When none is
 * possible the Kafka suites are skipped with a loud message, except under
 * TRACEFOLD_REQUIRE_KAFKA=1 (CI), where the global setup fails instead.
 */
import { describe, inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated bootstrap servers, or '' when no broker is available. */
    kafkaBrokers: string;
    /** Confluent-compatible schema registry URL (…/apis/ccompat/v7), or '' when none. */
    schemaRegistryUrl: string;
  }
}

export function kafkaBrokers(): string[] {
  const value = inject('kafkaBrokers');
  return value ? value.split(',') : [];
}

export function schemaRegistryUrl(): string | null {
  return inject('schemaRegistryUrl') || null;
}

/**
 * TRACEFOLD_SCHEMA_REGISTRY_URL for a tracefold process on the suite's broker: the run's
 * registry, when it has one. Every test file's processes share the broker's topics, so
 * they are one deployment and must agree: a process without the registry refuses to
 * start once another has written through it (src/cli/schema-id-check.ts).
 */
export function registryEnv(): Record<string, string> {
  const url = schemaRegistryUrl();
  return url === null ? {} : { TRACEFOLD_SCHEMA_REGISTRY_URL: url };
}

/** `describe` when a broker is available, `describe.skip` otherwise (the setup said why). */
export const describeKafka: typeof describe = (kafkaBrokers().length > 0 ? describe : describe.skip) as typeof describe;
