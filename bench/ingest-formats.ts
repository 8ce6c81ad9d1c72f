/**
 * OTLP/HTTP protobuf vs JSON: ingest spans/s through a real tracefold at 1, 100 and 1000 spans
 * per request, beside decode-only figures for the same payloads.
 *
 * The payloads are agent runs (bench/payloads.ts agentWorkload: an invoke_agent root, tool
 * calls and model calls with GenAI attributes), sent as OTLP JSON and as the protobuf
 * encoding of the very same requests (built with the server's own message types).
 *
 *   ingest        tracefold in-process (embedded log, TRACEFOLD_LOG_SYNC=fsync, the default),
 *                 CLIENTS concurrent HTTP clients POSTing to /v1/traces; first request sent →
 *                 last answer (every append durable). Protobuf and JSON runs alternate on the
 *                 same server; median of RUNS runs each.
 *   decode-only   decodeOtlpProto(bytes) vs decodeOtlpJson(JSON.parse(text)) over the same
 *                 bodies, in this process; median of 5 runs after warm-ups.
 *
 *   npx tsx bench/ingest-formats.ts
 *
 * Environment: BENCH_FORMATS_SPANS (spans per run for batches of 100 and 1000, default
 * 20000; batches of 1 send a tenth of that, at least 500), BENCH_FORMATS_RUNS (3),
 * BENCH_FORMATS_CLIENTS (4); data directories go under TRACEFOLD_BENCH_DIR or os.tmpdir().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { startTracefold } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config/config.js';
import { decodeOtlpJson } from '../src/ingest/otlp/json.js';
import { decodeOtlpProto, ExportTraceServiceRequest } from '../src/ingest/otlp/proto.js';
import { agentWorkload } from './payloads.js';
import { envInt } from './http.js';
import { formatCount, formatRatio, median, medianMs, perSecond, table } from './stats.js';

const BATCH_SIZES = [1, 100, 1000] as const;
const SPANS_PER_TRACE = 10;
const DECODE_RUNS = 5;
const DECODE_WARMUPS = 2;

type Format = 'protobuf' | 'json';

interface Payloads {
  readonly batch: number;
  readonly spans: number;
  readonly json: readonly Buffer[];
  readonly protobuf: readonly Buffer[];
}

const ID_FIELDS = ['traceId', 'spanId', 'parentSpanId'] as const;

/** The protobuf encoding of an OTLP JSON request: hex ids become bytes, the rest maps 1:1. */
function toProtobuf(jsonText: string): Buffer {
  const request = JSON.parse(jsonText) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        for (const field of ID_FIELDS) {
          const id = span[field];
          if (typeof id === 'string') span[field] = Buffer.from(id, 'hex');
        }
      }
    }
  }
  const bytes = ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function payloadsFor(batch: number, spans: number): Payloads {
  const traces = Math.max(1, Math.ceil(spans / SPANS_PER_TRACE));
  const workload = agentWorkload({ traces, spansPerTrace: SPANS_PER_TRACE, spansPerRequest: batch, loopEvery: 4 });
  const json = workload.bodies.map((body) => Buffer.from(body));
  return { batch, spans: workload.spans, json, protobuf: workload.bodies.map(toProtobuf) };
}

const totalBytes = (bodies: readonly Buffer[]) => bodies.reduce((sum, b) => sum + b.length, 0);

/** Sends every body from `clients` concurrent clients; milliseconds from first send to last answer. */
async function ingestOnce(url: string, apiKey: string, format: Format, bodies: readonly Buffer[], clients: number, spans: number): Promise<number> {
  const contentType = format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
  let next = 0;
  const started = performance.now();
  const client = async (): Promise<void> => {
    for (let i = next++; i < bodies.length; i = next++) {
      const res = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${apiKey}` },
        body: bodies[i],
      });
      const answer = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`POST /v1/traces (${format}) answered ${res.status}: ${answer.toString('utf8')}`);
      // A full success is an empty protobuf response, or JSON without partialSuccess.
      if (format === 'protobuf' ? answer.length !== 0 : answer.includes('partialSuccess')) {
        throw new Error(`POST /v1/traces (${format}) rejected spans: ${answer.toString(format === 'protobuf' ? 'hex' : 'utf8')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, bodies.length) }, client));
  const ms = performance.now() - started;
  if (spans <= 0) throw new Error('no spans sent');
  return ms;
}

interface IngestFigures {
  readonly protobufMs: number;
  readonly jsonMs: number;
}

async function measureIngest(payloads: Payloads, runs: number, clients: number, parent: string): Promise<IngestFigures> {
  const dataDir = await mkdtemp(join(parent, 'tracefold-bench-formats-'));
  const config = loadConfig({
    // The benchmark is one tenant pushing as hard as it can: no per-tenant rate limit.
    TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '0',
    TRACEFOLD_PORT: '0',
    TRACEFOLD_HOST: '127.0.0.1',
    TRACEFOLD_DATA_DIR: dataDir,
    TRACEFOLD_LOG_LEVEL: 'silent',
  });
  const tracefold = await startTracefold(config, pino({ level: 'silent' }));
  try {
    const created = await fetch(`${tracefold.url}/api/v1/auth/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-formats' }),
    });
    const tenant = (await created.json()) as { api_key?: unknown };
    if (created.status !== 201 || typeof tenant.api_key !== 'string') throw new Error(`tenant creation answered ${created.status}`);
    const apiKey = tenant.api_key;

    // Warm-up: a slice of each format compiles the hot paths of server and clients.
    const warm = Math.max(1, Math.ceil(payloads.json.length / 10));
    await ingestOnce(tracefold.url, apiKey, 'protobuf', payloads.protobuf.slice(0, warm), clients, 1);
    await ingestOnce(tracefold.url, apiKey, 'json', payloads.json.slice(0, warm), clients, 1);

    const protobufMs: number[] = [];
    const jsonMs: number[] = [];
    for (let run = 0; run < runs; run++) {
      // Alternate which format goes first, so neither always meets the larger log.
      const order: Format[] = run % 2 === 0 ? ['protobuf', 'json'] : ['json', 'protobuf'];
      for (const format of order) {
        const bodies = format === 'protobuf' ? payloads.protobuf : payloads.json;
        const ms = await ingestOnce(tracefold.url, apiKey, format, bodies, clients, payloads.spans);
        (format === 'protobuf' ? protobufMs : jsonMs).push(ms);
      }
    }
    return { protobufMs: median(protobufMs), jsonMs: median(jsonMs) };
  } finally {
    await tracefold.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface DecodeFigures {
  readonly protobufMs: number;
  readonly jsonMs: number;
}

async function measureDecode(payloads: Payloads): Promise<DecodeFigures> {
  const ctx = { tenantId: 'tenant-bench', receivedAtMs: Date.now() };
  const texts = payloads.json.map((b) => b.toString('utf8'));
  let decoded = 0;
  const protobufMs = await medianMs(DECODE_RUNS, DECODE_WARMUPS, () => {
    decoded = 0;
    for (const body of payloads.protobuf) decoded += decodeOtlpProto(body, ctx).spans.length;
  });
  if (decoded !== payloads.spans) throw new Error(`decodeOtlpProto returned ${decoded} spans, expected ${payloads.spans}`);
  const jsonMs = await medianMs(DECODE_RUNS, DECODE_WARMUPS, () => {
    decoded = 0;
    for (const text of texts) decoded += decodeOtlpJson(JSON.parse(text), ctx).spans.length;
  });
  if (decoded !== payloads.spans) throw new Error(`decodeOtlpJson returned ${decoded} spans, expected ${payloads.spans}`);
  return { protobufMs, jsonMs };
}

export async function runIngestFormatsBench(): Promise<void> {
  const spans = envInt('BENCH_FORMATS_SPANS', 20_000);
  const runs = envInt('BENCH_FORMATS_RUNS', 3);
  const clients = envInt('BENCH_FORMATS_CLIENTS', 4);
  const parent = process.env.TRACEFOLD_BENCH_DIR ?? os.tmpdir();
  console.log(
    `ingest-formats: OTLP/HTTP protobuf vs JSON, agent spans (${SPANS_PER_TRACE} per trace, GenAI attributes), ` +
      `${clients} clients, TRACEFOLD_LOG_SYNC=fsync, median of ${runs} ingest runs and ${DECODE_RUNS} decode runs, dir=${parent}`,
  );

  const rows: string[][] = [
    ['spans/request', 'requests', 'format', 'bytes/span', 'ingest spans/s', 'decode-only spans/s', 'ingest pb/json', 'decode pb/json'],
  ];
  for (const batch of BATCH_SIZES) {
    const payloads = payloadsFor(batch, batch === 1 ? Math.max(500, Math.floor(spans / 10)) : spans);
    const decode = await measureDecode(payloads);
    const ingest = await measureIngest(payloads, runs, clients, parent);
    const ingestPb = perSecond(payloads.spans, ingest.protobufMs);
    const ingestJson = perSecond(payloads.spans, ingest.jsonMs);
    const decodePb = perSecond(payloads.spans, decode.protobufMs);
    const decodeJson = perSecond(payloads.spans, decode.jsonMs);
    const requests = String(payloads.json.length);
    rows.push([
      String(batch),
      requests,
      'protobuf',
      (totalBytes(payloads.protobuf) / payloads.spans).toFixed(0),
      formatCount(ingestPb),
      formatCount(decodePb),
      formatRatio(ingestPb / ingestJson),
      formatRatio(decodePb / decodeJson),
    ]);
    rows.push([
      String(batch),
      requests,
      'json',
      (totalBytes(payloads.json) / payloads.spans).toFixed(0),
      formatCount(ingestJson),
      formatCount(decodeJson),
      '',
      '',
    ]);
  }
  console.log(table(rows));
  console.log('decode-only: protobuf = decodeOtlpProto(bytes); json = JSON.parse + decodeOtlpJson. pb/json > 1x: protobuf is faster.');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runIngestFormatsBench();
}
