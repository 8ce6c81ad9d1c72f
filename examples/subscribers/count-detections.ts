/**
 * A downstream subscriber of tracefold.detections.v1 (kafkajs and
 * @kafkajs/confluent-schema-registry): reads the topic from the beginning up to where it
 * ended when the run started, keeps one tenant's detections, and prints how many stand:
 *
 *   {"tenant":"<id>","detections":<count>,"ids":["<id>",...]}   (ids sorted)
 *
 * Rules (docs/subscribers.md): read_committed; a record whose `withdrawn` is null or absent
 * is upserted by `id`, one whose `withdrawn` is set deletes that id.
 *
 *   node --import tsx examples/subscribers/count-detections.ts \
 *     --brokers 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7 \
 *     --tenant <tenant id> [--timeout-ms 120000]
 *
 * Exits 1 with a message on stderr when the end is not reached within --timeout-ms, 2 on
 * bad arguments. Nothing is committed: every run uses a group of its own.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';

const TOPIC = 'tracefold.detections.v1';

function usage(message: string): never {
  process.stderr.write(`count-detections: ${message}\nusage: count-detections --brokers host:port[,...] --registry URL --tenant ID [--timeout-ms N]\n`);
  process.exit(2);
}

function options(): { brokers: string[]; registry: string; tenant: string; timeoutMs: number } {
  let values;
  try {
    ({ values } = parseArgs({
      options: { brokers: { type: 'string' }, registry: { type: 'string' }, tenant: { type: 'string' }, 'timeout-ms': { type: 'string', default: '120000' } },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const { brokers, registry, tenant } = values;
  if (brokers === undefined || registry === undefined || tenant === undefined) usage('--brokers, --registry and --tenant are required');
  if (tenant === '' || tenant.includes('/')) usage('--tenant: a tenant id is not empty and has no "/"');
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) usage('--timeout-ms: a positive whole number of milliseconds');
  return { brokers: brokers.split(','), registry, tenant, timeoutMs };
}

/**
 * Avro `long` as a bigint: every long in tracefold's schemas is an int64, and the default
 * number type refuses values beyond 2^53 (avsc hands over 8 little-endian bytes).
 */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (value: number | string | bigint) => BigInt(value),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** What this subscriber reads of a detection; older records have no `withdrawn` field. */
interface Detection {
  readonly id: string;
  readonly withdrawn?: unknown;
}

function isDetection(value: unknown): value is Detection {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

/** kafkajs logs to stdout by default; stdout carries the result alone. */
const stderrLog = () => (entry: LogEntry) => {
  const { message, ...extra } = entry.log;
  process.stderr.write(`[kafkajs ${entry.namespace}] ${message} ${JSON.stringify(extra)}\n`);
};

async function main(): Promise<void> {
  const { brokers, registry: registryUrl, tenant, timeoutMs } = options();
  const timer = setTimeout(() => {
    process.stderr.write(`count-detections: ${TOPIC} not read to its end within ${timeoutMs} ms\n`);
    process.exit(1);
  }, timeoutMs);

  const kafka = new Kafka({ clientId: 'count-detections', brokers, logLevel: logLevel.WARN, logCreator: stderrLog });
  const registry = new SchemaRegistry(
    { host: registryUrl },
    { [SchemaType.AVRO]: { typeHook: (schema) => (schema === 'long' || (typeof schema === 'object' && (schema as { type?: unknown }).type === 'long') ? bigintLong : undefined) } },
  );

  // Where each partition ends now, as a read_committed reader sees it (kafkajs lists
  // offsets at read_committed: the last stable offset, the high watermark when no
  // transaction is open). Every unit ends with a transaction marker, so the end is reached
  // when the position passes the last offset a fetch covered, markers included.
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  await admin.disconnect();
  const ends = new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  // A partition with nothing to read (never written, or emptied by retention) is done at once.
  const pending = new Set(offsets.filter(({ high, low }) => BigInt(high) > BigInt(low)).map(({ partition }) => partition));

  const prefix = Buffer.from(`${tenant}/`, 'utf8');
  const standing = new Set<string>();
  if (pending.size > 0) {
    // A group of its own, nothing committed: every run reads the topic from its start.
    const consumer = kafka.consumer({ groupId: `count-detections-${randomUUID()}`, readUncommitted: false });
    let reachedEnd!: () => void;
    let failed!: (err: unknown) => void;
    const reached = new Promise<void>((resolve, reject) => {
      reachedEnd = resolve;
      failed = reject;
    });
    // Fired after each fetched batch is handled, also for a batch of markers or aborted
    // records only (which never reaches eachMessage): lastOffset counts them.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = ends.get(payload.partition);
      if (payload.topic !== TOPIC || end === undefined || !pending.has(payload.partition)) return;
      if (BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
      if (pending.size === 0) reachedEnd();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        // Past the end taken at the start: later records are not part of this count.
        if (BigInt(message.offset) >= (ends.get(partition) ?? 0n)) return;
        // The tenant from the key (`<tenant>/<trace>`), before anything is decoded.
        const key = message.key;
        if (key === null || key.length <= prefix.length || !key.subarray(0, prefix.length).equals(prefix)) return;
        if (message.value === null) return;
        try {
          const value: unknown = await registry.decode(message.value);
          if (!isDetection(value)) throw new Error('not a detection');
          if (value.withdrawn === undefined || value.withdrawn === null) standing.add(value.id);
          else standing.delete(value.id);
        } catch (err) {
          // kafkajs would retry the record for ever: a value that does not decode ends the run.
          failed(new Error(`${TOPIC} partition ${partition} offset ${message.offset}: ${err instanceof Error ? err.message : String(err)}`));
        }
      },
    });
    try {
      await reached;
    } finally {
      await consumer.disconnect();
    }
  }
  clearTimeout(timer);
  const ids = [...standing].sort();
  process.stdout.write(`${JSON.stringify({ tenant, detections: ids.length, ids })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`count-detections: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
