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

interface Brokers {
  readonly choices: readonly Choice[];
  readonly kafka: string;
  readonly registry: string;
}

async function chooseBrokers(): Promise<Brokers> {
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
  return { choices, kafka: kafka.found?.value ?? '', registry: registry.found?.value ?? '' };
}

/**
 * Every project of the run (vitest.config.ts) calls this setup; they share one choice of
 * brokers, started by the first and stopped by the last to finish. Kept on globalThis
 * because each project may load this module anew.
 */
interface Shared {
  brokers: Promise<Brokers> | null;
  users: number;
}
const shared: Shared = ((globalThis as { __tracefoldBrokers?: Shared }).__tracefoldBrokers ??= { brokers: null, users: 0 });

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.users++;
  shared.brokers ??= chooseBrokers();
  const brokers = await shared.brokers;
  project.provide('kafkaBrokers', brokers.kafka);
  project.provide('schemaRegistryUrl', brokers.registry);
  return async () => {
    if (--shared.users === 0) await stopAll(brokers.choices);
  };
}
