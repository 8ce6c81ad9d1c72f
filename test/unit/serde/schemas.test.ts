import { readdir, readFile } from 'node:fs/promises';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  LocalSchemaIds,
  REGISTRY_ID_LIMIT,
  SCHEMA_DIR,
  SCHEMA_NAMESPACE,
  SHARED_SCHEMAS,
  VALUE_SCHEMAS,
  createCodecs,
  exportSchema,
  frame,
  loadHistoricSchemas,
  localSchemaId,
  loadAllSchemas,
  loadSchema,
  parseSchema,
  type SchemaIds,
} from '../../../src/log/serde/index.js';
import { detection, traceRecord } from './fixtures.js';

/** The parts of an Avro schema document the checks below look at. */
interface SchemaNode {
  type?: unknown;
  name?: string;
  namespace?: string;
  doc?: string;
  fields?: { name: string; type: unknown }[];
  items?: unknown;
  values?: unknown;
}

async function schemaFiles(): Promise<string[]> {
  return (await readdir(SCHEMA_DIR)).filter((f) => f.endsWith('.avsc')).map((f) => f.slice(0, -5));
}

/** Every record and enum definition in a schema document, with where it was found. */
function* namedTypes(node: unknown, where: string): Generator<{ where: string; def: SchemaNode }> {
  if (Array.isArray(node)) {
    for (const [i, branch] of node.entries()) yield* namedTypes(branch, `${where}[${i}]`);
  } else if (node !== null && typeof node === 'object') {
    const def = node as SchemaNode;
    if (def.type === 'record' || def.type === 'enum') yield { where, def };
    for (const field of def.fields ?? []) yield* namedTypes(field.type, `${where}.${field.name}`);
    if (def.items !== undefined) yield* namedTypes(def.items, `${where}[]`);
    if (def.values !== undefined) yield* namedTypes(def.values, `${where}{}`);
    if (typeof def.type === 'object') yield* namedTypes(def.type, where);
  }
}

describe('schemas/', () => {
  it('holds the value schema of every topic and the shared types, nothing else', async () => {
    expect((await schemaFiles()).sort()).toEqual([...VALUE_SCHEMAS, ...SHARED_SCHEMAS].sort());
  });

  it('documents every record and enum, in the dev.tracefold.v1 namespace, with snake_case fields', async () => {
    const seen = new Set<string>();
    for (const name of await schemaFiles()) {
      const doc = JSON.parse(await readFile(new URL(`${name}.avsc`, SCHEMA_DIR), 'utf8')) as SchemaNode;
      expect(doc.namespace, name).toBe(SCHEMA_NAMESPACE);
      for (const { where, def } of namedTypes(doc, doc.name ?? name)) {
        seen.add(def.name ?? where);
        expect(def.doc ?? '', `${name}: ${where} has no doc`).not.toBe('');
        if (def.namespace !== undefined) expect(def.namespace, `${name}: ${where}`).toBe(SCHEMA_NAMESPACE);
        for (const field of def.fields ?? []) expect(field.name, `${name}: ${where}`).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      }
    }
    // The walk reaches types nested in unions, arrays and fields.
    expect(seen).toEqual(
      new Set([
        ...['CanonicalSpan', 'KeyValue', 'AnyValue', 'ArrayValue', 'KeyValueList', 'SpanEvent', 'SpanLink', 'SpanStatus'],
        ...['Resource', 'InstrumentationScope', 'SpanSource', 'RawEvent', 'RawEventType', 'WindowMarker', 'WindowMarkerKind'],
        ...['TraceRecord', 'CloseReason', 'Detection', 'ConfidenceTier', 'Severity', 'Evidence', 'TraceMetrics'],
        ...['FeedbackRecord', 'FeedbackType', 'TenantEvent', 'TenantEventType', 'SessionRecord', 'SessionState', 'SessionMode'],
        ...['TenantStageEvent', 'TenantStageEventType', 'AuditRecord', 'AuditEventType', 'CalibrationRecord', 'BaselineRecord', 'RunningStats'],
        ...['Withdrawal', 'WithdrawalReason'],
      ]),
    );
  });

  it('gives each topic one complete schema: the composed schema parses on its own, unchanged', async () => {
    for (const name of VALUE_SCHEMAS) {
      const type = await loadSchema(name);
      const standalone = avro.Type.forSchema(type.schema({ exportAttrs: true }));
      expect(standalone.fingerprint('sha256').equals(type.fingerprint('sha256')), name).toBe(true);
    }
  });

  it('names the file when a schema cannot be loaded', async () => {
    await expect(loadSchema('no-such-schema')).rejects.toThrow(/schema "no-such-schema": cannot read .*no-such-schema\.avsc/);
    await expect(loadSchema('../package')).rejects.toThrow(/invalid schema name/);
  });
});

describe('local schema ids', () => {
  class RecordingIds implements SchemaIds {
    readonly subjects = new Map<string, number>();
    readonly schemas = new Map<string, avro.Type>();
    constructor(private readonly inner: SchemaIds) {}
    async idFor(subject: string, schema: avro.Type): Promise<number> {
      const id = await this.inner.idFor(subject, schema);
      this.subjects.set(subject, id);
      this.schemas.set(subject, schema);
      return id;
    }
    typeFor(id: number): Promise<avro.Type> {
      return this.inner.typeFor(id);
    }
  }

  it('derive the same id for the same schema in every instance', async () => {
    const a = new RecordingIds(new LocalSchemaIds());
    const b = new RecordingIds(new LocalSchemaIds());
    await createCodecs(a);
    await createCodecs(b);
    expect(a.subjects.size).toBe(11);
    expect(b.subjects).toEqual(a.subjects);
    // Each id comes from its schema, not from the order an instance was asked in: a third
    // instance asked for the same schemas in reverse order gives each the same id.
    const reversed = new LocalSchemaIds();
    for (const [subject, schema] of [...a.schemas].reverse()) {
      expect(await reversed.idFor(subject, schema), subject).toBe(a.subjects.get(subject));
      expect(a.subjects.get(subject), subject).toBe(localSchemaId(schema));
    }
  });

  it('are the first 31 bits of the SHA-256 of the canonical form', async () => {
    const type = await loadSchema('feedback');
    expect(localSchemaId(type)).toBe(type.fingerprint('sha256').readUInt32BE(0) & 0x7fffffff);
    // Docs are not part of the canonical form; names and types are.
    const json = type.schema({ exportAttrs: true }) as { doc: string; fields: { name: string }[] };
    expect(localSchemaId(parseSchema({ ...json, doc: 'reworded' } as Schema))).toBe(localSchemaId(type));
    const renamed = { ...json, fields: json.fields.map((f) => (f.name === 'comment' ? { ...f, name: 'note' } : f)) };
    expect(localSchemaId(parseSchema(renamed as Schema))).not.toBe(localSchemaId(type));
  });

  it('have not changed (a changed id orphans every value already written with the old one)', async () => {
    // If a schema change is intended, keep the previous schema readable (values in the
    // embedded log and replays of tracefold.raw.v1 still carry its id), then update this.
    const ids = Object.fromEntries([...(await loadAllSchemas())].map(([name, type]) => [name, localSchemaId(type)]));
    expect(ids).toEqual({
      'audit-record': 1568117690,
      baseline: 275431473,
      calibration: 1015359393,
      'canonical-span': 938033245,
      detection: 739364078,
      feedback: 2022971619,
      'raw-event': 298298518,
      'session-record': 666938692,
      'tenant-event': 95224233,
      'tenant-stage-event': 101709222,
      'trace-metrics': 1882742564,
      'trace-record': 1112560265,
    });
  });

  it('keep every earlier schema readable: raw events written before session_reset still decode', async () => {
    // 948442216: tracefold.raw.v1 before the session_reset marker kind was added.
    const historic = await loadHistoricSchemas();
    expect(historic.map(localSchemaId)).toContain(948442216);
    const old = historic.find((t) => localSchemaId(t) === 948442216)!;
    const marker = { tenant_id: 'acme', trace_id: 't1', kind: 'session_end', request_id: 'r1', received_at_ms: 1_700_000_000_000n };
    const written = frame(948442216, old.toBuffer({ type: 'marker', span: null, marker }));
    const codecs = await createCodecs(new LocalSchemaIds());
    expect(await codecs.rawEvent.decode(written)).toEqual({
      type: 'marker',
      marker: { tenantId: 'acme', traceId: 't1', kind: 'session_end', requestId: 'r1', receivedAtMs: 1_700_000_000_000 },
    });
  });

  it('keep every earlier schema readable: session records written before event_ids still decode', async () => {
    // 2069442338: tracefold.sessions.v1 before event_ids and repeated_event_count.
    const old = (await loadHistoricSchemas()).find((t) => localSchemaId(t) === 2069442338)!;
    expect(old).toBeDefined();
    const before = {
      tenant_id: 'acme',
      session_id: 's1',
      trace_id: 't1',
      root_span_id: 'r1',
      state: 'open',
      mode: 'stream',
      status: 'in_progress',
      event_count: 3n,
      started_at_ms: 1_700_000_000_000n,
      ended_at_ms: null,
      updated_at_ms: 1_700_000_000_001n,
      session_json: '{}',
    };
    const codecs = await createCodecs(new LocalSchemaIds());
    expect(await codecs.session.decode(frame(2069442338, old.toBuffer(before)))).toMatchObject({ sessionId: 's1', eventCount: 3, eventIds: [], repeatedEventCount: 0 });
  });

  it('keep every earlier schema readable: trace records written before the tree fields still decode', async () => {
    // 1469380391: tracefold.traces.v1 before truncated, orphan_span_ids and cycle_span_ids.
    const historic = await loadHistoricSchemas();
    const old = historic.find((t) => localSchemaId(t) === 1469380391)!;
    expect(old).toBeDefined();
    const codecs = await createCodecs(new LocalSchemaIds());
    const current = (await loadSchema('trace-record')).fromBuffer((await codecs.trace.encode(traceRecord)).subarray(5)) as Record<string, unknown>;
    const { truncated: _t, orphan_span_ids: _o, cycle_span_ids: _c, ...before } = current;
    const decoded = await codecs.trace.decode(frame(1469380391, old.toBuffer(before)));
    expect(decoded).toMatchObject({ traceId: traceRecord.traceId, revision: 2, digest: traceRecord.digest, truncated: false, orphanSpanIds: [], cycleSpanIds: [] });
    expect(decoded.spans.map((s) => s.spanId)).toEqual(traceRecord.spans.map((s) => s.spanId));
  });

  it('keep every earlier schema readable: detections and trace records written before subsumption and detection ids still decode', async () => {
    // 240099251 and 1679013391: tracefold.detections.v1 before subsumed_by, tracefold.traces.v1 before detection_ids.
    const historic = await loadHistoricSchemas();
    const oldDetection = historic.find((t) => localSchemaId(t) === 240099251)!;
    const oldTrace = historic.find((t) => localSchemaId(t) === 1679013391)!;
    expect(oldDetection).toBeDefined();
    expect(oldTrace).toBeDefined();
    const codecs = await createCodecs(new LocalSchemaIds());
    const currentDetection = (await loadSchema('detection')).fromBuffer((await codecs.detection.encode(detection)).subarray(5)) as Record<string, unknown>;
    const { subsumed_by: _s, ...detectionBefore } = currentDetection;
    expect(await codecs.detection.decode(frame(240099251, oldDetection.toBuffer(detectionBefore)))).toEqual({ ...detection, subsumedBy: null });
    const currentTrace = (await loadSchema('trace-record')).fromBuffer((await codecs.trace.encode(traceRecord)).subarray(5)) as Record<string, unknown>;
    const { detection_ids: _d, ...traceBefore } = currentTrace;
    expect(await codecs.trace.decode(frame(1679013391, oldTrace.toBuffer(traceBefore)))).toMatchObject({ traceId: traceRecord.traceId, detectionIds: [] });
  });

  it('keep every earlier schema readable: feedback written before missed verdicts and detector ids still decodes', async () => {
    // 346098039: tracefold.feedback.v1 before the missed symbol and detector_id.
    const old = (await loadHistoricSchemas()).find((t) => localSchemaId(t) === 346098039)!;
    expect(old).toBeDefined();
    const codecs = await createCodecs(new LocalSchemaIds());
    const before = { id: 'fb-0', tenant_id: 'acme', detection_id: 'det-1', trace_id: 't1', feedback_type: 'true_positive', comment: '', created_at_ms: 1_700_000_000_000n };
    expect(await codecs.feedback.decode(frame(346098039, old.toBuffer(before)))).toEqual({
      id: 'fb-0',
      tenantId: 'acme',
      detectionId: 'det-1',
      traceId: 't1',
      feedbackType: 'true_positive',
      comment: '',
      createdAtMs: 1_700_000_000_000,
      detectorId: '',
    });
  });

  it('keep every earlier schema readable: tenant events written before tenant settings still decode', async () => {
    // 197185651: tracefold.tenants.v1 before tenant_settings_changed.
    const old = (await loadHistoricSchemas()).find((t) => localSchemaId(t) === 197185651)!;
    expect(old).toBeDefined();
    const codecs = await createCodecs(new LocalSchemaIds());
    const before = { type: 'api_key_revoked', tenant_id: 'acme', at_ms: 1_700_000_000_000n, name: null, key_id: 'key_1', secret_hash: null };
    expect(await codecs.tenantRegistryEvent.decode(frame(197185651, old.toBuffer(before)))).toEqual({
      type: 'api_key_revoked',
      tenantId: 'acme',
      keyId: 'key_1',
      atMs: 1_700_000_000_000,
    });
  });

  it('keep every earlier schema readable: trace metrics written before cost, rates and critical path still decode', async () => {
    // 1331209623: tracefold.metrics.v1 before critical path, cost, rates and blast radius.
    const old = (await loadHistoricSchemas()).find((t) => localSchemaId(t) === 1331209623)!;
    expect(old).toBeDefined();
    const before = {
      id: 'met-0',
      tenant_id: 'acme',
      trace_id: 't0',
      revision: 1,
      pipeline_version: 'p1',
      service_name: 'svc',
      start_time_unix_nano: 1_700_000_000_000_000_000n,
      duration_ms: 12.5,
      span_count: 3,
      error_count: 1,
      input_tokens: 10n,
      output_tokens: 5n,
      llm_call_count: 1,
      tool_call_count: 1,
      agents: ['a'],
      models: ['gpt-4o'],
    };
    const codecs = await createCodecs(new LocalSchemaIds());
    expect(await codecs.metrics.decode(frame(1331209623, old.toBuffer(before)))).toEqual({
      id: 'met-0',
      tenantId: 'acme',
      traceId: 't0',
      revision: 1,
      pipelineVersion: 'p1',
      serviceName: 'svc',
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      durationMs: 12.5,
      spanCount: 3,
      errorCount: 1,
      inputTokens: 10,
      outputTokens: 5,
      llmCallCount: 1,
      toolCallCount: 1,
      agents: ['a'],
      models: ['gpt-4o'],
      // Defaults of the fields added since: a cost never computed reads as unknown (null).
      criticalPathMs: 0,
      criticalPathSpanIds: [],
      agentCount: 0,
      cachedInputTokens: 0,
      costUsd: null,
      unpricedModels: [],
      priceTable: '',
      errorRate: 0,
      toolErrorCount: 0,
      toolErrorRate: 0,
      retryCount: 0,
      retryRate: 0,
      blastRadius: 0,
      filesWritten: [],
    });
  });

  it('decode ids another process produced, reading schemas/ on demand', async () => {
    const id = localSchemaId(await loadSchema('raw-event'));
    const type = await new LocalSchemaIds().typeFor(id);
    expect(type.name).toBe('dev.tracefold.v1.RawEvent');
  });

  it('reject an unknown id with an error naming it', async () => {
    await expect(new LocalSchemaIds().typeFor(42)).rejects.toThrow(/unknown schema id 42: no schema in .*schemas/);
  });

  it('say that a small unknown id is a schema registry’s, and which setting to share', async () => {
    await expect(new LocalSchemaIds().typeFor(6)).rejects.toThrow(/unknown schema id 6: .*a schema registry's.*Set TRACEFOLD_SCHEMA_REGISTRY_URL/);
    await expect(new LocalSchemaIds().typeFor(123_456_789)).rejects.toThrow(/a schema this version does not have, or through a schema registry/);
  });

  it('are never small enough to be taken for a schema registry’s', async () => {
    // Registries number their ids from 1 up; a process tells the two kinds apart by size. A
    // new schema whose id falls below the limit (1 in 2048) must be renamed or reordered.
    const ids = await new LocalSchemaIds().knownIds();
    expect(ids.size).toBeGreaterThanOrEqual(12 + (await loadHistoricSchemas()).length);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(REGISTRY_ID_LIMIT);
  });

  it('find a schema by id, or say there is none', async () => {
    const ids = new LocalSchemaIds();
    expect((await ids.find(306763025))?.name).toBe('dev.tracefold.v1.RawEvent');
    expect((await ids.find(948442216))?.name).toBe('dev.tracefold.v1.RawEvent');
    expect(await ids.find(6)).toBeNull();
  });
});

/** Every enum of `schema`, wherever it is nested. */
function enumsOf(schema: unknown, out: { name: string; symbols: string[]; default?: string }[] = []) {
  if (Array.isArray(schema)) for (const s of schema) enumsOf(s, out);
  else if (typeof schema === 'object' && schema !== null) {
    const def = schema as { type?: unknown; name?: string; symbols?: string[]; default?: string };
    if (def.type === 'enum') out.push({ name: def.name!, symbols: def.symbols!, ...(def.default === undefined ? {} : { default: def.default }) });
    for (const value of Object.values(schema)) enumsOf(value, out);
  }
  return out;
}

/** A copy of `schema` whose enum `name` has one more symbol: what a newer version would write. */
function withSymbol(schema: unknown, name: string, symbol: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => withSymbol(s, name, symbol));
  if (typeof schema !== 'object' || schema === null) return schema;
  const def = schema as Record<string, unknown>;
  const copy = Object.fromEntries(Object.entries(def).map(([k, v]) => [k, withSymbol(v, name, symbol)]));
  if (def.type === 'enum' && (def.name === name || def.name === `${SCHEMA_NAMESPACE}.${name}`)) copy.symbols = [...(def.symbols as string[]), symbol];
  return copy;
}

describe('enum evolution', () => {
  it('gives every enum a default, so a reader pinned to this schema reads a symbol added later', async () => {
    for (const [name, type] of await loadAllSchemas()) {
      for (const e of enumsOf(exportSchema(type))) {
        expect(e.default, `${name}: enum ${e.name} has no default`).toBeDefined();
        expect(e.symbols, `${name}: enum ${e.name}`).toContain(e.default);
      }
    }
  });

  it('reads a severity added later as info, and refuses a marker kind added later, naming the field', async () => {
    const codecs = await createCodecs(new LocalSchemaIds());
    const detectionType = await loadSchema('detection');
    const newerDetection = parseSchema(withSymbol(detectionType.schema({ exportAttrs: true }), 'Severity', 'catastrophic') as Schema);
    const written = detectionType.fromBuffer((await codecs.detection.encode(detection)).subarray(5)) as Record<string, unknown>;
    const ids = new LocalSchemaIds({ types: [newerDetection] });
    const newerCodecs = await createCodecs(ids);
    const value = frame(localSchemaId(newerDetection), newerDetection.toBuffer({ ...written, severity: 'catastrophic' }));
    expect((await newerCodecs.detection.decode(value)).severity).toBe('info');

    const rawType = await loadSchema('raw-event');
    const newerRaw = parseSchema(withSymbol(rawType.schema({ exportAttrs: true }), 'WindowMarkerKind', 'checkpoint') as Schema);
    const marker = { tenant_id: 'acme', trace_id: 't1', kind: 'checkpoint', request_id: 'r1', received_at_ms: 1_700_000_000_000n };
    const rawValue = frame(localSchemaId(newerRaw), newerRaw.toBuffer({ type: 'marker', span: null, marker }));
    await expect((await createCodecs(new LocalSchemaIds({ types: [newerRaw] }))).rawEvent.decode(rawValue)).rejects.toThrow(/marker\.kind: a symbol this version does not know/);
  });

  it('carries a withdrawal through the detection schema, and a standing detection without one', async () => {
    const codecs = await createCodecs(new LocalSchemaIds());
    const withdrawn = { reason: 'replay_promoted', revision: 2, replayId: '20261206-0a1b2c3d', atMs: 1_700_000_000_000 } as const;
    expect(await codecs.detection.decode(await codecs.detection.encode({ ...detection, withdrawn }))).toEqual({ ...detection, withdrawn });
    const standing = await codecs.detection.decode(await codecs.detection.encode(detection));
    expect(standing).toEqual(detection);
    expect('withdrawn' in standing).toBe(false);
  });
});
