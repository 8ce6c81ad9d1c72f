/**
 * `tracefold topics apply` against a real broker: creates what topics/ declares, is
 * idempotent, and reports what it changed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka } from 'kafkajs';
import { expect, it } from 'vitest';
import { loadTopicDeclarations } from '../../src/log/topics.js';
import { describeKafka, kafkaBrokers } from '../support/kafka.js';
import { tempDir } from '../support/server.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tracefold.js');

describeKafka('tracefold topics apply', () => {
  it('creates every declared topic with its settings, and a second run finds nothing to do', async () => {
    const env = {
      ...process.env,
      TRACEFOLD_KAFKA_BROKERS: kafkaBrokers().join(','),
      TRACEFOLD_JWT_SECRET: 'topics-apply-secret-0123456789-abcdef',
      TRACEFOLD_DATA_DIR: await tempDir('topics-apply'),
      TRACEFOLD_LOG_LEVEL: 'warn',
    };
    const declarations = await loadTopicDeclarations();
    for (let run = 0; run < 2; run++) {
      const result = spawnSync(process.execPath, [bin, 'topics', 'apply'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      for (const d of declarations) expect(result.stdout).toContain(`${d.name}: ${d.partitions} partitions, cleanup.policy=${d.cleanupPolicy}`);
      expect(result.stdout).not.toContain('drift:');
    }

    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: 0 }).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: declarations.map((d) => d.name) });
      for (const d of declarations) {
        expect(metadata.topics.find((t) => t.name === d.name)?.partitions.length, d.name).toBe(d.partitions);
      }
      const traces = declarations.find((d) => d.name === 'tracefold.traces.v1')!;
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: traces.name }] });
      const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
      expect(entries['cleanup.policy']).toBe('compact');
      expect(entries['max.message.bytes']).toBe('16777216');
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
