/**
 * The local JVM broker of scripts/kafka.sh, on a port and in a state directory of its own
 * (127.0.0.1:19192, .cache/kafka-test), so it never meets a developer's broker on 19092.
 * Each run starts from empty storage; the setup stops the broker when the run ends.
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { ROOT, runScript } from './scripts.js';
import { secondsSince, type Strategy } from './strategy.js';

export const TEST_KAFKA_PORT = 19192;

export function localKafka(port = TEST_KAFKA_PORT): Strategy {
  const home = `${ROOT}.cache/kafka-test`;
  const env = { KAFKA_PORT: String(port), KAFKA_HOME_DIR: home };
  const where = `127.0.0.1:${port}`;
  const stopCommand = `KAFKA_PORT=${port} KAFKA_HOME_DIR=.cache/kafka-test scripts/kafka.sh stop`;
  return {
    name: 'scripts/kafka.sh',
    async attempt() {
      if ((await runScript('kafka.sh', 'status', env, 15_000)).ok) {
        // Left by a run that could not stop it, or another run's: theirs to stop.
        return { value: where, how: `local JVM broker already running (not stopped at the end; ${stopCommand})` };
      }
      await rm(`${home}/data-${port}`, { recursive: true, force: true });
      const start = performance.now();
      const started = await runScript('kafka.sh', 'start', env);
      if (!started.ok) {
        // A broker that did not answer in time may still be running.
        await runScript('kafka.sh', 'stop', env, 60_000);
        return started.message;
      }
      return {
        value: where,
        how: `local JVM broker started by scripts/kafka.sh in ${secondsSince(start)} (.cache/kafka-test)`,
        stop: async () => {
          const stopped = await runScript('kafka.sh', 'stop', env, 60_000);
          if (!stopped.ok) throw new Error(`cannot stop the broker on ${where}: ${stopped.message}`);
        },
      };
    },
  };
}
