/**
 * Value serdes against a real Confluent-compatible schema registry (Apicurio's ccompat API,
 * as chosen by the global setup), and interop with consumers that are not tracefold: the
 * registry client's own Avro decoder and kcat.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCodecs,
  createSchemaIds,
  loadSchema,
  LocalSchemaIds,
  readFrame,
  RegistrySchemaIds,
  SerdeError,
  valueSubject,
  type Codecs,
} from '../../../src/log/serde/index.js';
import { TOPICS } from '../../../src/log/topics.js';
import type { RawEvent } from '../../../src/model/span.js';
import { kafkaBrokers, schemaRegistryUrl } from '../../support/kafka.js';
import { BIG, detection, fullSpan } from '../../unit/serde/fixtures.js';

const registryUrl = schemaRegistryUrl();
const brokers = kafkaBrokers();
const REQUIRED = process.env.TRACEFOLD_REQUIRE_KAFKA === '1';

const describeRegistry: typeof describe = (registryUrl !== null ? describe : describe.skip) as typeof describe;

/** `kcat -V` when kcat is on PATH, else null. */
function kcatVersion(): string | null {
  try {
    return execFileSync('kcat', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return null;
  }
}
const kcat = kcatVersion();
// kcat lists "Avro" among its build features only when it was built with libserdes.
const kcatHasAvro = kcat !== null && /\(.*\bAvro\b.*\)/.test(kcat);

function runKcat(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kcat', args, { encoding: 'buffer', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

function getJson(url: string): Promise<unknown> {
  return fetch(url).then(async (response) => {
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    return response.json();
  });
}

const spanEvent: RawEvent = { type: 'span', span: fullSpan };

describeRegistry('RegistrySchemaIds against a schema registry', () => {
  const url = registryUrl ?? '';
  let ids: RegistrySchemaIds;
  let codecs: Codecs;

  beforeAll(async () => {
    ids = new RegistrySchemaIds(url);
    codecs = await createCodecs(ids);
  });

  it('registers every topic value schema under <topic>-value and frames values with the registry id', async () => {
    const expected = {
      rawEvent: TOPICS.raw,
      trace: TOPICS.traces,
      detection: TOPICS.detections,
      metrics: TOPICS.metrics,
      feedback: TOPICS.feedback,
      tenantRegistryEvent: TOPICS.tenants,
      session: TOPICS.sessions,
    } as const;
    const subjects = (await getJson(`${url}/subjects`)) as string[];
    for (const [name, topic] of Object.entries(expected)) {
      const codec = codecs[name as keyof Codecs];
      expect(codec.subject).toBe(`${topic}-value`);
      expect(codec.subject).toBe(valueSubject(topic));
      expect(subjects).toContain(codec.subject);
    }
    const latest = (await getJson(`${url}/subjects/${encodeURIComponent(codecs.detection.subject)}/versions/latest`)) as { id: number };
    const { schemaId } = readFrame(await codecs.detection.encode(detection));
    expect(schemaId).toBe(latest.id);
  });

  it('round-trips a detection and a span with int64 values beyond 2^53', async () => {
    expect(await codecs.detection.decode(await codecs.detection.encode(detection))).toStrictEqual(detection);
    const decoded = await codecs.rawEvent.decode(await codecs.rawEvent.encode(spanEvent));
    expect(decoded).toStrictEqual(spanEvent);
    if (decoded.type !== 'span') throw new Error('expected a span');
    expect(decoded.span.attributes.find((a) => a.key === 'int.big')?.value).toEqual({ type: 'int', value: BIG });
  });

  it('lets a second instance with empty caches decode what the first encoded', async () => {
    const detectionBytes = await codecs.detection.encode(detection);
    const spanBytes = await codecs.rawEvent.encode(spanEvent);

    const fresh = await createCodecs(new RegistrySchemaIds(url));
    expect(await fresh.detection.decode(detectionBytes)).toStrictEqual(detection);
    expect(await fresh.rawEvent.decode(spanBytes)).toStrictEqual(spanEvent);

    // The writer schema fetched by id parses exactly as the local one: same type, same values.
    const other = new RegistrySchemaIds(url);
    for (const [bytes, name] of [
      [detectionBytes, 'detection'],
      [spanBytes, 'raw-event'],
    ] as const) {
      const { schemaId, body } = readFrame(bytes);
      const fetched = await other.typeFor(schemaId);
      const local = await loadSchema(name);
      expect(fetched.equals(local)).toBe(true);
      const record: unknown = local.fromBuffer(body);
      // Same values (records are instances of each type's own class, hence toEqual); writing
      // them back with the fetched type, bigint longs included, gives the same bytes.
      expect(fetched.fromBuffer(body)).toEqual(record);
      expect(fetched.toBuffer(record).equals(body)).toBe(true);
    }
  });

  it('rejects an id the registry does not know with a SerdeError', async () => {
    const unknown = new RegistrySchemaIds(url).typeFor(2_000_000_000);
    await expect(unknown).rejects.toBeInstanceOf(SerdeError);
    await expect(unknown).rejects.toThrow(/unknown schema id 2000000000/);
  });

  it('decodes values written without a registry (locally derived ids)', async () => {
    const written = await (await createCodecs(new LocalSchemaIds())).rawEvent.encode(spanEvent);
    expect(await (await createCodecs(new RegistrySchemaIds(url))).rawEvent.decode(written)).toStrictEqual(spanEvent);
  });

  it('is what createSchemaIds gives for a URL; local ids without one', () => {
    expect(createSchemaIds(url)).toBeInstanceOf(RegistrySchemaIds);
    expect(createSchemaIds(null)).toBeInstanceOf(LocalSchemaIds);
  });

  const describeInterop: typeof describe = (brokers.length > 0 ? describe : describe.skip) as typeof describe;

  describeInterop('a detection produced to Kafka', () => {
    const topic = `tracefold.test.registry-interop.${randomUUID()}`;
    const kafka = new Kafka({ clientId: 'tracefold-registry-test', brokers, logLevel: logLevel.NOTHING });
    let value: Buffer;

    beforeAll(async () => {
      value = await codecs.detection.encode(detection);
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ key: `${detection.tenantId}/${detection.traceId}`, value }] });
      } finally {
        await producer.disconnect();
      }
    });

    afterAll(async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: [topic] });
      } finally {
        await admin.disconnect();
      }
    });

    it('decodes with the registry client’s own Avro decoder (a plain Confluent consumer)', async () => {
      const consumer = kafka.consumer({ groupId: `tracefold-registry-test-${randomUUID()}` });
      await consumer.connect();
      // Assigned in the handler: typed so that the checks below do not narrow it to null.
      let received = null as Buffer | null;
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no record within 20 s')), 20_000);
          void consumer.run({
            eachMessage: async ({ message }) => {
              received = message.value;
              clearTimeout(timer);
              resolve();
            },
          });
        });
      } finally {
        await consumer.disconnect();
      }
      expect(received).toEqual(value);
      const decoded = await new SchemaRegistry({ host: url }).decode(received!);
      expect(decoded).toMatchObject({
        id: detection.id,
        tenant_id: detection.tenantId,
        trace_id: detection.traceId,
        detector_id: detection.detectorId,
        detection_type: detection.detectionType,
        confidence: detection.confidence,
        severity: detection.severity,
        agent: detection.agent,
        affected_span_ids: detection.affectedSpanIds,
        detected_at_ms: detection.detectedAtMs,
      });
    });

    it.skipIf(kcat === null && !REQUIRED)('is read by kcat as Confluent-framed bytes that the registry client decodes', async () => {
      expect(kcat, 'kcat is not installed (Debian package kcat)').not.toBeNull();
      const { code, stdout, stderr } = await runKcat(['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-q', '-f', '%s']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toEqual(value);
      const decoded = await new SchemaRegistry({ host: url }).decode(stdout);
      expect(decoded).toMatchObject({ id: detection.id, tenant_id: detection.tenantId, title: detection.title });
    });

    // Debian's kcat is built without libserdes, so without Avro support ("This build of kcat
    // lacks Avro/Schema-Registry support"); a kcat built with it runs this.
    it.skipIf(!kcatHasAvro)('is decoded by kcat -s value=avro against the registry', async () => {
      const { code, stdout, stderr } = await runKcat([
        '-C',
        '-b',
        brokers.join(','),
        '-t',
        topic,
        '-o',
        'beginning',
        '-c',
        '1',
        '-e',
        '-q',
        '-s',
        'value=avro',
        '-r',
        url,
      ]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const printed = JSON.parse(stdout.toString('utf8')) as Record<string, unknown>;
      expect(printed).toMatchObject({
        id: detection.id,
        tenant_id: detection.tenantId,
        trace_id: detection.traceId,
        detector_id: detection.detectorId,
        title: detection.title,
        // avro-c prints a ["null","string"] union as {"string": …}.
        agent: { string: detection.agent },
      });
    });
  });
});
