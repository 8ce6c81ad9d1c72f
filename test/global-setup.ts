/**
 * Chooses, once per run, the Kafka broker and the schema registry the suites use (see
 * test/support/kafka.ts). Each is the first of these that works:
 *
 *   Kafka:    KAFKA_BROKERS → a testcontainers broker (when a container runtime answers)
 *             → the local JVM broker of scripts/kafka.sh on 127.0.0.1:19192
 *   registry: SCHEMA_REGISTRY_URL → Apicurio from scripts/registry.sh on 127.0.0.1:18181
 *             → an Apicurio container (when a container runtime answers)
 *
 * Both are started side by side. Whatever this setup started, it stops at the end of the run.
 * When neither can be had, the suites needing it are skipped with a loud warning, except under
 * TRACEFOLD_REQUIRE_KAFKA=1 (CI), where the run fails with the reasons.
 */
import type { TestProject } from 'vitest/node';
import { containerKafka } from './support/brokers/container-kafka.js';
import { containerRegistry } from './support/brokers/container-registry.js';
import { localKafka } from './support/brokers/local-kafka.js';
import { localRegistry } from './support/brokers/local-registry.js';
import { choose, fromEnv, messageOf, type Choice } from './support/brokers/strategy.js';

const REQUIRED = process.env.TRACEFOLD_REQUIRE_KAFKA === '1';

interface Need {
  readonly what: string;
  readonly skipped: string;
  readonly remedy: string;
}

const KAFKA: Need = {
  what: 'Kafka broker',
  skipped: 'the Kafka suites are SKIPPED',
  remedy: 'Set KAFKA_BROKERS=host:port, start a container runtime (Docker, Podman), or install Java 17+ and Maven.',
};
const REGISTRY: Need = {
  what: 'schema registry',
  skipped: 'the schema registry suites are SKIPPED',
  remedy: 'Set SCHEMA_REGISTRY_URL=http://host:port/apis/ccompat/v7, install Java 21+ and Maven, or start a container runtime.',
};

function report(need: Need, choice: Choice): string {
  if (choice.found !== null) {
    const passed = choice.passedOver.length > 0 ? `; passed over: ${choice.passedOver.join('; ')}` : '';
    return `[global-setup] ${need.what}: ${choice.found.value} (${choice.found.how}${passed})`;
  }
  return `[global-setup] ${need.what}: none`;
}

function banner(need: Need, choice: Choice): string {
  const rule = '!'.repeat(78);
  return [
    '',
    rule,
    `!! NO ${need.what.toUpperCase()}: ${need.skipped}.`,
    ...choice.passedOver.map((reason) => `!!   ${reason}`),
    `!! ${need.remedy}`,
    '!! CI runs with TRACEFOLD_REQUIRE_KAFKA=1, which turns this into a failure.',
    rule,
    '',
  ].join('\n');
}

async function stopAll(choices: readonly Choice[]): Promise<void> {
  const stops = choices.flatMap((choice) => (choice.found?.stop === undefined ? [] : [choice.found.stop()]));
  const results = await Promise.allSettled(stops);
  for (const result of results) {
    if (result.status === 'rejected') console.error(`[global-setup] ${messageOf(result.reason)}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [kafka, registry] = await Promise.all([
    choose([fromEnv('KAFKA_BROKERS'), containerKafka(), localKafka()]),
    choose([fromEnv('SCHEMA_REGISTRY_URL'), localRegistry(), containerRegistry()]),
  ]);
  const choices = [kafka, registry];

  const missing = ([[KAFKA, kafka], [REGISTRY, registry]] as const).filter(([, choice]) => choice.found === null);
  if (REQUIRED && missing.length > 0) {
    await stopAll(choices);
    const reasons = missing.map(([need, choice]) => [`no ${need.what} could be had:`, ...choice.passedOver.map((r) => `  - ${r}`)].join('\n'));
    throw new Error(`TRACEFOLD_REQUIRE_KAFKA=1 and ${reasons.join('\nand ')}`);
  }
  console.log(report(KAFKA, kafka));
  console.log(report(REGISTRY, registry));
  for (const [need, choice] of missing) console.warn(banner(need, choice));

  project.provide('kafkaBrokers', kafka.found?.value ?? '');
  project.provide('schemaRegistryUrl', registry.found?.value ?? '');
  return () => stopAll(choices);
}
