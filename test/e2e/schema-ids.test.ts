/**
 * Schema ids across processes: one that has no schema registry refuses to start, saying
 * why and what to set, on a log that holds values written through a registry; one with
 * the registry starts on the same log. In embedded mode on a data dir written through a
 * registry, and in Kafka mode on the suite's broker, next to a process that writes through
 * the run's registry.
 *
 * The Kafka broker is shared with the other suites, and its topic names are fixed: every
 * Kafka-mode process of the suite uses the run's registry (test/support/kafka.ts,
 * registryEnv), so the values at the ends of the partitions are the registry's, or local
 * ones from before it was used, which a process with the registry reads too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedLog } from '../../src/log/embedded/index.js';
import { frame } from '../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../src/log/topics.js';
import { startChild, type ChildServer } from '../support/child.js';
import { describeKafka, kafkaBrokers, registryEnv, schemaRegistryUrl } from '../support/kafka.js';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, tempDir } from '../support/server.js';

const REFUSAL =
  /tracefold: (tracefold\.[a-z-]+\.v1) holds values written through a schema registry \(schema ids? [\d, and]+, not one of this version's schemas\)(, and so do(es)? [^:]+)?: set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes use/;

describe('a process without a schema registry, on an embedded log written through one', () => {
  it('exits 1 before listening, naming the topic, the id and the setting', async () => {
    const dataDir = await tempDir('schema-ids-embedded');
    const log = await createEmbeddedLog({ dataDir, sync: 'none' });
    try {
      await log.ensureTopics(await loadTopicDeclarations());
      // A tenant event as a process with a registry frames it: the registry's id 6.
      await log.append(TOPICS.tenants, [{ key: Buffer.from('tenant-1'), value: frame(6, Buffer.from([0])) }]);
    } finally {
      await log.close();
    }
    const started = startChild({ TRACEFOLD_DATA_DIR: dataDir });
    await expect(started).rejects.toThrow(/^tracefold exited \(1\) before listening/);
    await expect(started).rejects.toThrow(
      "tracefold: tracefold.tenants.v1 holds values written through a schema registry (schema id 6, not one of this version's schemas): " +
        'set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes use (the one these values were written through). ' +
        'Without it this process cannot read them.',
    );
  }, 60_000);
});

const describeKafkaAndRegistry: typeof describe = (schemaRegistryUrl() === null ? describe.skip : describeKafka) as typeof describe;

describeKafkaAndRegistry('Kafka mode: processes with and without the schema registry on the same topics', () => {
  const children: ChildServer[] = [];
  const common = () => ({
    TRACEFOLD_KAFKA_BROKERS: kafkaBrokers().join(','),
    TRACEFOLD_JWT_SECRET: 'schema-ids-secret-0123456789-abcdefghij',
    TRACEFOLD_INACTIVITY_GAP_MS: '60000',
  });

  afterAll(async () => {
    const codes = await Promise.all(children.map((c) => c.kill('SIGTERM')));
    const unclean = children.flatMap((c, i) => (codes[i] === 0 ? [] : [`exit ${codes[i]}:\n${c.output()}`]));
    expect(unclean.join('\n\n')).toBe('');
  });

  it('refuses to start without the registry once values went through it, and starts with it', async () => {
    // A process with the registry writes: a tenant (tracefold.tenants.v1), then spans (tracefold.raw.v1).
    const writer = await startChild({ ...common(), ...registryEnv(), TRACEFOLD_DATA_DIR: await tempDir('schema-ids-writer') });
    children.push(writer);
    const tenant = await createTenant(writer.url, `schema-ids-${randomBytes(4).toString('hex')}`);
    const ingest = await request(`${writer.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace(`schema-ids-${Date.now()}`, 3) });
    expect(ingest.status, JSON.stringify(ingest.body)).toBe(200);

    // Without the registry: exit 1 before listening, with the reason and the setting.
    const without = startChild({ ...common(), TRACEFOLD_DATA_DIR: await tempDir('schema-ids-without') }, ['--role', 'api']);
    await expect(without).rejects.toThrow(/^tracefold exited \(1\) before listening/);
    const message = await without.then(
      () => '',
      (err: unknown) => (err as Error).message,
    );
    expect(message).toMatch(REFUSAL);

    // With the registry, the same role starts on the same topics and is ready.
    const withRegistry = await startChild({ ...common(), ...registryEnv(), TRACEFOLD_DATA_DIR: await tempDir('schema-ids-with') }, ['--role', 'api']);
    children.push(withRegistry);
    await expect.poll(async () => (await request(`${withRegistry.url}/readyz`, 'GET')).status, { timeout: 60_000, interval: 200 }).toBe(200);
  }, 180_000);
});
