/**
 * Fault injection on the brokers themselves, each scenario on brokers of its own (started
 * here with scripts/kafka.sh, so that stopping one disturbs no other suite):
 *
 * - a single broker stopped under load and started again;
 * - a 3-node KRaft cluster (combined broker+controller nodes, replication 3) whose leader
 *   of tracefold.raw.v1's first partition is killed with SIGKILL and started again.
 *
 * One tracefold process (every role) runs against each. Then every acknowledged span must
 * be visible exactly once, nothing emitted twice, every poison record dead-lettered with
 * its reason, the process up.
 *
 * Ports: FAULT_INJECTION_PORT_BASE (default 19400): the cluster's brokers on base..base+2,
 * their controllers on base+10..base+12, the single broker on base+3 (controller base+4).
 * FAULT_INJECTION_SEED=<seed> replays the schedule; FAULT_INJECTION_WITHOUT=poison,resend
 * leaves those parts of the load out.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it, onTestFailed } from 'vitest';
import { createCodecs, LocalSchemaIds } from '../../src/log/serde/index.js';
import { TOPICS } from '../../src/log/topics.js';
import { ROOT, runScript } from '../support/brokers/scripts.js';
import { startChild } from '../support/child.js';
import {
  account,
  appendPoison,
  faultSeed,
  kafkaSideClient,
  lateResends,
  LoadDriver,
  measureRecovery,
  poisonRecords,
  report,
  waitForProgress,
  without,
  type PlacedPoison,
  type Recovery,
} from '../support/fault-load.js';
import { waitFor } from '../support/poll.js';
import { describeKafka } from '../support/kafka.js';
import { createTenant, request, tempDir } from '../support/server.js';

const BASE = Number(process.env.FAULT_INJECTION_PORT_BASE ?? 19400);
// The state directory of the suite's own local broker (its jars are fetched there by CI);
// every file in it is named by port.
const HOME = `${ROOT}.cache/kafka-test`;

interface Node {
  readonly port: number;
  readonly env: Record<string, string>;
}

async function kafka(node: Node, command: 'start' | 'stop' | 'kill'): Promise<void> {
  const result = await runScript('kafka.sh', command, node.env, 120_000);
  if (!result.ok) throw new Error(`kafka.sh ${command} on ${node.port}: ${result.message}`);
}

const dataDirOf = (node: Node) => `${HOME}/data-${node.port}`;

/** The single broker: scripts/kafka.sh's defaults on a port of its own. */
const single: Node = { port: BASE + 3, env: { KAFKA_PORT: String(BASE + 3), KAFKA_HOME_DIR: HOME } };

function clusterNodes(): Node[] {
  // A Kafka cluster id is a base64url UUID; like Kafka's own random-uuid, never one starting
  // with '-', which kafka-storage would take for an option.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const voters = [0, 1, 2].map((i) => `${i + 1}@127.0.0.1:${BASE + 10 + i}`).join(',');
  return [0, 1, 2].map((i) => ({
    port: BASE + i,
    env: {
      KAFKA_PORT: String(BASE + i),
      KAFKA_CONTROLLER_PORT: String(BASE + 10 + i),
      KAFKA_NODE_ID: String(i + 1),
      KAFKA_QUORUM_VOTERS: voters,
      KAFKA_CLUSTER_ID: clusterId,
      KAFKA_REPLICATION: '3',
      KAFKA_HEAP: '-Xmx384m',
      KAFKA_HOME_DIR: HOME,
    },
  }));
}

/** Starts tracefold (every role) on `brokers`, with three tenants known to ingest. */
async function startTracefold(brokers: string) {
  const child = await startChild({
    TRACEFOLD_KAFKA_BROKERS: brokers,
    TRACEFOLD_JWT_SECRET: 'fault-injection-secret-0123456789-abcdef',
    TRACEFOLD_DATA_DIR: await tempDir('faults-brokers'),
    TRACEFOLD_INACTIVITY_GAP_MS: '1500',
  });
  const tenants = [];
  for (let t = 0; t < 3; t++) tenants.push(await createTenant(child.url, `faults-brokers-${t}`));
  for (const tenant of tenants) {
    const known = await waitFor(async () => ((await request(`${child.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: { resourceSpans: [] } })).status === 200 ? true : null), { timeoutMs: 30_000, intervalMs: 200 });
    if (known === null) throw new Error('ingest never learnt of the new tenant');
  }
  return { child, tenants };
}

/**
 * Runs load against a fresh tracefold on `brokers`, injects `fault` once the load is under
 * way (it resolves with the moment the broker is back), then accounts for everything.
 */
async function scenario(name: string, brokers: string[], fault: (driver: LoadDriver) => Promise<{ fault: string; back: number }>, onFailure: (output: string) => void) {
  const { seed, random } = faultSeed(name);
  const { child, tenants } = await startTracefold(brokers.join(','));
  onTestFailed(() => onFailure(`seed=${seed}; tracefold output:\n${child.output()}`));
  const side = await kafkaSideClient(brokers);
  try {
    const codecs = await createCodecs(new LocalSchemaIds());
    const driver = new LoadDriver(() => child.url, tenants, random, without('resend') ? 0 : 0.2);
    const recoveries: Recovery[] = [];
    let poison: PlacedPoison[] = [];
    driver.start();
    await waitForProgress(driver, 3 + Math.floor(random() * 12));
    if (!without('poison')) poison = await appendPoison(side.log, await poisonRecords(codecs, tenants[0]!.tenantId));
    await waitForProgress(driver, 3 + Math.floor(random() * 12));
    const { fault: what, back } = await fault(driver);
    recoveries.push(await measureRecovery(what, back, driver, () => child.url));
    await driver.stop();
    await lateResends(driver, () => child.url, random);

    expect((await request(`${child.url}/healthz`, 'GET')).status).toBe(200);
    const outcome = await account({ apiUrl: () => child.url, driver, poison, codecs, readTopic: side.readTopic, visibleWithinMs: 60_000 });
    console.log(`${report(name, outcome, recoveries)}; refused requests ${driver.refusals}; seed=${seed}`);
    expect.soft(outcome.lost, outcome.details.join('\n')).toBe(0);
    expect.soft(outcome.duplicated, outcome.details.join('\n')).toBe(0);
    expect.soft(outcome.deadLettered, outcome.details.join('\n')).toBe(outcome.poisoned);
    expect(outcome.visible).toBe(outcome.acknowledged);
    // A clean stop after it all.
    expect(await child.kill('SIGTERM')).toBe(0);
  } finally {
    await side.close();
    if (child.process.exitCode === null && child.process.signalCode === null) await child.kill('SIGKILL');
  }
}

describeKafka('fault injection on the brokers', () => {
  const started: Node[] = [];
  afterAll(async () => {
    await Promise.allSettled(started.map((node) => kafka(node, 'stop')));
    await Promise.all(started.map((node) => rm(dataDirOf(node), { recursive: true, force: true })));
  }, 120_000);

  it('single broker stopped under load and started again', { timeout: 240_000 }, async () => {
    await rm(dataDirOf(single), { recursive: true, force: true });
    started.push(single);
    await kafka(single, 'start');
    await scenario(
      'broker stopped',
      [`127.0.0.1:${single.port}`],
      async (driver) => {
        await kafka(single, 'stop');
        // Down until ingest has refused a few requests (the producers retry them).
        const refusals = driver.refusals;
        await waitFor(async () => (driver.refusals >= refusals + 5 ? true : null), { timeoutMs: 30_000, intervalMs: 200 });
        await kafka(single, 'start');
        return { fault: 'broker stop', back: Date.now() };
      },
      console.log,
    );
  });

  it('3-broker cluster with the partition leader killed (kill -9) and restarted', { timeout: 300_000 }, async () => {
    const nodes = clusterNodes();
    await Promise.all(nodes.map((node) => rm(dataDirOf(node), { recursive: true, force: true })));
    started.push(...nodes);
    const clusterStart = Date.now();
    await Promise.all(nodes.map((node) => kafka(node, 'start')));
    const brokers = nodes.map((node) => `127.0.0.1:${node.port}`);
    console.log(`fault-injection 3-broker cluster: started in ${((Date.now() - clusterStart) / 1000).toFixed(1)}s`);
    await scenario(
      '3-broker leader kill -9',
      brokers,
      async (driver) => {
        const admin = new Kafka({ clientId: 'tracefold-fault-injection', brokers, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        let leader: number;
        try {
          const [topic] = (await admin.fetchTopicMetadata({ topics: [TOPICS.raw] })).topics;
          leader = topic!.partitions.find((p) => p.partitionId === 0)!.leader;
        } finally {
          await admin.disconnect();
        }
        const node = nodes[leader - 1]!;
        await kafka(node, 'kill');
        // Two of three replicas are in sync: the load goes on (bounded: it may also stall).
        await waitForProgress(driver, 10, 30_000).catch((err: unknown) => console.log(`with broker ${leader} down: ${String(err)}`));
        await kafka(node, 'start');
        return { fault: `leader ${leader} kill`, back: Date.now() };
      },
      console.log,
    );
  });
});
