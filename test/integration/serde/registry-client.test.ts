/**
 * RegistrySchemaIds against a minimal in-process imitation of the Confluent API: what it
 * asks the registry, what it remembers, and what it does not (failures). Runs everywhere;
 * registry.test.ts checks the same class against a real registry.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCodecs, loadHistoricSchemas, loadSchema, LocalSchemaIds, localSchemaId, readFrame, RegistrySchemaIds, SerdeError } from '../../../src/log/serde/index.js';
import { traceMetricsMapping } from '../../../src/log/serde/mapping.js';
import { detection, metrics } from '../../unit/serde/fixtures.js';

interface Registered {
  readonly id: number;
  readonly schema: string;
}

/** Subjects, schemas by id and every request seen, with failures to inject. */
class FakeRegistry {
  readonly requests: string[] = [];
  readonly subjects = new Map<string, Registered[]>();
  readonly schemas = new Map<number, string>();
  failNext = 0;
  private nextId = 100;

  reset(): void {
    this.requests.length = 0;
    this.subjects.clear();
    this.schemas.clear();
    this.failNext = 0;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { schema?: string }) : {};
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push(`${req.method} ${path}`);
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(value));
    };
    if (this.failNext > 0) {
      this.failNext--;
      return send(500, { error_code: 50001, message: 'injected failure' });
    }
    let match: RegExpMatchArray | null;
    if (req.method === 'POST' && (match = /^\/subjects\/([^/]+)\/versions$/.exec(path))) {
      const subject = match[1]!;
      const versions = this.subjects.get(subject) ?? [];
      let found = [...this.schemas].find(([, schema]) => schema === body.schema)?.[0];
      if (found === undefined) this.schemas.set((found = this.nextId++), body.schema!);
      if (!versions.some((v) => v.id === found)) versions.push({ id: found, schema: body.schema! });
      this.subjects.set(subject, versions);
      return send(200, { id: found });
    }
    if (req.method === 'POST' && (match = /^\/subjects\/([^/]+)$/.exec(path))) {
      const hit = this.subjects.get(match[1]!)?.find((v) => v.schema === body.schema);
      return hit === undefined ? send(404, { error_code: 40403, message: 'Schema not found' }) : send(200, { id: hit.id, subject: match[1], version: 1, schema: hit.schema });
    }
    if ((match = /^\/config\/([^/]+)$/.exec(path))) {
      if (req.method === 'PUT') return send(200, { compatibility: 'BACKWARD' });
      return this.subjects.has(match[1]!) ? send(200, { compatibilityLevel: 'BACKWARD' }) : send(404, { error_code: 40401, message: 'Subject not found' });
    }
    if (req.method === 'GET' && (match = /^\/schemas\/ids\/(\d+)$/.exec(path))) {
      const schema = this.schemas.get(Number(match[1]));
      return schema === undefined ? send(404, { error_code: 40403, message: 'Schema not found' }) : send(200, { schema });
    }
    return send(404, { error_code: 404, message: `no route ${req.method} ${path}` });
  }
}

const fake = new FakeRegistry();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    fake.handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

beforeEach(() => fake.reset());

describe('RegistrySchemaIds (against an imitation of the Confluent API)', () => {
  it('registers a schema under a new subject once, then answers from memory', async () => {
    const type = await loadSchema('detection');
    const ids = new RegistrySchemaIds(`${url}/`);
    const [a, b] = await Promise.all([ids.idFor('t-value', type), ids.idFor('t-value', type)]);
    expect(a).toBe(b);
    expect(await ids.idFor('t-value', type)).toBe(a);
    expect(fake.requests).toEqual(['POST /subjects/t-value', 'GET /config/t-value', 'POST /subjects/t-value/versions', 'PUT /config/t-value']);
    // Registered with docs and every shared type inlined, as any Confluent consumer needs it.
    const registered = JSON.parse(fake.schemas.get(a)!) as { name: string; doc?: string };
    expect(registered).toMatchObject({ name: 'dev.tracefold.v1.Detection', doc: expect.stringContaining('tracefold.detections.v1') });
    // Its own schema needs no fetch to decode.
    expect(await ids.typeFor(a)).toBe(type);
    expect(fake.requests).toHaveLength(4);
  });

  it('only looks up a schema the subject already has', async () => {
    const type = await loadSchema('feedback');
    const id = await new RegistrySchemaIds(url).idFor('f-value', type);
    fake.requests.length = 0;
    expect(await new RegistrySchemaIds(url).idFor('f-value', type)).toBe(id);
    expect(fake.requests).toEqual(['POST /subjects/f-value']);
  });

  it('fetches a writer schema by id once and parses it like local schemas (bigint longs)', async () => {
    const type = await loadSchema('trace-metrics');
    const id = await new RegistrySchemaIds(url).idFor('m-value', type);
    fake.requests.length = 0;
    const reader = new RegistrySchemaIds(url);
    const [fetched, again] = await Promise.all([reader.typeFor(id), reader.typeFor(id)]);
    expect(fetched).toBe(again);
    expect(fake.requests).toEqual([`GET /schemas/ids/${id}`]);
    expect(fetched.equals(type)).toBe(true);
    const record = traceMetricsMapping.toAvro(metrics);
    const decoded = fetched.fromBuffer(type.toBuffer(record)) as typeof record;
    expect(decoded.start_time_unix_nano).toBe(metrics.startTimeUnixNano);
    expect(typeof decoded.input_tokens).toBe('bigint');
  });

  it('rejects an unknown id with a SerdeError naming the id', async () => {
    const reader = new RegistrySchemaIds(url);
    await expect(reader.typeFor(7)).rejects.toBeInstanceOf(SerdeError);
    await expect(reader.typeFor(7)).rejects.toThrow(`unknown schema id 7: the schema registry ${url} has no schema with this id, and it is not the locally derived id of any schema of this version`);
  });

  it('decodes values framed with locally derived ids: the registry is asked, then the local schemas', async () => {
    // Written by a process without a registry (or before the registry was introduced).
    const written = await (await createCodecs(new LocalSchemaIds())).detection.encode(detection);
    const localId = readFrame(written).schemaId;
    const reader = await createCodecs(new RegistrySchemaIds(url));
    fake.requests.length = 0;
    expect(await reader.detection.decode(written)).toStrictEqual(detection);
    expect(await reader.detection.decode(written)).toStrictEqual(detection);
    expect(fake.requests).toEqual([`GET /schemas/ids/${localId}`]);
    // Earlier versions too (schemas/history).
    const historic = (await loadHistoricSchemas()).find((t) => t.name === 'dev.tracefold.v1.Detection')!;
    expect((await new RegistrySchemaIds(url).typeFor(localSchemaId(historic))).equals(historic)).toBe(true);
  });

  it('takes the registry’s schema for an id it has, even one that is also a local id', async () => {
    const local = await loadSchema('detection');
    const feedback = await loadSchema('feedback');
    fake.schemas.set(localSchemaId(local), JSON.stringify(feedback.schema({ exportAttrs: true })));
    expect((await new RegistrySchemaIds(url).typeFor(localSchemaId(local))).name).toBe('dev.tracefold.v1.FeedbackRecord');
  });

  it('does not remember a failure: the next call asks again', async () => {
    const type = await loadSchema('tenant-event');
    const ids = new RegistrySchemaIds(url);
    fake.failNext = 100;
    await expect(ids.idFor('e-value', type)).rejects.toThrow(/cannot look up .* under e-value: .*injected failure/);
    fake.failNext = 0;
    expect(await ids.idFor('e-value', type)).toBeGreaterThan(0);
  });

  it('names the registry when it cannot be reached', async () => {
    const ids = new RegistrySchemaIds('http://127.0.0.1:9/apis/ccompat/v7');
    await expect(ids.typeFor(1)).rejects.toThrow(/schema registry http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7: cannot fetch schema id 1/);
  });
});
