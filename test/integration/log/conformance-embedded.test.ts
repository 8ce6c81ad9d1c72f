import { createEmbeddedLog } from '../../../src/log/embedded/index.js';
import type { Log } from '../../../src/log/port.js';
import { defineLogConformance } from './conformance/cases.js';
import { tempDir } from './helpers.js';

defineLogConformance('embedded', async () => {
  const dir = await tempDir();
  let log: Log = await createEmbeddedLog({ dataDir: dir.path, sync: 'none' });
  return {
    get log() {
      return log;
    },
    membersPerGroup: 'one',
    async reopen() {
      await log.close();
      log = await createEmbeddedLog({ dataDir: dir.path, sync: 'none' });
      return log;
    },
    async cleanup() {
      await log.close();
      await dir.remove();
    },
  };
});
