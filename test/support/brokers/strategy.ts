/**
 * The pieces of the global setup's choice of a Kafka broker and a schema registry
 * (test/global-setup.ts): each way of getting one is a Strategy, tried in order until one
 * gives a Found; the others say in a few words why they could not.
 */
import { performance } from 'node:perf_hooks';

export interface Found {
  /** What the suites get: comma-separated bootstrap servers, or the registry's base URL. */
  readonly value: string;
  /** Where it comes from, for the one line the setup prints. */
  readonly how: string;
  /** Stops what the strategy started; absent when it started nothing (stopping it is not ours). */
  readonly stop?: () => Promise<void>;
}

export interface Strategy {
  /** Short name, used in the reasons printed when no strategy succeeds. */
  readonly name: string;
  /** A Found, or why this strategy cannot provide one (one line). */
  attempt(): Promise<Found | string>;
}

export interface Choice {
  readonly found: Found | null;
  /** `name: reason` of every strategy tried before the one that succeeded (all, when none did). */
  readonly passedOver: readonly string[];
}

export function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n').find((line) => line.trim() !== '') ?? message;
}

/** Seconds since `start` (a performance.now() reading), with one decimal. */
export function secondsSince(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}

/** Tries each strategy in turn; a strategy that throws counts as one that cannot. */
export async function choose(strategies: readonly Strategy[]): Promise<Choice> {
  const passedOver: string[] = [];
  for (const strategy of strategies) {
    let outcome: Found | string;
    try {
      outcome = await strategy.attempt();
    } catch (err) {
      outcome = messageOf(err);
    }
    if (typeof outcome !== 'string') return { found: outcome, passedOver };
    passedOver.push(`${strategy.name}: ${outcome}`);
  }
  return { found: null, passedOver };
}

/** The value of an environment variable, when it is set and not empty. */
export function fromEnv(variable: string): Strategy {
  return {
    name: variable,
    async attempt() {
      const value = process.env[variable]?.trim();
      return value ? { value, how: `from ${variable}` } : 'not set';
    },
  };
}
