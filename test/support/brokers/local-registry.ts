/**
 * The local Apicurio Registry of scripts/registry.sh on a port of its own (18181; a
 * developer's registry.sh uses 18081). Its storage is in memory, so each start is empty.
 */
import { performance } from 'node:perf_hooks';
import { runScript } from './scripts.js';
import { secondsSince, type Strategy } from './strategy.js';

export const TEST_REGISTRY_PORT = 18181;

export function localRegistry(port = TEST_REGISTRY_PORT): Strategy {
  const env = { REGISTRY_PORT: String(port) };
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  return {
    name: 'scripts/registry.sh',
    async attempt() {
      if ((await runScript('registry.sh', 'status', env, 15_000)).ok) {
        return { value: url, how: `local Apicurio Registry already running (not stopped at the end; REGISTRY_PORT=${port} scripts/registry.sh stop)` };
      }
      const start = performance.now();
      const started = await runScript('registry.sh', 'start', env);
      if (!started.ok) {
        await runScript('registry.sh', 'stop', env, 60_000);
        return started.message;
      }
      return {
        value: url,
        how: `local Apicurio Registry started by scripts/registry.sh in ${secondsSince(start)}`,
        stop: async () => {
          const stopped = await runScript('registry.sh', 'stop', env, 60_000);
          if (!stopped.ok) throw new Error(`cannot stop the registry on ${url}: ${stopped.message}`);
        },
      };
    },
  };
}
