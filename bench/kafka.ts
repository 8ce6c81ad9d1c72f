/**
 * Kafka mode: what the transport allows on this machine, and how much of it tracefold's
 * ingest and trace stage use. Selected with `npm run bench -- --kafka`.
 *
 * Transport limit (plain kafkajs, no tracefold code on the path):
 *   The records are the ones ingest writes for the workload below (the same keys, Avro
 *   values and headers, made with tracefold's decoder and codecs), sent in batches of one
 *   OTLP request's spans, with acks=-1, into a new 6-partition topic per producer kind.
 *   raw producer, shared   one idempotent producer used by CLIENTS concurrent senders
 *                          (kafkajs holds one produce request in flight per broker for an
 *                          idempotent producer, so the sends take turns)
 *   raw producer, own      one idempotent producer per sender (CLIENTS requests in flight)
 *   raw consumer           a new group reads both topics back from the start (twice the
 *                          records) with eachBatch and autoCommit, counting records (no
 *                          decoding); the clock runs from connect, so it includes joining
 *                          the group
 *
 * Pipeline (tracefold in this process, Kafka mode):
 *   ingest   an api-role instance creates the tenants, an ingest-role instance (its own
 *            temporary data dir) learns their keys from tracefold.tenants.v1, the api
 *            instance is closed, a warm-up workload goes in under a second tenant, then
 *            CLIENTS concurrent clients POST the workload's OTLP JSON to /v1/traces:
 *            first request sent → last 200 (every append acknowledged by the broker)
 *   trace    with the raw topic holding every span ingested (warm-up included), the
 *            ingest instance is closed and a trace-role instance starts on a fresh data
 *            dir: startTracefold called → every window closed (traceStage.stats). With
 *            a 200 ms inactivity gap; windows close on stream time while it reads the
 *            backlog, the last ones on the wall clock
 *
 * With the dedicated bench broker (see kafka-broker.ts) every pipeline run starts on a
 * broker with empty storage, since tracefold's topics and the trace stage's group have
 * fixed names; the broker restarts are not timed. The HTTP clients and tracefold share
 * this process; the broker shares the machine.
 *
 *   npx tsx bench/kafka.ts
 *
 * Environment: KAFKA_BROKERS (use that cluster instead of starting one), BENCH_KAFKA_PORT
 * (19492), BENCH_KAFKA_TRACES (2000), BENCH_KAFKA_RUNS (3), BENCH_KAFKA_CLIENTS (4);
 * data directories go under TRACEFOLD_BENCH_DIR or os.tmpdir().
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, Partitioners, type Admin, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { startTracefold, type Role, type Tracefold } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { spanRecord } from '../src/ingest/append-raw.js';
import { decodeOtlpJson } from '../src/ingest/otlp/json.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../src/log/serde/index.js';
import { TOPICS } from '../src/log/topics.js';
import { TRACE_STAGE_GROUP } from '../src/stages/trace/trace-stage.js';
import { acquireBroker, type BenchBroker } from './kafka-broker.js';
import { agentWorkload, typicalCanonicalSpan, type AgentWorkload } from './payloads.js';
import { envInt, ingestAnswer, postJson, sleep, tenantAnswer } from './http.js';
import { formatCount, formatRatio, median, perSecond, table } from './stats.js';

const SPANS_PER_TRACE = 10;
const SPANS_PER_REQUEST = 50;
const LOOP_EVERY = 4;
const TRANSPORT_PARTITIONS = 6;
const INACTIVITY_GAP_MS = 200;
/** Matches the Kafka adapter's fetch wait, so an idle fetch costs both consumers the same. */
const CONSUMER_MAX_WAIT_MS = 500;
const POLL_MS = 20;
const TIMEOUT_MS = 120_000;


interface Settings {
  readonly traces: number;
  readonly runs: number;
  readonly clients: number;
  readonly parent: string;
  readonly runId: string;
}

interface TransportRun {
  readonly sharedMs: number;
  readonly ownMs: number;
  /** Reads both topics: 2x the records. */
  readonly consumeMs: number;
  /** Connect → first batch handed to eachBatch (group join, first fetch). */
  readonly consumeFirstMs: number;
}

interface PipelineRun {
  readonly ingestMs: number;
  readonly traceMs: number;
  /** startTracefold for the trace role: called → resolved. */
  readonly traceStartMs: number;
  /** startTracefold called → every backlog record read (spans assembled, duplicates, dead letters). */
  readonly traceReadMs: number;
  /** Records the trace stage had to read: raw end offsets minus its group's committed offsets. */
  readonly backlog: number;
  readonly windowsClosed: number;
  readonly detections: number;
}

function benchKafka(broker: BenchBroker, clientId: string): Kafka {
  return new Kafka({ brokers: [...broker.brokers], clientId, logLevel: logLevel.NOTHING });
}

/** Sum of a topic's high watermarks: the records in it (non-transactional producers only). */
async function recordsIn(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

async function committedIn(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

// ---------------------------------------------------------------------------------------
// Transport limit

/** The records ingest would append for `workload`, one batch per OTLP request. */
async function workloadRecords(codecs: Codecs, workload: AgentWorkload): Promise<Message[][]> {
  const tenantId = randomUUID();
  const receivedAtMs = Date.now();
  const batches: Message[][] = [];
  for (const body of workload.bodies) {
    const { spans, rejected } = decodeOtlpJson(JSON.parse(body), { tenantId, receivedAtMs });
    if (rejected.length > 0) throw new Error(`the workload's spans were rejected: ${JSON.stringify(rejected[0])}`);
    const batch: Message[] = [];
    for (const span of spans) {
      const record = await spanRecord(codecs, span);
      batch.push({ key: record.key, value: record.value, headers: { ...record.headers }, timestamp: String(record.timestamp ?? receivedAtMs) });
    }
    batches.push(batch);
  }
  return batches;
}

function recordBytes(batches: readonly Message[][]): { value: number; key: number; headers: number; count: number } {
  let value = 0;
  let key = 0;
  let headers = 0;
  let count = 0;
  for (const batch of batches) {
    for (const m of batch) {
      count++;
      value += m.value instanceof Buffer ? m.value.length : Buffer.byteLength(m.value ?? '');
      key += m.key instanceof Buffer ? m.key.length : Buffer.byteLength(m.key ?? '');
      for (const [k, v] of Object.entries(m.headers ?? {})) headers += k.length + Buffer.byteLength(String(v));
    }
  }
  return { value: value / count, key: key / count, headers: headers / count, count };
}

async function createTopic(admin: Admin, topic: string): Promise<void> {
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: TRANSPORT_PARTITIONS }], waitForLeaders: true });
  if (!created) throw new Error(`topic ${topic} already exists`);
}

async function connectedProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

/** `clients` senders take the next batch in turn; sender c uses producers[c % producers.length]. */
async function produceAll(producers: readonly Producer[], clients: number, topic: string, batches: readonly Message[][]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const producer = producers[c % producers.length]!;
      for (let i = next++; i < batches.length; i = next++) await producer.send({ topic, acks: -1, messages: batches[i]! });
    }),
  );
  return performance.now() - started;
}

async function consumeAll(kafka: Kafka, groupId: string, topics: readonly string[], expected: number): Promise<{ ms: number; firstMs: number }> {
  const started = performance.now();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: CONSUMER_MAX_WAIT_MS, allowAutoTopicCreation: false });
  let count = 0;
  let firstMs = 0;
  let resolveDone: (ms: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch }) => {
        if (firstMs === 0) firstMs = performance.now() - started;
        count += batch.messages.length;
        if (count >= expected) resolveDone(performance.now() - started);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`raw consumer read ${count}/${expected} records in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    const ms = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    return { ms, firstMs };
  } finally {
    await consumer.disconnect();
  }
}

async function measureTransport(broker: BenchBroker, settings: Settings, batches: readonly Message[][], records: number): Promise<TransportRun[]> {
  const kafka = benchKafka(broker, `tracefold-bench-${settings.runId}`);
  const admin = kafka.admin();
  await admin.connect();
  const topics: string[] = [];
  const producers: Producer[] = [];
  try {
    for (let c = 0; c < settings.clients; c++) producers.push(await connectedProducer(kafka));
    const newTopic = async (name: string): Promise<string> => {
      const topic = `tracefold-bench-${settings.runId}-${name}`;
      await createTopic(admin, topic);
      topics.push(topic);
      return topic;
    };
    // Warm-up: connections to every partition leader, the JIT of the send and fetch paths.
    const warmTopic = await newTopic('warmup');
    const warmBatches = batches.slice(0, Math.max(1, Math.ceil(batches.length / 10)));
    await produceAll(producers, settings.clients, warmTopic, warmBatches);
    await consumeAll(kafka, `tracefold-bench-${settings.runId}-warmup`, [warmTopic], warmBatches.reduce((n, b) => n + b.length, 0));

    const runs: TransportRun[] = [];
    for (let run = 0; run < settings.runs; run++) {
      const sharedTopic = await newTopic(`shared-${run}`);
      const sharedMs = await produceAll(producers.slice(0, 1), settings.clients, sharedTopic, batches);
      const ownTopic = await newTopic(`own-${run}`);
      const ownMs = await produceAll(producers, settings.clients, ownTopic, batches);
      if ((await recordsIn(admin, ownTopic)) !== records || (await recordsIn(admin, sharedTopic)) !== records) {
        throw new Error(`a transport topic does not hold the ${records} records sent`);
      }
      // Both topics, 12 partitions: twice the records, so the group join weighs less.
      const consumed = await consumeAll(kafka, `tracefold-bench-${settings.runId}-read-${run}`, [sharedTopic, ownTopic], 2 * records);
      runs.push({ sharedMs, ownMs, consumeMs: consumed.ms, consumeFirstMs: consumed.firstMs });
    }
    return runs;
  } finally {
    for (const producer of producers) await producer.disconnect();
    // The bench's own topics go; an owned broker is wiped anyway, a shared one should not keep them.
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------
// Pipeline

async function startRole(broker: BenchBroker, role: Role, dataDir: string, jwtSecret: string): Promise<Tracefold> {
  const config = loadConfig({
    // The benchmark is one tenant pushing as hard as it can: no per-tenant rate limit.
    TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '0',
    TRACEFOLD_PORT: '0',
    TRACEFOLD_HOST: '127.0.0.1',
    TRACEFOLD_DATA_DIR: dataDir,
    TRACEFOLD_KAFKA_BROKERS: broker.brokers.join(','),
    TRACEFOLD_JWT_SECRET: jwtSecret,
    TRACEFOLD_INACTIVITY_GAP_MS: String(INACTIVITY_GAP_MS),
    TRACEFOLD_LOG_LEVEL: 'silent',
  });
  return startTracefold(config, pino({ level: 'silent' }), role);
}

async function createTenant(api: Tracefold, name: string): Promise<{ tenantId: string; apiKey: string }> {
  const created = await postJson(`${api.url}/api/v1/auth/tenants`, JSON.stringify({ name }));
  if (created.status !== 201) throw new Error(`tenant creation answered ${created.status}: ${created.text}`);
  const { tenant_id: tenantId, api_key: apiKey } = tenantAnswer.parse(created.json);
  return { tenantId, apiKey };
}

/** Waits until the ingest instance's tenants view knows the key (it reads tracefold.tenants.v1). */
async function waitForKey(ingest: Tracefold, apiKey: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  for (;;) {
    const probe = await postJson(`${ingest.url}/v1/traces`, JSON.stringify({ resourceSpans: [] }), apiKey);
    if (probe.status === 200) return;
    if (probe.status !== 401 && probe.status !== 403) throw new Error(`probing ingest answered ${probe.status}: ${probe.text}`);
    if (performance.now() > deadline) throw new Error(`the ingest instance did not accept a new key within ${TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** Sends every body from `clients` concurrent clients; ms from the first request to the last answer. */
async function send(ingest: Tracefold, workload: AgentWorkload, apiKey: string, clients: number): Promise<number> {
  let next = 0;
  let lastAnswer = 0;
  let accepted = 0;
  const started = performance.now();
  const client = async (): Promise<void> => {
    for (let i = next++; i < workload.bodies.length; i = next++) {
      const res = await postJson(`${ingest.url}/v1/traces`, workload.bodies[i]!, apiKey);
      if (res.status !== 200) throw new Error(`POST /v1/traces answered ${res.status}: ${res.text}`);
      const answer = ingestAnswer.parse(res.json);
      if (answer.rejected_spans !== 0) throw new Error(`POST /v1/traces rejected spans: ${res.text}`);
      accepted += answer.accepted_spans;
      lastAnswer = performance.now();
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  if (accepted !== workload.spans) throw new Error(`${accepted} spans accepted, expected ${workload.spans}`);
  return lastAnswer - started;
}

async function measurePipeline(broker: BenchBroker, settings: Settings, workload: AgentWorkload, warmup: AgentWorkload): Promise<PipelineRun> {
  await broker.reset();
  const jwtSecret = randomBytes(48).toString('base64url');
  const dirs: string[] = [];
  const dataDir = async (role: string): Promise<string> => {
    const dir = await mkdtemp(join(settings.parent, `tracefold-bench-kafka-${role}-`));
    dirs.push(dir);
    return dir;
  };
  const running: Tracefold[] = [];
  const kafka = benchKafka(broker, `tracefold-bench-${settings.runId}`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Tenants through an api-role instance; the ingest role learns them from the log.
    const api = await startRole(broker, 'api', await dataDir('api'), jwtSecret);
    running.push(api);
    const ingest = await startRole(broker, 'ingest', await dataDir('ingest'), jwtSecret);
    running.push(ingest);
    const measured = await createTenant(api, 'bench');
    const warm = await createTenant(api, 'bench-warmup');
    await waitForKey(ingest, measured.apiKey);
    await waitForKey(ingest, warm.apiKey);
    await api.close();

    const rawBefore = await recordsIn(admin, TOPICS.raw);
    await send(ingest, warmup, warm.apiKey, settings.clients);
    const ingestMs = await send(ingest, workload, measured.apiKey, settings.clients);
    await ingest.close();
    const ingested = (await recordsIn(admin, TOPICS.raw)) - rawBefore;
    if (ingested !== warmup.spans + workload.spans) {
      throw new Error(`the raw topic gained ${ingested} records, expected ${warmup.spans + workload.spans}`);
    }

    // The trace stage reads what its group has not committed: on a fresh broker, everything.
    const backlog = (await recordsIn(admin, TOPICS.raw)) - (await committedIn(admin, TRACE_STAGE_GROUP, TOPICS.raw));
    const traces = warmup.traceIds.length + workload.traceIds.length;
    const started = performance.now();
    const tracer = await startRole(broker, 'trace', await dataDir('trace'), jwtSecret);
    running.push(tracer);
    const traceStartMs = performance.now() - started;
    const stage = tracer.traceStage;
    if (stage === null) throw new Error('the trace role started without a trace stage');
    let failure: unknown = null;
    stage.done.catch((err: unknown) => (failure = err));
    const deadline = started + TIMEOUT_MS;
    const read = () => stage.stats.spansAssembled + stage.stats.duplicateSpans + stage.stats.lateSpansDeadLettered;
    let traceReadMs = Number.NaN;
    for (;;) {
      if (Number.isNaN(traceReadMs) && read() >= backlog) traceReadMs = performance.now() - started;
      if (stage.stats.windowsClosed >= traces && read() >= backlog) break;
      if (failure !== null) throw new Error('the trace stage stopped on an error', { cause: failure });
      if (performance.now() > deadline) {
        throw new Error(
          `trace stage not done after ${TIMEOUT_MS} ms: ${stage.stats.windowsClosed}/${traces} windows closed, ` +
            `${read()}/${backlog} spans read`,
        );
      }
      await sleep(POLL_MS);
    }
    const traceMs = performance.now() - started;
    return { ingestMs, traceMs, traceStartMs, traceReadMs, backlog, windowsClosed: stage.stats.windowsClosed, detections: stage.stats.detectionsEmitted };
  } finally {
    for (const instance of running.reverse()) await instance.close();
    await admin.disconnect();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------

export async function runKafkaBench(): Promise<void> {
  const settings: Settings = {
    traces: envInt('BENCH_KAFKA_TRACES', 2000),
    runs: envInt('BENCH_KAFKA_RUNS', 3),
    clients: envInt('BENCH_KAFKA_CLIENTS', 4),
    parent: process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir(),
    runId: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
  };
  const warmupTraces = Math.max(LOOP_EVERY, Math.ceil(settings.traces / 10));
  const shape = { spansPerTrace: SPANS_PER_TRACE, spansPerRequest: SPANS_PER_REQUEST, loopEvery: LOOP_EVERY };
  const workload = agentWorkload({ traces: settings.traces, ...shape });
  const warmup = agentWorkload({ traces: warmupTraces, ...shape });

  const codecs = await createCodecs(new LocalSchemaIds());
  const batches = await workloadRecords(codecs, workload);
  const sizes = recordBytes(batches);
  const typical = (await codecs.rawEvent.encode({ type: 'span', span: typicalCanonicalSpan() })).length;
  const otlpPerSpan = workload.bodies.reduce((n, b) => n + Buffer.byteLength(b), 0) / workload.spans;

  const brokerStarted = performance.now();
  const { broker, notes } = await acquireBroker();
  try {
    console.log(`broker: ${broker.description}`);
    for (const note of notes) console.log(`  ${note}`);
    if (broker.owned) console.log(`  started in ${((performance.now() - brokerStarted) / 1000).toFixed(1)} s`);
    console.log(
      `workload: ${formatCount(settings.traces)} traces x ${SPANS_PER_TRACE} spans = ${formatCount(workload.spans)} spans ` +
        `(${formatCount(workload.loopingTraces)} with a 5-call loop), ${workload.bodies.length} OTLP JSON requests of ${SPANS_PER_REQUEST} spans ` +
        `from ${settings.clients} clients; pipeline warm-up ${formatCount(warmup.spans)} spans; median of ${settings.runs} runs; ` +
        `cpus=${os.cpus().length} (shared by broker, tracefold and clients); dir=${settings.parent}`,
    );
    console.log(
      `record sizes: raw-topic record of a workload span = value ${sizes.value.toFixed(0)} B (Avro, framed) + key ${sizes.key.toFixed(0)} B ` +
        `+ headers ${sizes.headers.toFixed(0)} B; OTLP JSON ${otlpPerSpan.toFixed(0)} B per span; ` +
        `for scale, the 30-attribute typical span of bench/serde.ts encodes to ${typical} B`,
    );

    // Transport limit on the broker as it was started (the bench's own topics only).
    const transport = await measureTransport(broker, settings, batches, sizes.count);

    const pipeline: PipelineRun[] = [];
    for (let run = 0; run < settings.runs; run++) pipeline.push(await measurePipeline(broker, settings, workload, warmup));

    const rate = (ms: number) => perSecond(sizes.count, ms);
    const shared = rate(median(transport.map((r) => r.sharedMs)));
    const own = rate(median(transport.map((r) => r.ownMs)));
    const consumer = perSecond(2 * sizes.count, median(transport.map((r) => r.consumeMs)));
    const producerLimit = Math.max(shared, own);
    const ingest = perSecond(workload.spans, median(pipeline.map((r) => r.ingestMs)));
    const traceMs = median(pipeline.map((r) => r.traceMs));
    const backlogs = pipeline.map((r) => r.backlog);
    const trace = perSecond(median(backlogs), traceMs);
    const perRun = (values: readonly number[]) => values.map((v) => formatCount(v)).join(' ');

    console.log(
      '\n' +
        table([
          ['', 'per s', 'ratio', 'runs (ms)'],
          [`raw producer, 1 shared by ${settings.clients} senders (records)`, formatCount(shared), '', perRun(transport.map((r) => r.sharedMs))],
          [`raw producer, ${settings.clients} own (records)`, formatCount(own), '', perRun(transport.map((r) => r.ownMs))],
          [
            'tracefold ingest -> Kafka (spans)',
            formatCount(ingest),
            `${formatRatio(ingest / producerLimit)} of the faster raw producer`,
            perRun(pipeline.map((r) => r.ingestMs)),
          ],
          ['raw consumer, eachBatch + autoCommit (records)', formatCount(consumer), '', perRun(transport.map((r) => r.consumeMs))],
          ['tracefold trace stage on Kafka (spans)', formatCount(trace), `${formatRatio(trace / consumer)} of the raw consumer`, perRun(pipeline.map((r) => r.traceMs))],
        ]),
    );
    console.log(
      table([
        ['', 'per run'],
        ['raw consumer: connect -> first batch, ms', perRun(transport.map((r) => r.consumeFirstMs))],
        ['trace role: startTracefold call -> resolved, ms', perRun(pipeline.map((r) => r.traceStartMs))],
        ['trace role: startTracefold call -> every span read, ms', perRun(pipeline.map((r) => r.traceReadMs))],
        ['trace stage backlog, records', perRun(backlogs)],
        ['windows closed', perRun(pipeline.map((r) => r.windowsClosed))],
        ['detections emitted', perRun(pipeline.map((r) => r.detections))],
      ]),
    );
    console.log(
      [
        `raw producer: ${formatCount(sizes.count)} records (the workload's raw-topic records) in batches of ${SPANS_PER_REQUEST}, acks=-1, idempotent, ` +
          `into a new ${TRANSPORT_PARTITIONS}-partition topic; first send -> last ack; "shared" is one producer (kafkajs keeps one ` +
          `request in flight per broker for it), "own" one producer per sender`,
        `tracefold ingest: first POST -> last 200 for ${formatCount(workload.spans)} spans: HTTP, JSON parse, OTLP decode, Avro encode, ` +
          `append acknowledged by the broker; clients in this process; after a ${formatCount(warmup.spans)}-span warm-up`,
        `raw consumer: new group over both producer topics (12 partitions), connect -> last of the ${formatCount(2 * sizes.count)} records ` +
          `handed to eachBatch (group join included, records counted, not decoded)`,
        `trace stage: startTracefold(role trace) on a fresh data dir -> every window closed, over the whole raw topic ` +
          `(warm-up spans included); startup, group join, window assembly in RocksDB, ${INACTIVITY_GAP_MS} ms inactivity gap, ` +
          `detectors, transactional output, up to ${POLL_MS} ms of polling`,
        broker.owned
          ? 'each pipeline run starts on the bench broker with empty storage (restarted between runs, not timed)'
          : 'pipeline runs share the given broker: later runs start where the trace stage group stopped, so its figure includes restoring the windows changelog of earlier runs',
      ].join('\n'),
    );
  } finally {
    await broker.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runKafkaBench();
}
