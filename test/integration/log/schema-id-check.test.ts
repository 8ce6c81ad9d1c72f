/**
 * The start-up check of a process without a schema registry (src/cli/schema-id-check.ts)
 * on a real embedded log: what it reads of each partition, and that startTracefold refuses
 * to start on a log holding values written through a registry.
 */
import type avro from 'avsc';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSchemaIds, sampleSchemaIds, SchemaIdModeError } from '../../../src/cli/schema-id-check.js';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import { createCodecs, frame, loadSchema, LocalSchemaIds, localSchemaId, readFrame, type Codecs, type SchemaIds } from '../../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';
import { startServer } from '../../support/server.js';
import { traceRecord } from '../../unit/serde/fixtures.js';
import { tempDir } from './helpers.js';

/** Hands out ids as a schema registry does: 1, 2, 3… in the order schemas are registered. */
class CountingIds implements SchemaIds {
  private readonly ids = new Map<string, number>();
  private readonly types = new Map<number, avro.Type>();

  async idFor(_subject: string, schema: avro.Type): Promise<number> {
    const key = schema.fingerprint('sha256').toString('hex');
    let id = this.ids.get(key);
    if (id === undefined) {
      this.ids.set(key, (id = this.ids.size + 1));
      this.types.set(id, schema);
    }
    return id;
  }

  async typeFor(id: number): Promise<avro.Type> {
    const type = this.types.get(id);
    if (type === undefined) throw new Error(`no schema ${id}`);
    return type;
  }
}

const silent = pino({ level: 'silent' });
const key = Buffer.from(`${traceRecord.tenantId}/${traceRecord.traceId}`);

describe('the start-up check of schema ids on an embedded log', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let log: EmbeddedLog | null = null;
  let viaRegistry: Codecs;
  let local: Codecs;

  async function openLog(): Promise<EmbeddedLog> {
    dir = await tempDir();
    log = await createEmbeddedLog({ dataDir: dir.path, sync: 'none' });
    await log.ensureTopics(await loadTopicDeclarations());
    viaRegistry = await createCodecs(new CountingIds());
    local = await createCodecs(new LocalSchemaIds());
    return log;
  }

  afterEach(async () => {
    await log?.close();
    log = null;
    await dir?.remove();
  });

  it('passes an empty log, reading nothing', async () => {
    const opened = await openLog();
    expect(await sampleSchemaIds(opened, Object.values(TOPICS))).toEqual([]);
    await expect(checkSchemaIds(opened, await loadTopicDeclarations(), { registryUrl: null, logger: silent })).resolves.toBeUndefined();
  });

  it('reads the id of the last record of each partition, skipping tombstones and unframed values', async () => {
    const opened = await openLog();
    const [first] = await opened.append(TOPICS.traces, [{ key, value: await viaRegistry.trace.encode(traceRecord) }]);
    await opened.append(TOPICS.traces, [{ key, value: await local.trace.encode(traceRecord) }]);
    await opened.append(TOPICS.tenants, [{ key: Buffer.from('t'), value: null, partition: 0 }]);
    await opened.append(TOPICS.sessions, [{ key: Buffer.from('s'), value: Buffer.from('{"json":true}'), partition: 0 }]);
    const found = await sampleSchemaIds(opened, [TOPICS.traces, TOPICS.tenants, TOPICS.sessions]);
    expect(found).toEqual([{ topic: TOPICS.traces, partition: first!.partition, offset: first!.offset + 1, schemaId: localSchemaId(await loadSchema('trace-record')) }]);
  });

  it('refuses a log whose last records were written through a registry, and only without one', async () => {
    const opened = await openLog();
    const value = await viaRegistry.trace.encode(traceRecord);
    const { schemaId } = readFrame(value);
    expect(schemaId).toBeLessThan(20);
    const [appended] = await opened.append(TOPICS.traces, [{ key, value }]);
    const declarations = await loadTopicDeclarations();
    const check = checkSchemaIds(opened, declarations, { registryUrl: null, logger: silent });
    await expect(check).rejects.toBeInstanceOf(SchemaIdModeError);
    await expect(check).rejects.toThrow(
      /^tracefold\.traces\.v1 holds values written through a schema registry \(schema id \d+, not one of this version's schemas\): set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes use/,
    );
    expect((await sampleSchemaIds(opened, [TOPICS.traces]))[0]).toMatchObject({ partition: appended!.partition, schemaId });
    // With a registry, every id decodes (the registry's, and the local ones as a fallback).
    await expect(checkSchemaIds(opened, declarations, { registryUrl: 'http://127.0.0.1:9/apis/ccompat/v7', logger: silent })).resolves.toBeUndefined();
  });

  it('does not look at the dead letters, and lets ids of newer schemas through with a warning', async () => {
    const opened = await openLog();
    // Dead letters keep whatever bytes were refused, registry-framed ones included.
    await opened.append(TOPICS.deadLetter, [{ key, value: await viaRegistry.trace.encode(traceRecord) }]);
    await opened.append(TOPICS.raw, [{ key, value: frame(2_000_000_001, Buffer.from([0])) }]);
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    await expect(checkSchemaIds(opened, await loadTopicDeclarations(), { registryUrl: null, logger })).resolves.toBeUndefined();
    expect(warnings).toEqual([
      expect.objectContaining({ topic: TOPICS.raw, schemaId: 2_000_000_001, msg: expect.stringContaining("schema id 2000000001, which is none of this version's schemas") }),
    ]);
  });

  it('tries a topic again while the log says that can help, and leaves out one it cannot read', async () => {
    const opened = await openLog();
    await opened.append(TOPICS.traces, [{ key, value: frame(6, Buffer.from([0])) }]);
    await opened.append(TOPICS.raw, [{ key, value: frame(7, Buffer.from([0])) }]);
    let leaderless = 3;
    // traces: no leader yet, three times (a topic created a moment ago); raw: not ours to read.
    const flaky = new Proxy(opened, {
      get(target, property, receiver) {
        if (property !== 'endOffsets') return Reflect.get(target, property, receiver);
        return async (topic: string) => {
          if (topic === TOPICS.traces && leaderless-- > 0) throw Object.assign(new Error('no leader yet'), { retryable: true });
          if (topic === TOPICS.raw) throw Object.assign(new Error('not authorized'), { retryable: false });
          return target.endOffsets(topic);
        };
      },
    });
    const warnings: { topic?: string; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    await expect(checkSchemaIds(flaky, await loadTopicDeclarations(), { registryUrl: null, logger })).rejects.toThrow(/^tracefold\.traces\.v1 holds values written through a schema registry \(schema id 6,/);
    expect(leaderless).toBeLessThan(0);
    expect(warnings).toEqual([expect.objectContaining({ topic: TOPICS.raw, msg: expect.stringContaining('cannot check the schema ids of tracefold.raw.v1 (not authorized)') })]);
  });

  it('keeps startTracefold from starting, with the reason, when there is no registry', async () => {
    const opened = await openLog();
    await opened.append(TOPICS.tenants, [{ key: Buffer.from('tenant-1'), value: frame(6, Buffer.from([0])) }]);
    await opened.close();
    log = null;
    await expect(startServer({}, dir.path)).rejects.toThrow(
      "tracefold.tenants.v1 holds values written through a schema registry (schema id 6, not one of this version's schemas): set TRACEFOLD_SCHEMA_REGISTRY_URL",
    );
    // The log was closed again: a process started on it afterwards (here, a reopen) gets it.
    log = await createEmbeddedLog({ dataDir: dir.path, sync: 'none' });
    expect(await log.endOffsets(TOPICS.tenants)).toContain(1);
  });
});
