/**
 * The broker the Kafka benchmarks run against.
 *
 * - KAFKA_BROKERS set: that cluster, used as it is, with whatever data it already holds.
 * - Otherwise a dedicated single-node broker, started with scripts/kafka.sh on its own
 *   port (BENCH_KAFKA_PORT, default 19492) and home (.cache/kafka-bench), so it never
 *   touches a developer's broker. Its storage is deleted before every start, so each
 *   measurement that asks for a reset begins on an empty log; it is stopped at the end,
 *   and on Ctrl-C.
 */
import { execFile, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'kafka.sh');
const DEFAULT_PORT = 19492;
/** Long enough for a first start that fetches the jars through Maven. */
const SCRIPT_TIMEOUT_MS = 600_000;

export interface BenchBroker {
  readonly brokers: readonly string[];
  /** True when the bench started this broker, so it may delete its data. */
  readonly owned: boolean;
  /** One line for the report: which broker, and what data it starts with. */
  readonly description: string;
  /**
   * A dedicated broker: stop it, delete its storage, start it again (an empty log).
   * A broker given in KAFKA_BROKERS is left alone; returns false then.
   */
  reset(): Promise<boolean>;
  /** Stops a dedicated broker; nothing for one given in KAFKA_BROKERS. */
  close(): Promise<void>;
}

class ExternalBroker implements BenchBroker {
  readonly owned = false;
  readonly description: string;

  constructor(readonly brokers: readonly string[]) {
    this.description =
      `${brokers.join(',')} from KAFKA_BROKERS, used as it is: tracefold's topics and the trace stage's group ` +
      `may already hold data from earlier runs, which the pipeline figures then include`;
  }

  async reset(): Promise<boolean> {
    return false;
  }

  async close(): Promise<void> {}
}

class DedicatedBroker implements BenchBroker {
  readonly owned = true;
  readonly brokers: readonly string[];
  readonly description: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly dataDir: string;
  private readonly stopOnSignal = (signal: NodeJS.Signals) => {
    spawnSync('bash', [SCRIPT, 'stop'], { env: this.env, stdio: 'ignore' });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor(
    private readonly port: number,
    private readonly home: string,
  ) {
    this.brokers = [`127.0.0.1:${port}`];
    this.env = { ...process.env, KAFKA_PORT: String(port), KAFKA_HOME_DIR: home };
    this.dataDir = join(home, `data-${port}`);
    this.description =
      `127.0.0.1:${port}, Kafka 3.9.1 started by the bench with scripts/kafka.sh (home ${home}), ` +
      `storage deleted before each start, stopped at the end`;
  }

  private async script(command: 'start' | 'stop'): Promise<string> {
    try {
      const { stdout } = await run('bash', [SCRIPT, command], { env: this.env, timeout: SCRIPT_TIMEOUT_MS });
      return stdout.trim();
    } catch (err) {
      const detail = err as { stdout?: string; stderr?: string; message?: string };
      throw new Error(`scripts/kafka.sh ${command} (port ${this.port}) failed: ${(detail.stderr ?? '').trim() || detail.message}`, { cause: err });
    }
  }

  /** Starts on empty storage; a broker of an earlier, interrupted bench run is stopped first. */
  async start(): Promise<string[]> {
    const notes: string[] = [];
    const stopped = await this.script('stop');
    if (stopped.includes('stopped') || stopped.includes('killed')) {
      notes.push(`a bench broker left running on port ${this.port} by an earlier run was stopped`);
    }
    await rm(this.dataDir, { recursive: true, force: true });
    process.once('SIGINT', this.stopOnSignal);
    process.once('SIGTERM', this.stopOnSignal);
    const out = await this.script('start');
    for (const line of out.split('\n')) if (line.includes('fetching')) notes.push(line.trim());
    return notes;
  }

  async reset(): Promise<boolean> {
    await this.script('stop');
    await rm(this.dataDir, { recursive: true, force: true });
    await this.script('start');
    return true;
  }

  async close(): Promise<void> {
    try {
      await this.script('stop');
    } finally {
      process.off('SIGINT', this.stopOnSignal);
      process.off('SIGTERM', this.stopOnSignal);
    }
  }
}

/** The broker to use, started when the bench owns it; `notes` says what happened on the way. */
export async function acquireBroker(): Promise<{ broker: BenchBroker; notes: string[] }> {
  const given = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (given.length > 0) return { broker: new ExternalBroker(given), notes: [] };

  const portText = process.env.BENCH_KAFKA_PORT;
  const port = portText === undefined || portText === '' ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1024 || port > 65534) {
    throw new Error(`BENCH_KAFKA_PORT must be a port between 1024 and 65534, got ${JSON.stringify(portText)}`);
  }
  const broker = new DedicatedBroker(port, join(ROOT, '.cache', 'kafka-bench'));
  try {
    return { broker, notes: await broker.start() };
  } catch (err) {
    await broker.close().catch(() => undefined);
    throw err;
  }
}
