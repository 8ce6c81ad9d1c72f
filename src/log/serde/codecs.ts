/**
 * One codec per topic value: model type ⇄ Avro record ⇄ Confluent-framed bytes.
 *
 * Subjects follow Confluent's TopicNameStrategy (`<topic>-value`). A codec writes with
 * its own schema id and reads any id its SchemaIds knows, resolving an older or newer
 * writer schema against its own (Avro schema resolution) when the ids differ.
 */
import type avro from 'avsc';
import type { Resolver } from 'avsc';
import type { RawEvent } from '../../model/span.js';
import type { Detection, FeedbackRecord, TenantRegistryEvent, TraceMetrics, TraceRecord } from '../../model/outputs.js';
import type { SessionRecord } from '../../model/session.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord, TenantStageEvent } from '../../model/tenant-records.js';
import { TOPICS } from '../topics.js';
import { SerdeError } from './errors.js';
import { FramedEncoder, readFrame } from './framing.js';
import {
  auditRecordMapping,
  baselineMapping,
  calibrationMapping,
  detectionMapping,
  feedbackMapping,
  rawEventMapping,
  sessionRecordMapping,
  tenantRegistryEventMapping,
  tenantStageEventMapping,
  traceMetricsMapping,
  traceRecordMapping,
  type RecordMapping,
} from './mapping.js';
import type { SchemaIds } from './schema-ids.js';
import { loadSchema, SCHEMA_DIR, type ValueSchemaName } from './schemas.js';

export interface Codec<T> {
  readonly subject: string;
  encode(value: T): Promise<Buffer>;
  decode(buffer: Buffer): Promise<T>;
}

export interface Codecs {
  readonly rawEvent: Codec<RawEvent>;
  readonly trace: Codec<TraceRecord>;
  readonly detection: Codec<Detection>;
  readonly metrics: Codec<TraceMetrics>;
  readonly feedback: Codec<FeedbackRecord>;
  readonly tenantRegistryEvent: Codec<TenantRegistryEvent>;
  readonly session: Codec<SessionRecord>;
  readonly tenantStageEvent: Codec<TenantStageEvent>;
  readonly audit: Codec<AuditRecord>;
  readonly calibration: Codec<CalibrationRecord>;
  readonly baseline: Codec<BaselineRecord>;
}

/** Confluent TopicNameStrategy subject of a topic's values. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nameOf(type: avro.Type): string {
  return type.name ?? type.typeName;
}

function showValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 80) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Names the fields avsc rejects; only runs once encoding has already failed. */
function invalidFields(type: avro.Type, record: unknown): string {
  const problems: string[] = [];
  type.isValid(record, {
    errorHook: (path: string[], value: unknown, fieldType: avro.Type) => {
      if (problems.length >= 5) return;
      const expected = fieldType.branchName ?? fieldType.typeName;
      problems.push(`${path.join('.') || '(root)'}: ${showValue(value)} is not a valid ${expected}`);
    },
  });
  return problems.join('; ');
}

/** Builds the codec of one subject; the schema id is fetched (or registered) once, here. */
export async function createCodec<T, A>(ids: SchemaIds, subject: string, type: avro.Type, mapping: RecordMapping<T, A>): Promise<Codec<T>> {
  const id = await ids.idFor(subject, type);
  const encoder = new FramedEncoder(type, id);
  // Readers of foreign writer ids: undefined when the writer schema is the codec's own.
  const readers = new Map<number, Promise<Resolver | undefined>>();

  const resolveWriter = async (schemaId: number): Promise<Resolver | undefined> => {
    let writer: avro.Type;
    try {
      writer = await ids.typeFor(schemaId);
    } catch (err) {
      throw new SerdeError(`${subject}: cannot decode: ${messageOf(err)}`, { cause: err });
    }
    if (writer.equals(type)) return undefined;
    try {
      return type.createResolver(writer);
    } catch (err) {
      throw new SerdeError(
        `${subject}: values written with schema id ${schemaId} (${nameOf(writer)}) cannot be read as ${nameOf(type)}: ${messageOf(err)}`,
        { cause: err },
      );
    }
  };
  const readerFor = (schemaId: number): Promise<Resolver | undefined> => {
    let reader = readers.get(schemaId);
    if (reader === undefined) {
      reader = resolveWriter(schemaId);
      // A failed lookup (unknown id, registry down) is tried again on the next record.
      reader.catch(() => readers.delete(schemaId));
      readers.set(schemaId, reader);
    }
    return reader;
  };

  return {
    subject,
    async encode(value: T): Promise<Buffer> {
      let record: A;
      try {
        record = mapping.toAvro(value);
      } catch (err) {
        throw new SerdeError(`${subject}: cannot encode: ${messageOf(err)}`, { cause: err });
      }
      try {
        return encoder.encode(record);
      } catch (err) {
        throw new SerdeError(`${subject}: cannot encode: ${invalidFields(type, record) || messageOf(err)}`, { cause: err });
      }
    },
    async decode(buffer: Buffer): Promise<T> {
      let schemaId: number;
      let body: Buffer;
      try {
        ({ schemaId, body } = readFrame(buffer));
      } catch (err) {
        throw new SerdeError(`${subject}: cannot decode: ${messageOf(err)}`, { cause: err });
      }
      const resolver = schemaId === id ? undefined : await readerFor(schemaId);
      let record: unknown;
      try {
        record = resolver === undefined ? type.fromBuffer(body) : type.fromBuffer(body, resolver);
      } catch (err) {
        throw new SerdeError(`${subject}: cannot decode the Avro body of schema id ${schemaId}: ${messageOf(err)}`, { cause: err });
      }
      try {
        return mapping.fromAvro(record as A);
      } catch (err) {
        throw new SerdeError(`${subject}: cannot decode: ${messageOf(err)}`, { cause: err });
      }
    },
  };
}

/** Every topic's value codec, built once at start from one SchemaIds. */
export async function createCodecs(ids: SchemaIds, options: { schemaDir?: URL } = {}): Promise<Codecs> {
  const dir = options.schemaDir ?? SCHEMA_DIR;
  const types = new Map<ValueSchemaName, Promise<avro.Type>>();
  const typeOf = (name: ValueSchemaName): Promise<avro.Type> => {
    let type = types.get(name);
    if (type === undefined) types.set(name, (type = loadSchema(name, dir)));
    return type;
  };
  const codec = async <T, A>(topic: string, schema: ValueSchemaName, mapping: RecordMapping<T, A>): Promise<Codec<T>> =>
    createCodec(ids, valueSubject(topic), await typeOf(schema), mapping);

  const [rawEvent, trace, detection, metrics, feedback, tenantRegistryEvent, session, tenantStageEvent, audit, calibration, baseline] = await Promise.all([
    codec(TOPICS.raw, 'raw-event', rawEventMapping),
    codec(TOPICS.traces, 'trace-record', traceRecordMapping),
    codec(TOPICS.detections, 'detection', detectionMapping),
    codec(TOPICS.metrics, 'trace-metrics', traceMetricsMapping),
    codec(TOPICS.feedback, 'feedback', feedbackMapping),
    codec(TOPICS.tenants, 'tenant-event', tenantRegistryEventMapping),
    codec(TOPICS.sessions, 'session-record', sessionRecordMapping),
    codec(TOPICS.tenantEvents, 'tenant-stage-event', tenantStageEventMapping),
    codec(TOPICS.audit, 'audit-record', auditRecordMapping),
    codec(TOPICS.calibration, 'calibration', calibrationMapping),
    codec(TOPICS.baselines, 'baseline', baselineMapping),
  ]);
  return { rawEvent, trace, detection, metrics, feedback, tenantRegistryEvent, session, tenantStageEvent, audit, calibration, baseline };
}
