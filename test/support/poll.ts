/**
 * The polling loop of the tests, for waits that `expect.poll` does not fit (a probe that
 * returns the value the test goes on with, or a caller that decides itself what a timeout
 * means). Tests wait on a condition with this or `expect.poll`, never with a fixed sleep.
 */
import { setTimeout as pause } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep trying; 10 s unless given. */
  readonly timeoutMs?: number;
  /** Pause between attempts; 50 ms unless given. */
  readonly intervalMs?: number;
}

type Probe<T> = () => T | null | undefined | Promise<T | null | undefined>;

async function poll<T>(probe: Probe<T>, { timeoutMs = 10_000, intervalMs = 50 }: PollOptions): Promise<{ value: T | null; lastError: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined) return { value, lastError: undefined };
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) return { value: null, lastError };
    await pause(intervalMs);
  }
}

/**
 * Calls `probe` until it returns a value other than null or undefined, and returns that.
 * A probe that throws counts as not yet. Null when the time ran out.
 */
export async function waitFor<T>(probe: Probe<T>, options: PollOptions = {}): Promise<T | null> {
  return (await poll(probe, options)).value;
}

/**
 * As waitFor, but a timeout is an error naming `what` (and the probe's last error, if it
 * threw).
 */
export async function eventually<T>(what: string, probe: Probe<T>, options: PollOptions = {}): Promise<T> {
  const { value, lastError } = await poll(probe, options);
  if (value !== null) return value;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cause = lastError === undefined ? '' : `; last attempt: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
}
