import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KafkaLog } from '../../../src/log/kafka/index.js';
import { describeKafka } from '../../support/kafka.js';
import { defineLogConformance } from './conformance/cases.js';
import { openKafkaLog } from './fixtures/kafka-log.js';
import { tempDir } from './helpers.js';

describeKafka('kafka log', () => {
  defineLogConformance('kafka', async () => {
    const dir = await tempDir();
    let log: KafkaLog = await openKafkaLog(dir.path);
    return {
      get log() {
        return log;
      },
      membersPerGroup: 'many',
      async reopen() {
        await log.close();
        log = await openKafkaLog(dir.path);
        return log;
      },
      async loseLocalState() {
        await log.close();
        await rm(join(dir.path, 'kafka-state'), { recursive: true, force: true });
        log = await openKafkaLog(dir.path);
        return log;
      },
      async cleanup() {
        await log.close();
        await dir.remove();
      },
    };
  });
});
