/**
 * Append throughput of the embedded log: ~1 KB records, batches of 1 and 100 records,
 * 1 and 32 concurrent appenders, sync 'fsync' against 'none'. Each figure is the median
 * of 5 runs, each on a fresh store for BENCH_DURATION_MS (default 1000 ms).
 *
 *   npx tsx bench/embedded-log.ts
 *
 * The store goes under os.tmpdir() unless TRACEFOLD_BENCH_DIR names another directory;
 * on tmpfs an fsync costs nothing, so point it at the disk the data directory will use.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEmbeddedLog } from '../src/log/embedded/index.js';
import type { OutgoingRecord } from '../src/log/port.js';

const RUNS = 5;
const RECORD_BYTES = 1024;
const PARTITIONS = 8;

type Sync = 'fsync' | 'none';

interface Scenario {
  readonly batch: number;
  readonly concurrency: number;
}

interface Measurement {
  readonly recordsPerSecond: number;
  readonly appendsPerSecond: number;
  readonly fsyncRoundsPerSecond: number;
}

const scenarios: readonly Scenario[] = [
  { batch: 1, concurrency: 1 },
  { batch: 1, concurrency: 32 },
  { batch: 100, concurrency: 1 },
  { batch: 100, concurrency: 32 },
];

async function measure(sync: Sync, scenario: Scenario, durationMs: number, parent: string): Promise<Measurement> {
  const dataDir = await mkdtemp(join(parent, 'tracefold-bench-'));
  const log = await createEmbeddedLog({ dataDir, sync });
  try {
    await log.ensureTopics([
      { name: 'bench', partitions: PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1, key: 'k', valueSchema: 'bytes', description: 'bench' },
    ]);
    const value = randomBytes(RECORD_BYTES);
    let sequence = 0;
    const nextBatch = (): OutgoingRecord[] =>
      Array.from({ length: scenario.batch }, () => ({ key: Buffer.from(`trace-${sequence++}`), value }));

    const roundsBefore = log.fsyncRounds;
    let appends = 0;
    const started = performance.now();
    const deadline = started + durationMs;
    const appender = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await log.append('bench', nextBatch());
        appends++;
      }
    };
    await Promise.all(Array.from({ length: scenario.concurrency }, appender));
    const seconds = (performance.now() - started) / 1000;
    return {
      recordsPerSecond: (appends * scenario.batch) / seconds,
      appendsPerSecond: appends / seconds,
      fsyncRoundsPerSecond: (log.fsyncRounds - roundsBefore) / seconds,
    };
  } finally {
    await log.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function medianOf(sync: Sync, scenario: Scenario, durationMs: number, parent: string): Promise<Measurement> {
  const runs: Measurement[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await measure(sync, scenario, durationMs, parent));
  return {
    recordsPerSecond: median(runs.map((r) => r.recordsPerSecond)),
    appendsPerSecond: median(runs.map((r) => r.appendsPerSecond)),
    fsyncRoundsPerSecond: median(runs.map((r) => r.fsyncRoundsPerSecond)),
  };
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function runEmbeddedLogBench(): Promise<void> {
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 1000);
  const parent = process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir();
  console.log(
    `embedded log appends: ${RECORD_BYTES} B records, ${PARTITIONS} partitions, median of ${RUNS} runs of ${durationMs} ms, ` +
      `cpus=${os.cpus().length}, dir=${parent}`,
  );
  console.log('batch  conc  | fsync records/s  appends/s  fsyncs/s | none records/s  appends/s | none/fsync');
  for (const scenario of scenarios) {
    const fsync = await medianOf('fsync', scenario, durationMs, parent);
    const none = await medianOf('none', scenario, durationMs, parent);
    console.log(
      [
        String(scenario.batch).padStart(5),
        String(scenario.concurrency).padStart(5),
        ' |',
        format(fsync.recordsPerSecond).padStart(15),
        format(fsync.appendsPerSecond).padStart(10),
        format(fsync.fsyncRoundsPerSecond).padStart(9),
        '|',
        format(none.recordsPerSecond).padStart(14),
        format(none.appendsPerSecond).padStart(10),
        '|',
        `${(none.recordsPerSecond / fsync.recordsPerSecond).toFixed(1)}x`.padStart(10),
      ].join(' '),
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runEmbeddedLogBench();
}
