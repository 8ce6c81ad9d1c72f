/**
 * The OTLP ingest routes over HTTP: protobuf and JSON bodies, gzip and deflate, bounded
 * decompression, unsupported media types, and protobuf answers (a real server, embedded log).
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../../src/ingest/otlp/proto.js';
import { createTenant, startServer, type TestServer } from '../../support/server.js';

const LIMIT = 64 * 1024;
const PROTOBUF = 'application/x-protobuf';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

function spanFields(name: string, spanId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: hex('7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a'),
    spanId: hex(spanId),
    name,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001000000000',
    attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
    ...overrides,
  };
}

function protobufRequest(spans: Record<string, unknown>[]): Buffer {
  const message = ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans }] }],
  });
  return Buffer.from(ExportTraceServiceRequest.encode(message).finish());
}

function jsonRequest(traceId: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [{ spans: [{ traceId, spanId: '0000000000000001', name: 'x', startTimeUnixNano: '1700000000000000000' }] }],
        },
      ],
    }),
  );
}

interface RawResponse {
  readonly status: number;
  readonly contentType: string | null;
  readonly bytes: Buffer;
  readonly json: any;
}

describe('OTLP ingest over HTTP: formats and encodings', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;

  beforeAll(async () => {
    server = await startServer({ TRACEFOLD_MAX_BODY_BYTES: String(LIMIT) });
    tenant = await createTenant(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function post(body: Buffer | undefined, headers: Record<string, string>, path = '/v1/traces'): Promise<RawResponse> {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, ...headers },
      body,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    let json: unknown = null;
    if (res.headers.get('content-type')?.includes('json')) json = JSON.parse(bytes.toString('utf8'));
    return { status: res.status, contentType: res.headers.get('content-type'), bytes, json };
  }

  const decodeResponse = (bytes: Buffer) => ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(bytes), { longs: String });

  it('answers a protobuf request with an empty protobuf ExportTraceServiceResponse', async () => {
    const res = await post(protobufRequest([spanFields('a', '0000000000000001')]), { 'content-type': PROTOBUF });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe(PROTOBUF);
    expect(res.bytes.length).toBe(0);
    expect(decodeResponse(res.bytes)).toEqual({});
  });

  it('reports rejected spans in partial_success, in protobuf', async () => {
    const body = protobufRequest([spanFields('ok', '0000000000000002'), spanFields('zero', '0000000000000003', { traceId: Buffer.alloc(16) })]);
    const res = await post(body, { 'content-type': PROTOBUF });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe(PROTOBUF);
    expect(decodeResponse(res.bytes)).toEqual({
      partialSuccess: { rejectedSpans: '1', errorMessage: 'resourceSpans[0].scopeSpans[0].spans[1].traceId: an all-zero trace id is invalid' },
    });
  });

  it('answers 202 with a protobuf response on the tenant path', async () => {
    const body = protobufRequest([spanFields('t', '0000000000000004'), spanFields('bad', '0000000000000005', { spanId: Buffer.from([1]) })]);
    const res = await post(body, { 'content-type': PROTOBUF }, `/api/v1/tenants/${tenant.tenantId}/traces/ingest`);
    expect(res.status).toBe(202);
    expect(res.contentType).toBe(PROTOBUF);
    expect(decodeResponse(res.bytes).partialSuccess).toEqual({
      rejectedSpans: '1',
      errorMessage: 'resourceSpans[0].scopeSpans[0].spans[1].spanId: expected 8 bytes, got 1',
    });
  });

  it('is a 400 naming the path when every span of a protobuf request is invalid', async () => {
    const res = await post(protobufRequest([spanFields('zero', '0000000000000006', { traceId: Buffer.alloc(16) })]), { 'content-type': PROTOBUF });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('resourceSpans[0].scopeSpans[0].spans[0].traceId');
  });

  it('is a 400 naming the problem for a body that is not protobuf', async () => {
    const res = await post(Buffer.from([0x0a, 0xff, 0xff, 0x01]), { 'content-type': PROTOBUF });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/^body: not a valid protobuf ExportTraceServiceRequest \(.+\)$/);
  });

  it('accepts an empty protobuf body as an empty request', async () => {
    const res = await post(Buffer.alloc(0), { 'content-type': PROTOBUF });
    expect(res.status).toBe(200);
    expect(res.bytes.length).toBe(0);
  });

  it('accepts gzip and deflate for both formats, and JSON with a charset', async () => {
    const proto = protobufRequest([spanFields('z', '0000000000000007')]);
    for (const [encoding, compress] of [
      ['gzip', zlib.gzipSync],
      ['deflate', zlib.deflateSync],
      ['GZIP', zlib.gzipSync],
    ] as const) {
      const p = await post(compress(proto), { 'content-type': PROTOBUF, 'content-encoding': encoding });
      expect(p.status, encoding).toBe(200);
      expect(p.contentType).toBe(PROTOBUF);
      const j = await post(compress(jsonRequest('gzip-json-trace')), { 'content-type': 'application/json; charset=utf-8', 'content-encoding': encoding });
      expect(j.status, encoding).toBe(200);
      expect(j.json).toEqual({ accepted_spans: 1, rejected_spans: 0 });
    }
    const identity = await post(jsonRequest('identity-trace'), { 'content-type': 'application/json', 'content-encoding': 'identity' });
    expect(identity.status).toBe(200);
  });

  it('bounds decompression by the body limit: 413 naming it', async () => {
    // 1 MB of JSON whitespace compresses to about a kilobyte: well under the limit on the wire.
    const bomb = Buffer.concat([Buffer.from('{"resourceSpans":[]'), Buffer.alloc(1024 * 1024, 0x20), Buffer.from('}')]);
    for (const [encoding, compress] of [
      ['gzip', zlib.gzipSync],
      ['deflate', zlib.deflateSync],
    ] as const) {
      const compressed = compress(bomb);
      expect(compressed.length).toBeLessThan(LIMIT);
      for (const contentType of ['application/json', PROTOBUF]) {
        const res = await post(compressed, { 'content-type': contentType, 'content-encoding': encoding });
        expect(res.status).toBe(413);
        expect(res.json.message).toBe(`decompressed request body exceeds the limit of ${LIMIT} bytes`);
      }
    }
    // Exactly at the limit is fine.
    const atLimit = Buffer.concat([Buffer.from('{"resourceSpans":[]'), Buffer.alloc(LIMIT - 20, 0x20), Buffer.from('}')]);
    expect(atLimit.length).toBe(LIMIT);
    const ok = await post(zlib.gzipSync(atLimit), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(ok.status).toBe(200);
  });

  it('is a 413 naming the limit for a body over it on the wire', async () => {
    const res = await post(Buffer.alloc(LIMIT + 1), { 'content-type': PROTOBUF });
    expect(res.status).toBe(413);
    expect(res.json.message).toContain(String(LIMIT));
  });

  it('is a 400 for a corrupt or truncated compressed body', async () => {
    const gz = zlib.gzipSync(protobufRequest([spanFields('c', '0000000000000008')]));
    const corrupt = Buffer.from(gz);
    corrupt[gz.length - 6] = corrupt[gz.length - 6]! ^ 0xff; // the CRC no longer matches
    for (const body of [Buffer.from('not gzip at all'), gz.subarray(0, gz.length - 10), corrupt]) {
      const res = await post(body, { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
      expect(res.status).toBe(400);
      expect(res.json.message).toMatch(/^body: invalid gzip data/);
    }
    const deflate = await post(Buffer.from('plain'), { 'content-type': 'application/json', 'content-encoding': 'deflate' });
    expect(deflate.status).toBe(400);
    expect(deflate.json.message).toMatch(/^body: invalid deflate data/);
  });

  it('is a 415 naming what is supported for other content types and encodings', async () => {
    const text = await post(Buffer.from('hello'), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.json.message).toBe('unsupported Content-Type "text/plain"; send application/x-protobuf or application/json');
    const none = await post(Buffer.from('hello'), {});
    expect(none.status).toBe(415);
    expect(none.json.message).toContain('application/x-protobuf or application/json');
    const br = await post(jsonRequest('br-trace'), { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.json.message).toBe('Content-Encoding "br" is not supported; use gzip, deflate or identity');
    const tenantPath = await post(Buffer.from('x'), { 'content-type': 'application/xml' }, `/api/v1/tenants/${tenant.tenantId}/traces/ingest`);
    expect(tenantPath.status).toBe(415);
  });

  it('keeps JSON errors for JSON bodies: invalid JSON and an empty body are 400s', async () => {
    const bad = await post(Buffer.from('{"resourceSpans": ['), { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/^body: invalid JSON/);
    const empty = await post(Buffer.alloc(0), { 'content-type': 'application/json' });
    expect(empty.status).toBe(400);
    expect(empty.json.message).toMatch(/^body: /);
  });

  it('never answers 5xx to mutated protobuf or gzip bodies', async () => {
    const valid = protobufRequest([
      spanFields('m', '0000000000000009', {
        attributes: [{ key: 'a', value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: { intValue: 5 } }] } }] } } }],
        events: [{ name: 'e', timeUnixNano: '1700000000500000000' }],
      }),
    ]);
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed;
    };
    const statuses = new Set<number>();
    for (let i = 0; i < 150; i++) {
      const gzip = i % 2 === 0;
      const source = gzip ? zlib.gzipSync(valid) : valid;
      const mutated = Buffer.from(source.subarray(0, i % 5 === 0 ? random() % source.length : source.length));
      for (let flips = random() % 3; flips >= 0 && mutated.length > 0; flips--) mutated[random() % mutated.length] = random() & 0xff;
      const res = await post(mutated, { 'content-type': PROTOBUF, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      statuses.add(res.status);
      expect(res.status).toBeLessThan(500);
    }
    expect([...statuses].every((s) => s === 200 || s === 400)).toBe(true);
  });
});
