/**
 * Runs the benchmarks in sequence and prints their figures; no thresholds, no pass/fail.
 *
 *   npm run bench                      every embedded benchmark
 *   npm run bench -- ingest serde      those whose names start with the given words
 *   npm run bench -- --kafka           the Kafka benchmarks instead (bench/kafka.ts): against
 *                                      KAFKA_BROKERS, or a broker the bench starts and stops
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
import { runOtlpDecodeBench } from './otlp-decode.js';
import { runQueryApiBench } from './query-api.js';
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

/** Need a Kafka broker; run only with --kafka. */
const KAFKA_BENCHMARKS: readonly Benchmark[] = [{ name: 'kafka', run: runKafkaBench }];

function select(benchmarks: readonly Benchmark[], args: readonly string[]): Benchmark[] | string {
  if (args.length === 0) return [...benchmarks];
  const chosen = new Set<Benchmark>();
  for (const arg of args) {
    const exact = benchmarks.find((b) => b.name === arg);
    const matches = exact !== undefined ? [exact] : benchmarks.filter((b) => b.name.startsWith(arg));
    if (matches.length === 0) {
      const hint = benchmarks === BENCHMARKS ? ` (the Kafka benchmarks run with --kafka: ${KAFKA_BENCHMARKS.map((k) => k.name).join(', ')})` : '';
      return `unknown benchmark "${arg}"; known: ${benchmarks.map((b) => b.name).join(', ')}${hint}`;
    }
    for (const match of matches) chosen.add(match);
  }
  // Always in the declared order, whatever order the arguments came in.
  return benchmarks.filter((b) => chosen.has(b));
}

const args = process.argv.slice(2);
const kafka = args.includes('--kafka');
const selected = select(
  kafka ? KAFKA_BENCHMARKS : BENCHMARKS,
  args.filter((a) => a !== '--kafka'),
);
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
