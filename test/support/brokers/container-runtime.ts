/**
 * Whether a container runtime (Docker, Podman, …) answers, asked once per run and shared by
 * the container strategies. testcontainers is loaded only here, on first use.
 */
import { messageOf } from './strategy.js';

const PROBE_TIMEOUT_MS = 5_000;

let probe: Promise<string | null> | undefined;

/** null when a runtime answers; otherwise why not. */
export function containerRuntimeProblem(): Promise<string | null> {
  probe ??= (async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
      });
      await Promise.race([getContainerRuntimeClient(), timeout]);
      return null;
    } catch (err) {
      return `no container runtime (${messageOf(err)})`;
    } finally {
      clearTimeout(timer);
    }
  })();
  return probe;
}
