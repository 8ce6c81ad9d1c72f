import type { Schema } from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCodec,
  createCodecs,
  frame,
  localSchemaId,
  LocalSchemaIds,
  loadSchema,
  parseSchema,
  SerdeError,
  type Codecs,
} from '../../../src/log/serde/index.js';
import { feedbackMapping } from '../../../src/log/serde/mapping.js';
import type { Detection, TraceRecord } from '../../../src/model/outputs.js';
import type { CanonicalSpan, RawEvent } from '../../../src/model/span.js';
import type { AuditRecord, BaselineRecord, CalibrationRecord, TenantStageEvent } from '../../../src/model/tenant-records.js';
import { BIG, detection, feedback, fullSpan, metrics, minimalSpan, tenantEvents, traceRecord, typicalSpan, unpricedMetrics } from './fixtures.js';

let codecs: Codecs;

beforeAll(async () => {
  codecs = await createCodecs(new LocalSchemaIds());
});

describe('round trips', () => {
  it('keeps every field of a canonical span, every AnyValue variant included', async () => {
    const event: RawEvent = { type: 'span', span: fullSpan };
    const decoded = await codecs.rawEvent.decode(await codecs.rawEvent.encode(event));
    expect(decoded).toEqual(event);
    expect(decoded).toStrictEqual(event);
  });

  it('keeps int64 values beyond 2^53 exactly', async () => {
    const decoded = await codecs.rawEvent.decode(await codecs.rawEvent.encode({ type: 'span', span: fullSpan }));
    if (decoded.type !== 'span') throw new Error('expected a span');
    const span: CanonicalSpan = decoded.span;
    expect(span.startTimeUnixNano).toBe(1_732_537_000_123_456_789n);
    expect(span.endTimeUnixNano).toBe(1_732_537_001_987_654_321n);
    expect(span.attributes.find((a) => a.key === 'int.big')?.value).toEqual({ type: 'int', value: BIG });
    expect(span.attributes.find((a) => a.key === 'int.min')?.value).toEqual({ type: 'int', value: -(2n ** 63n) });
    expect(span.attributes.find((a) => a.key === 'int.negative')?.value).toEqual({ type: 'int', value: -42n });
  });

  it('decodes bytes into plain Uint8Arrays that do not share the record buffer', async () => {
    const framed = await codecs.rawEvent.encode({ type: 'span', span: fullSpan });
    const decoded = await codecs.rawEvent.decode(framed);
    if (decoded.type !== 'span') throw new Error('expected a span');
    const bytes = decoded.span.attributes.find((a) => a.key === 'bytes')?.value;
    expect(bytes).toEqual({ type: 'bytes', value: Uint8Array.of(0, 255, 1, 128) });
    if (bytes?.type !== 'bytes') throw new Error('expected bytes');
    expect(Buffer.isBuffer(bytes.value)).toBe(false);
    framed.fill(0xaa);
    expect([...bytes.value]).toEqual([0, 255, 1, 128]);
  });

  it('round-trips a minimal span, a typical span and a window marker', async () => {
    const events: RawEvent[] = [
      { type: 'span', span: minimalSpan },
      { type: 'span', span: typicalSpan(7) },
      { type: 'marker', marker: { tenantId: 'acme', traceId: 'abc', kind: 'session_end', requestId: 'req-9', receivedAtMs: 1_732_537_002_000 } },
      { type: 'marker', marker: { tenantId: 'acme', traceId: 'abc', kind: 'analyze', requestId: '', receivedAtMs: 0 } },
    ];
    for (const event of events) expect(await codecs.rawEvent.decode(await codecs.rawEvent.encode(event))).toStrictEqual(event);
  });

  it('round-trips a trace record with its spans', async () => {
    expect(await codecs.trace.decode(await codecs.trace.encode(traceRecord))).toStrictEqual(traceRecord);
  });

  it('round-trips traces larger than the encode buffer, up to megabytes', async () => {
    for (const count of [40, 1000]) {
      const big: TraceRecord = { ...traceRecord, spans: Array.from({ length: count }, (_, i) => typicalSpan(i)) };
      const framed = await codecs.trace.encode(big);
      expect(framed.length).toBeGreaterThan(count * 1000);
      expect(framed[0]).toBe(0);
      expect(await codecs.trace.decode(framed)).toStrictEqual(big);
    }
    // The encoder's buffer is reused: a small value after a big one is still framed right.
    expect(await codecs.trace.decode(await codecs.trace.encode(traceRecord))).toStrictEqual(traceRecord);
  });

  it('round-trips detections, with and without an agent', async () => {
    const other: Detection = { ...detection, agent: null, live: false, primary: true, severity: 'info', confidenceTier: 'low' };
    for (const d of [detection, other]) {
      expect(await codecs.detection.decode(await codecs.detection.encode(d))).toStrictEqual(d);
    }
  });

  it('round-trips trace metrics, feedback and every tenant event', async () => {
    expect(await codecs.metrics.decode(await codecs.metrics.encode(metrics))).toStrictEqual(metrics);
    expect(await codecs.metrics.decode(await codecs.metrics.encode(unpricedMetrics))).toStrictEqual(unpricedMetrics);
    expect(await codecs.feedback.decode(await codecs.feedback.encode(feedback))).toStrictEqual(feedback);
    for (const e of tenantEvents) expect(await codecs.tenantRegistryEvent.decode(await codecs.tenantRegistryEvent.encode(e))).toStrictEqual(e);
  });

  it('round-trips the tenant stage records: its input, audit links, calibration and baselines', async () => {
    const event: TenantStageEvent = { tenantId: 'acme', type: 'feedback_recorded', subjectId: 'fb-1', atMs: 1_700_000_000_000, payloadJson: '{"a":1}' };
    const audit: AuditRecord = {
      tenantId: 'acme',
      seq: 42,
      type: 'detection_emitted',
      subjectId: 'det-1',
      atMs: 1_700_000_000_001,
      payloadJson: '{"id":"det-1"}',
      payloadDigest: 'a'.repeat(64),
      prevHash: 'b'.repeat(64),
      hash: 'c'.repeat(64),
    };
    const calibration: CalibrationRecord = {
      tenantId: 'acme',
      detectorId: 'loop',
      truePositives: 1,
      falsePositives: 3,
      missed: 2,
      precision: 0.25,
      confidenceShift: 0.173,
      updatedAtMs: 1_700_000_000_002,
    };
    const baseline: BaselineRecord = {
      tenantId: 'acme',
      serviceName: 'svc',
      agent: '',
      metrics: { tool_calls: { count: 12, mean: 3.5, m2: 4.25 }, cost_usd: { count: 11, mean: 0.012, m2: 0.0001 } },
      updatedAtMs: 1_700_000_000_003,
    };
    expect(await codecs.tenantStageEvent.decode(await codecs.tenantStageEvent.encode(event))).toStrictEqual(event);
    expect(await codecs.audit.decode(await codecs.audit.encode(audit))).toStrictEqual(audit);
    expect(await codecs.calibration.decode(await codecs.calibration.encode(calibration))).toStrictEqual(calibration);
    expect(await codecs.calibration.decode(await codecs.calibration.encode({ ...calibration, precision: null }))).toStrictEqual({ ...calibration, precision: null });
    expect(await codecs.baseline.decode(await codecs.baseline.encode(baseline))).toStrictEqual(baseline);
  });
});

describe('Confluent framing', () => {
  it('starts every value with magic byte 0 and the 4-byte big-endian schema id', async () => {
    const id = localSchemaId(await loadSchema('feedback'));
    const framed = await codecs.feedback.encode(feedback);
    const header = Buffer.alloc(5);
    header.writeUInt8(0, 0);
    header.writeUInt32BE(id, 1);
    expect(framed.subarray(0, 5)).toEqual(header);
    // The rest is a plain Avro body, readable by any Avro reader of the schema.
    expect((await loadSchema('feedback')).fromBuffer(framed.subarray(5))).toMatchObject({ id: 'fb-1', comment: feedback.comment });
  });

  it('names subjects after their topics (TopicNameStrategy)', () => {
    expect(codecs.rawEvent.subject).toBe('tracefold.raw.v1-value');
    expect(codecs.trace.subject).toBe('tracefold.traces.v1-value');
    expect(codecs.detection.subject).toBe('tracefold.detections.v1-value');
    expect(codecs.metrics.subject).toBe('tracefold.metrics.v1-value');
    expect(codecs.feedback.subject).toBe('tracefold.feedback.v1-value');
    expect(codecs.tenantRegistryEvent.subject).toBe('tracefold.tenants.v1-value');
  });

  it('rejects a value whose first byte is not the magic byte', async () => {
    const framed = await codecs.feedback.encode(feedback);
    framed[0] = 0x7b;
    await expect(codecs.feedback.decode(framed)).rejects.toThrow(/tracefold\.feedback\.v1-value: .*byte 0x7b, not the magic byte 0x00/);
    await expect(codecs.feedback.decode(Buffer.from('{"id":"x"}'))).rejects.toBeInstanceOf(SerdeError);
  });

  it('rejects a value shorter than the header', async () => {
    await expect(codecs.feedback.decode(Buffer.from([0, 0, 1]))).rejects.toThrow(/3 bytes, shorter than the 5-byte header/);
  });

  it('rejects an unknown schema id, naming it', async () => {
    const framed = await codecs.feedback.encode(feedback);
    framed.writeInt32BE(123_456_789, 1);
    await expect(codecs.feedback.decode(framed)).rejects.toThrow(/unknown schema id 123456789/);
  });

  it('rejects a known id of another record type', async () => {
    const framed = await codecs.detection.encode(detection);
    await expect(codecs.feedback.decode(framed)).rejects.toThrow(/cannot be read as dev\.tracefold\.v1\.FeedbackRecord/);
  });

  it('rejects a truncated or padded body', async () => {
    const framed = await codecs.trace.encode(traceRecord);
    await expect(codecs.trace.decode(framed.subarray(0, framed.length - 10))).rejects.toThrow(/cannot decode the Avro body/);
    await expect(codecs.trace.decode(Buffer.concat([framed, Buffer.from([1])]))).rejects.toThrow(/cannot decode the Avro body/);
  });
});

describe('encoding errors name the field', () => {
  it('refuses a millisecond time that is not an integer', async () => {
    await expect(codecs.rawEvent.encode({ type: 'span', span: { ...minimalSpan, receivedAtMs: 1.5 } })).rejects.toThrow(
      /tracefold\.raw\.v1-value: cannot encode: received_at_ms: 1\.5 is not an integer/,
    );
  });

  it('refuses a value the Avro type rejects, with its path', async () => {
    await expect(codecs.rawEvent.encode({ type: 'span', span: { ...minimalSpan, kind: 2 ** 40 } })).rejects.toThrow(
      /span\.kind: 1099511627776 is not a valid int/,
    );
  });

  it('refuses a record whose type says a field is set that is not', async () => {
    const type = await loadSchema('tenant-event');
    const body = type.toBuffer({ type: 'tenant_created', tenant_id: 'acme', at_ms: 1n, name: null, key_id: null, secret_hash: null });
    const framed = frame(localSchemaId(type), body);
    await expect(codecs.tenantRegistryEvent.decode(framed)).rejects.toThrow(/tenant event of type tenant_created has no name/);
  });
});

describe('schema evolution', () => {
  it('reads values written with another known version of a schema', async () => {
    const current = await loadSchema('feedback');
    const json = current.schema({ exportAttrs: true }) as { fields: unknown[] };
    // A newer writer added a field; this reader ignores it.
    const newer = parseSchema({ ...json, fields: [...json.fields, { name: 'rating', type: 'int', default: 0 }] } as Schema);
    const ids = new LocalSchemaIds({ types: [newer] });
    const codec = await createCodec(ids, 'tracefold.feedback.v1-value', current, feedbackMapping);
    const framed = frame(localSchemaId(newer), newer.toBuffer({ ...feedbackMapping.toAvro(feedback), rating: 4 }));
    expect(localSchemaId(newer)).not.toBe(localSchemaId(current));
    expect(await codec.decode(framed)).toStrictEqual(feedback);
  });
});
