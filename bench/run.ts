/**
 * Runs the benchmarks in sequence and prints their figures; no thresholds, no pass/fail.
 *
 *   npm run bench                      every embedded benchmark
 *   npm run bench -- ingest serde      those whose names start with the given words
 *   npm run bench -- --kafka           the Kafka benchmarks instead (bench/kafka.ts): against
 *                                      KAFKA_BROKERS, or a broker the bench starts and stops
 *   npm run bench -- replay-1m         the long benchmarks, which take minutes each at full
 *   npm run bench -- open-traces       size, run only when named: a 1,000,000-span replay
 *                                      through the trace stage, 1,000,000 open traces held
 *                                      by it (sizes in their files' header comments)
 *
 * Machines are shared and noisy: each benchmark reports medians of several runs and ratios
 * against a baseline measured in the same process, which travel between machines better
 * than absolute rates do.
 */
import os from 'node:os';
import { runAuditBench } from './audit.js';
import { runDetectionBench } from './detection.js';
import { runEmbeddedLogBench } from './embedded-log.js';
import { runIngestFormatsBench } from './ingest-formats.js';
import { runIngestToDetectionsBench } from './ingest-to-detections.js';
import { runKafkaBench } from './kafka.js';
import { runOpenTracesBench } from './open-traces.js';
import { runOtlpDecodeBench } from './otlp-decode.js';
import { runQueryApiBench } from './query-api.js';
import { runReplay1mBench } from './replay-1m.js';
import { runSerdeBench } from './serde.js';
import { runTraceStageBench } from './trace-stage.js';

interface Benchmark {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'ingest-to-detections', run: runIngestToDetectionsBench },
  { name: 'otlp-decode', run: runOtlpDecodeBench },
  { name: 'ingest-formats', run: runIngestFormatsBench },
  { name: 'embedded-log', run: runEmbeddedLogBench },
  { name: 'serde', run: runSerdeBench },
  { name: 'trace-stage', run: runTraceStageBench },
  { name: 'detection', run: runDetectionBench },
  { name: 'query-api', run: runQueryApiBench },
  { name: 'audit', run: runAuditBench },
];

/** Take minutes each: run only when named. */
const LONG_BENCHMARKS: readonly Benchmark[] = [
  { name: 'replay-1m', run: runReplay1mBench },
  { name: 'open-traces', run: runOpenTracesBench },
];

/** Need a Kafka broker; run only with --kafka. */
const KAFKA_BENCHMARKS: readonly Benchmark[] = [{ name: 'kafka', run: runKafkaBench }];

/**
 * With no words, the default set; a word picks the benchmark of that exact name, else those
 * of the default set whose names start with it (so a prefix never starts a long one).
 */
function select(defaults: readonly Benchmark[], named: readonly Benchmark[], args: readonly string[]): Benchmark[] | string {
  if (args.length === 0) return [...defaults];
  const all = [...defaults, ...named];
  const chosen = new Set<Benchmark>();
  for (const arg of args) {
    const exact = all.find((b) => b.name === arg);
    const matches = exact !== undefined ? [exact] : defaults.filter((b) => b.name.startsWith(arg));
    if (matches.length === 0) {
      const hint = defaults === BENCHMARKS ? ` (the Kafka benchmarks run with --kafka: ${KAFKA_BENCHMARKS.map((k) => k.name).join(', ')})` : '';
      return `unknown benchmark "${arg}"; known: ${all.map((b) => b.name).join(', ')}${hint}`;
    }
    for (const match of matches) chosen.add(match);
  }
  // Always in the declared order, whatever order the arguments came in.
  return all.filter((b) => chosen.has(b));
}

const args = process.argv.slice(2);
const kafka = args.includes('--kafka');
const selected = kafka
  ? select(KAFKA_BENCHMARKS, [], args.filter((a) => a !== '--kafka'))
  : select(BENCHMARKS, LONG_BENCHMARKS, args);
if (typeof selected === 'string') {
  console.error(selected);
  process.exit(2);
}

const cpus = os.cpus();
console.log(`tracefold benchmarks, ${new Date().toISOString()}`);
console.log(
  `node ${process.version}, ${os.platform()}/${os.arch()}, cpus=${cpus.length} (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
    `memory=${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log(`running: ${selected.map((b) => b.name).join(', ')}`);

const started = performance.now();
const failed: string[] = [];
for (const benchmark of selected) {
  console.log(`\n== ${benchmark.name} ==`);
  const benchStarted = performance.now();
  try {
    await benchmark.run();
  } catch (err) {
    failed.push(benchmark.name);
    console.log(`${benchmark.name} did not complete: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${benchmark.name}: ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`);
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed.length > 0) {
  console.log(`did not complete: ${failed.join(', ')}`);
  process.exitCode = 1;
}
