/**
 * OTLP log records → spans standing for them (src/ingest/otlp/log-record.ts): parent, time,
 * name and attributes from the record, the same result from JSON and protobuf, an id that
 * repeats for a repeated record, and a record that names no span refused alone by path.
 */
import { describe, expect, it } from 'vitest';
import { decodeOtlpLogsJson } from '../../../src/ingest/otlp/json.js';
import { decodeOtlpLogsProto, encodeExportResponse, ExportLogsServiceRequest, ExportLogsServiceResponse } from '../../../src/ingest/otlp/proto.js';
import { TracefoldError } from '../../../src/model/errors.js';

const ctx = { tenantId: 'tenant-a', receivedAtMs: 1_700_000_100_000 };
const TRACE_HEX = '5b8efff798038103d269b633813fc60c';
const SPAN_HEX = 'eee19b7ec3c1b174';

function jsonRecord(overrides: Record<string, unknown> = {}) {
  return {
    timeUnixNano: '1700000000000000000',
    traceId: TRACE_HEX,
    spanId: SPAN_HEX,
    eventName: 'gen_ai.user.message',
    severityNumber: 9,
    body: { kvlistValue: { values: [{ key: 'content', value: { stringValue: 'Weather in Paris?' } }] } },
    attributes: [{ key: 'gen_ai.system', value: { stringValue: 'openai' } }],
    ...overrides,
  };
}

const request = (records: unknown[]) => ({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bot' } }] }, scopeLogs: [{ scope: { name: 's' }, logRecords: records }] }] });

describe('OTLP logs decoding', () => {
  it('makes each record a zero-length span under the span it names, with its body, severity and event name', () => {
    const { spans, rejected } = decodeOtlpLogsJson(request([jsonRecord()]), ctx);
    expect(rejected).toEqual([]);
    expect(spans).toHaveLength(1);
    const s = spans[0]!;
    expect(s).toMatchObject({ tenantId: 'tenant-a', traceId: TRACE_HEX, parentSpanId: SPAN_HEX, name: 'gen_ai.user.message', source: 'otlp-logs' });
    expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(s.startTimeUnixNano).toBe(1_700_000_000_000_000_000n);
    expect(s.endTimeUnixNano).toBe(s.startTimeUnixNano);
    expect(s.attributes.map((kv) => kv.key)).toEqual(['gen_ai.system', 'event.name', 'log.record.body', 'log.record.severity_number']);
    expect(s.resource.attributes[0]).toEqual({ key: 'service.name', value: { type: 'string', value: 'bot' } });
  });

  it('gives a repeated record the same id and a different record another', () => {
    const [a] = decodeOtlpLogsJson(request([jsonRecord()]), ctx).spans;
    const [b] = decodeOtlpLogsJson(request([jsonRecord()]), { ...ctx, receivedAtMs: ctx.receivedAtMs + 5 }).spans;
    const [c] = decodeOtlpLogsJson(request([jsonRecord({ eventName: 'gen_ai.choice' })]), ctx).spans;
    expect(b!.spanId).toBe(a!.spanId);
    expect(c!.spanId).not.toBe(a!.spanId);
  });

  it('reads the event name from the event.name attribute and the time from the observed time when the fields are absent', () => {
    const [s] = decodeOtlpLogsJson(
      request([jsonRecord({ eventName: undefined, timeUnixNano: undefined, observedTimeUnixNano: '1700000000500000000', attributes: [{ key: 'event.name', value: { stringValue: 'gen_ai.choice' } }] })]),
      ctx,
    ).spans;
    expect(s!.name).toBe('gen_ai.choice');
    expect(s!.startTimeUnixNano).toBe(1_700_000_000_500_000_000n);
  });

  it('refuses a record without a span id alone, naming its path', () => {
    const { spans, rejected } = decodeOtlpLogsJson(request([jsonRecord(), jsonRecord({ spanId: undefined })]), ctx);
    expect(spans).toHaveLength(1);
    expect(rejected).toEqual([{ path: 'resourceLogs[0].scopeLogs[0].logRecords[1].spanId', reason: expect.stringContaining('joins a log record to the span it names') }]);
  });

  it('refuses a request whose structure is wrong, naming the field', () => {
    expect(() => decodeOtlpLogsJson({ resourceLogs: [{ scopeLogs: 'x' }] }, ctx)).toThrow(TracefoldError);
    expect(() => decodeOtlpLogsJson({ resourceLogs: [{ scopeLogs: 'x' }] }, ctx)).toThrow(/resourceLogs\[0\]\.scopeLogs/);
  });

  it('decodes the protobuf encoding of a record to the same span as its JSON', () => {
    const bytes = ExportLogsServiceRequest.encode(
      ExportLogsServiceRequest.fromObject({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bot' } }] },
            scopeLogs: [
              {
                scope: { name: 's' },
                logRecords: [
                  {
                    timeUnixNano: '1700000000000000000',
                    traceId: Buffer.from(TRACE_HEX, 'hex'),
                    spanId: Buffer.from(SPAN_HEX, 'hex'),
                    eventName: 'gen_ai.user.message',
                    severityNumber: 9,
                    body: { kvlistValue: { values: [{ key: 'content', value: { stringValue: 'Weather in Paris?' } }] } },
                    attributes: [{ key: 'gen_ai.system', value: { stringValue: 'openai' } }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const proto = decodeOtlpLogsProto(bytes, ctx);
    const json = decodeOtlpLogsJson(request([jsonRecord()]), ctx);
    expect(proto.rejected).toEqual([]);
    expect({ ...proto.spans[0]!, scope: null }).toEqual({ ...json.spans[0]!, scope: null });
    expect(() => decodeOtlpLogsProto(Buffer.from([0x0a, 0xff]), ctx)).toThrow(/ExportLogsServiceRequest/);
  });

  it('answers an ExportLogsServiceResponse with partial success only when records were refused', () => {
    expect(ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(encodeExportResponse(0, '', 'logs')))).toEqual({});
    const partial = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(encodeExportResponse(2, 'logRecords[1].spanId: missing', 'logs')), { longs: String });
    expect(partial).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: 'logRecords[1].spanId: missing' } });
  });
});
