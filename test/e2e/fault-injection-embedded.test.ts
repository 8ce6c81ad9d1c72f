/**
 * Fault injection, embedded mode: the single tracefold process is killed with SIGKILL at
 * random points under load (several tenants, looping traces, re-sends) and started again
 * on the same data dir. While it is down, a side producer appends poison records straight
 * to tracefold.raw.v1. Then every acknowledged span must be visible exactly once, nothing
 * emitted twice, every poison record dead-lettered with its reason, the process up.
 *
 * The kill points come from a seeded generator (FAULT_INJECTION_SEED=<seed> replays the
 * schedule). FAULT_INJECTION_WITHOUT=poison,resend leaves those parts of the load out.
 */
import { afterAll, expect, it, onTestFailed } from 'vitest';
import { createEmbeddedLog } from '../../src/log/embedded/index.js';
import { createCodecs, LocalSchemaIds } from '../../src/log/serde/index.js';
import { startChild, type ChildServer } from '../support/child.js';
import { account, appendPoison, faultSeed, lateResends, LoadDriver, measureRecovery, poisonRecords, report, waitForProgress, without, type PlacedPoison, type Recovery } from '../support/fault-load.js';
import { createTenant, request, tempDir } from '../support/server.js';
import { readTopic } from '../support/topic-reader.js';

const KILLS = 4;
const INACTIVITY_GAP_MS = '1500';

let child: ChildServer | undefined;
afterAll(async () => {
  await child?.kill('SIGKILL');
});

it('embedded: SIGKILL at random points under load loses and duplicates nothing', { timeout: 180_000 }, async () => {
  const { seed, random } = faultSeed('embedded');
  const dataDir = await tempDir('faults-embedded');
  const env = { TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_INACTIVITY_GAP_MS: INACTIVITY_GAP_MS };
  child = await startChild(env);
  onTestFailed(() => console.log(`seed=${seed}; tracefold output:\n${child?.output()}`));
  const tenants = [];
  for (let t = 0; t < 3; t++) tenants.push(await createTenant(child.url, `faults-${t}`));
  const driver = new LoadDriver(() => child!.url, tenants, random, without('resend') ? 0 : 0.2);
  const codecs = await createCodecs(new LocalSchemaIds());
  const poison: PlacedPoison[] = [];
  const recoveries: Recovery[] = [];

  driver.start();
  for (let k = 0; k < KILLS; k++) {
    await waitForProgress(driver, 3 + Math.floor(random() * 12));
    expect(await child.kill('SIGKILL')).toBe('SIGKILL');
    if (k === 0 && !without('poison')) {
      // The process is down, so the side producer may open its log.
      const log = await createEmbeddedLog({ dataDir, sync: 'none' });
      try {
        poison.push(...(await appendPoison(log, await poisonRecords(codecs, tenants[0]!.tenantId))));
      } finally {
        await log.close();
      }
    }
    const restarted = Date.now();
    child = await startChild(env);
    recoveries.push(await measureRecovery(`kill ${k + 1}`, restarted, driver, () => child!.url));
  }
  await driver.stop();
  await lateResends(driver, () => child!.url, random);

  expect((await request(`${child.url}/healthz`, 'GET')).status).toBe(200);
  // The topics are read from the data dir, once the process has let go of it.
  const outcome = await account({
    apiUrl: () => child!.url,
    driver,
    poison,
    codecs,
    readTopic: async (topic) => {
      if (child !== undefined) expect(await child.kill('SIGTERM')).toBe(0);
      child = undefined;
      return readTopic(dataDir, topic);
    },
    visibleWithinMs: 60_000,
  });
  console.log(`${report('embedded kill -9', outcome, recoveries)}; seed=${seed}`);
  expect.soft(outcome.lost, outcome.details.join('\n')).toBe(0);
  expect.soft(outcome.duplicated, outcome.details.join('\n')).toBe(0);
  expect.soft(outcome.deadLettered, outcome.details.join('\n')).toBe(outcome.poisoned);
  expect(outcome.visible).toBe(outcome.acknowledged);
});
