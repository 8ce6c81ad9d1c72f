/**
 * Fuzzing the ingest routes of a live server (in-process requests through app.inject, no
 * sockets): thousands of random mutations of valid OTLP payloads, JSON and protobuf, with
 * random content types, encodings and credentials. The server must never answer 5xx (a
 * 503 would mean the log failed, which it must not under bad input), and must still answer
 * /healthz and accept a valid payload afterwards.
 *
 * Deterministic: FUZZ_SEED=<n> replays a run; a failing run prints its seed and the first
 * offending cases (TEST_LOG_LEVEL=error shows the server-side error of a 5xx). FUZZ_CASES and
 * FUZZ_BUDGET_MS change the size and the time bound; FUZZ_VERBOSE prints the status counts.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';
import { seededRandom } from '../support/seeded-random.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
/** Each half stops early when its time is up, so a slow machine still finishes. */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 15_000);

// ---------------------------------------------------------------------------------------
// Deterministic randomness

/** The same sequence for the same seed everywhere, with helpers for picking inputs. */
function prng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
    hex: (bytes: number) => Array.from({ length: bytes * 2 }, () => '0123456789abcdef'[int(16)]).join(''),
  };
}
type Rand = ReturnType<typeof prng>;

// ---------------------------------------------------------------------------------------
// Valid payloads

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function anyValues(rand: Rand): Json[] {
  return [
    { stringValue: 'gpt-4o' },
    { boolValue: true },
    { intValue: String(rand.int(1_000_000)) },
    { intValue: rand.int(1000) },
    { doubleValue: rand.next() * 100 },
    { bytesValue: Buffer.from('tracefold').toString('base64') },
    { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } },
    { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } },
  ];
}

function validPayload(rand: Rand): { [key: string]: Json } {
  const traceId = rand.hex(16);
  const spanCount = 1 + rand.int(4);
  const rootId = rand.hex(8);
  const t0 = 1_700_000_000_000n + BigInt(rand.int(1_000_000));
  const spans: Json[] = [];
  for (let i = 0; i < spanCount; i++) {
    const start = (t0 + BigInt(i * 100)) * 1_000_000n;
    spans.push({
      traceId,
      spanId: i === 0 ? rootId : rand.hex(8),
      ...(i === 0 ? {} : { parentSpanId: rootId }),
      traceState: 'vendor=1',
      name: i === 0 ? 'invoke_agent researcher' : 'chat gpt-4o',
      kind: 1 + rand.int(5),
      flags: 1,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 50_000_000n).toString(),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: i === 0 ? 'invoke_agent' : 'chat' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: String(rand.int(5000)) } },
        ...anyValues(rand).map((value, k) => ({ key: `attr.${k}`, value })),
      ],
      events: [{ timeUnixNano: start.toString(), name: 'gen_ai.content.prompt', attributes: [{ key: 'gen_ai.prompt', value: { stringValue: 'hello' } }] }],
      links: [{ traceId: rand.hex(16), spanId: rand.hex(8), attributes: [] }],
      status: { code: rand.int(3), message: 'ok' },
    });
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz-service' } }] },
        scopeSpans: [{ scope: { name: 'fuzz', version: '1' }, spans }],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------
// Protobuf encoding of the same payloads (a writer for test data only; the server decodes
// with protobufjs from the OTLP definitions)

const varint = (value: bigint): Buffer => {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
};
const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));
const ld = (field: number, payload: Buffer) => Buffer.concat([key(field, 2), varint(BigInt(payload.length)), payload]);
const str = (field: number, s: string) => ld(field, Buffer.from(s, 'utf8'));
const vint = (field: number, v: bigint | number) => Buffer.concat([key(field, 0), varint(BigInt(v))]);
const fixed64 = (field: number, v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return Buffer.concat([key(field, 1), b]);
};
const fixed32 = (field: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return Buffer.concat([key(field, 5), b]);
};
const double = (field: number, v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([key(field, 1), b]);
};
const idBytes = (id: Json | undefined) => Buffer.from(typeof id === 'string' && /^[0-9a-f]*$/i.test(id) && id.length % 2 === 0 ? id : '', 'hex');
const obj = (v: Json | undefined): { [key: string]: Json } => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const text = (v: Json | undefined) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const big = (v: Json | undefined) => {
  try {
    return BigInt(typeof v === 'number' ? Math.trunc(v) : text(v) || '0');
  } catch {
    return 0n;
  }
};

function pbAnyValue(value: Json | undefined): Buffer {
  const v = obj(value);
  if ('stringValue' in v) return str(1, text(v.stringValue));
  if ('boolValue' in v) return vint(2, v.boolValue === true ? 1 : 0);
  if ('intValue' in v) return vint(3, big(v.intValue));
  if ('doubleValue' in v) return double(4, typeof v.doubleValue === 'number' ? v.doubleValue : 0);
  if ('arrayValue' in v) return ld(5, Buffer.concat(arr(obj(v.arrayValue).values).map((x) => ld(1, pbAnyValue(x)))));
  if ('kvlistValue' in v) return ld(6, Buffer.concat(arr(obj(v.kvlistValue).values).map((kv) => ld(1, pbKeyValue(kv)))));
  if ('bytesValue' in v) return ld(7, Buffer.from(text(v.bytesValue), 'base64'));
  return Buffer.alloc(0);
}
const pbKeyValue = (kv: Json) => Buffer.concat([str(1, text(obj(kv).key)), ld(2, pbAnyValue(obj(kv).value))]);
const pbAttributes = (field: number, list: Json | undefined) => Buffer.concat(arr(list).map((kv) => ld(field, pbKeyValue(kv))));

function pbSpan(span: Json): Buffer {
  const s = obj(span);
  return Buffer.concat([
    ld(1, idBytes(s.traceId)),
    ld(2, idBytes(s.spanId)),
    str(3, text(s.traceState)),
    ...(s.parentSpanId !== undefined ? [ld(4, idBytes(s.parentSpanId))] : []),
    str(5, text(s.name)),
    vint(6, big(s.kind)),
    fixed64(7, big(s.startTimeUnixNano)),
    fixed64(8, big(s.endTimeUnixNano)),
    pbAttributes(9, s.attributes),
    ...arr(s.events).map((e) => ld(11, Buffer.concat([fixed64(1, big(obj(e).timeUnixNano)), str(2, text(obj(e).name)), pbAttributes(3, obj(e).attributes)]))),
    ...arr(s.links).map((l) => ld(13, Buffer.concat([ld(1, idBytes(obj(l).traceId)), ld(2, idBytes(obj(l).spanId)), pbAttributes(4, obj(l).attributes)]))),
    ld(15, Buffer.concat([str(2, text(obj(s.status).message)), vint(3, big(obj(s.status).code))])),
    fixed32(16, Number(big(s.flags) & 0xffffffffn)),
  ]);
}

function pbRequest(payload: Json): Buffer {
  return Buffer.concat(
    arr(obj(payload).resourceSpans).map((rs) =>
      ld(
        1,
        Buffer.concat([
          ld(1, pbAttributes(1, obj(obj(rs).resource).attributes)),
          ...arr(obj(rs).scopeSpans).map((ss) =>
            ld(2, Buffer.concat([ld(1, str(1, text(obj(obj(ss).scope).name))), ...arr(obj(ss).spans).map((sp) => ld(2, pbSpan(sp)))])),
          ),
        ]),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------
// Mutations

/** Every path to a value inside `root` (objects by key, arrays by index). */
function paths(root: Json): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (node: Json, path: (string | number)[]) => {
    if (path.length > 0) out.push(path);
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...path, i]));
    else if (node !== null && typeof node === 'object') for (const [k, child] of Object.entries(node)) walk(child, [...path, k]);
  };
  walk(root, []);
  return out;
}

function nested(depth: number, kind: 'array' | 'kvlist' | 'plain'): Json {
  let value: Json = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i++) {
    if (kind === 'array') value = { arrayValue: { values: [value] } };
    else if (kind === 'kvlist') value = { kvlistValue: { values: [{ key: 'k', value }] } };
    else value = [value];
  }
  return value;
}

function randomValue(rand: Rand): Json {
  return rand.pick<() => Json>([
    () => null,
    () => rand.chance(0.5),
    () => 0,
    () => -1,
    () => rand.next() * 1e6,
    () => Number.MAX_SAFE_INTEGER * 4,
    () => 1e308,
    () => -1e308,
    () => '',
    () => 'x'.repeat(rand.int(20_000)),
    () => '18446744073709551616',
    () => '-9223372036854775809',
    () => '1e400',
    () => 'NaN',
    () => '0x1f',
    () => '%%%not-base64%%%',
    () => 'AAAA====',
    () => 'demo-trace-001',
    () => '\ud800\udfff\u0000\uffff',
    () => rand.hex(rand.int(40)),
    () => [],
    () => ({}),
    () => [null, 1, 'a', {}],
    () => ({ stringValue: 1, intValue: 'x', arrayValue: 'y' }),
    () => ({ arrayValue: { values: 'not-an-array' } }),
    () => ({ kvlistValue: { values: [{ key: 5, value: [] }] } }),
    () => ({ ['__proto__']: { polluted: true }, constructor: { prototype: { x: 1 } } }),
    () => nested(rand.int(300), rand.pick(['array', 'kvlist', 'plain'] as const)),
  ])();
}

/** How large a grown payload may get: past the server's 1 MiB body limit, not by much. */
const GROW_LIMIT_BYTES = 2 * 1024 * 1024;

function mutateTree(rand: Rand, root: Json): string[] {
  const applied: string[] = [];
  const count = 1 + rand.int(4);
  for (let m = 0; m < count; m++) {
    const all = paths(root);
    if (all.length === 0) break;
    const path = rand.pick(all);
    let parent: Json = root;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step]!;
    const last = path[path.length - 1]!;
    const container = parent as Record<string | number, Json>;
    const op = rand.int(4);
    if (op === 0) {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete container[last];
      applied.push(`delete ${path.join('.')}`);
    } else if (op === 1 && Array.isArray(container[last])) {
      const list = container[last];
      // Growth multiplies through nesting (a list grown inside a list grown again): bounded
      // so the payload stays near the 1 MiB body limit (a larger one is only another 413).
      const wanted = rand.pick([2, 50, 500]);
      const itemBytes = Math.max(1, JSON.stringify(list).length / Math.max(1, list.length));
      const copies = Math.min(wanted, Math.max(0, Math.floor((GROW_LIMIT_BYTES - JSON.stringify(root).length) / itemBytes)));
      for (let i = 0; i < copies && list.length > 0; i++) list.push(structuredClone(list[i % list.length]!));
      applied.push(`grow ${path.join('.')} by ${copies}`);
    } else {
      const value = randomValue(rand);
      container[last] = value;
      applied.push(`set ${path.join('.')} = ${JSON.stringify(value)?.slice(0, 60)}`);
    }
  }
  return applied;
}

function mutateBytes(rand: Rand, body: Buffer): { body: Buffer; what: string } {
  const op = rand.int(7);
  const at = rand.int(body.length + 1);
  switch (op) {
    case 0:
      return { body: body.subarray(0, at), what: `truncate at ${at}` };
    case 1: {
      const copy = Buffer.from(body);
      for (let i = 0; i < 1 + rand.int(8) && copy.length > 0; i++) {
        const at = rand.int(copy.length);
        copy[at] = copy[at]! ^ (1 << rand.int(8));
      }
      return { body: copy, what: 'flip bits' };
    }
    case 2:
      return { body: Buffer.concat([body.subarray(0, at), rand.bytes(1 + rand.int(64)), body.subarray(at)]), what: `insert random bytes at ${at}` };
    case 3:
      return { body: Buffer.concat([body.subarray(0, at), Buffer.alloc(10, 0xff), Buffer.from([0x01]), body.subarray(at)]), what: `insert overlong varint at ${at}` };
    case 4:
      return { body: Buffer.concat([body, body.subarray(0, at)]), what: `append a copy of the first ${at} bytes` };
    case 5:
      return { body: rand.bytes(rand.int(4096)), what: 'random bytes' };
    default:
      return { body: Buffer.concat([body.subarray(0, at), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), body.subarray(at)]), what: `huge length prefix at ${at}` };
  }
}

// ---------------------------------------------------------------------------------------
// The run

interface Case {
  readonly route: 'otlp' | 'tenant';
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly what: string;
}

interface Failure {
  readonly index: number;
  readonly what: string;
  readonly status: number;
  readonly body: string;
}

describe('ingest fuzz', () => {
  let server: TestServer;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  /** Whether tracefold reported a fatal failure (its `failed` promise settled). */
  let crashed = false;

  beforeAll(async () => {
    // No rate limit: the point is to reach the decoders, not to be throttled before them.
    server = await startServer({ TRACEFOLD_RATE_LIMIT_SPANS_PER_S: '0', TRACEFOLD_MAX_BODY_BYTES: String(1024 * 1024) });
    tenant = await createTenant(server.url, 'fuzz');
    server.tracefold.failed.then(
      () => (crashed = true),
      () => (crashed = true),
    );
  });
  afterAll(async () => {
    await server.stop();
  });

  function headersFor(rand: Rand, route: Case['route'], contentType: string): Record<string, string> {
    const credential = route === 'otlp' ? tenant.apiKey : tenant.token;
    const headers: Record<string, string> = { 'content-type': contentType, authorization: `Bearer ${credential}` };
    if (rand.chance(0.05)) headers['content-type'] = rand.pick(['text/plain', 'application/xml', '', 'multipart/form-data; boundary=x', 'application/JSON', 'application/json; charset=utf-16', 'application/x-protobuf', 'application/json']);
    if (rand.chance(0.03)) delete headers['content-type'];
    if (rand.chance(0.03)) headers.authorization = rand.pick(['Bearer ', 'Basic abc', `Bearer ${credential.slice(0, -3)}xyz`, 'Bearer a.b.c']);
    return headers;
  }

  /** Sometimes gzip the body (valid or not) and say so. */
  function encode(rand: Rand, body: Buffer, headers: Record<string, string>): { body: Buffer; note: string } {
    if (!rand.chance(0.15)) return { body, note: '' };
    const choice = rand.int(5);
    if (choice === 0) return (headers['content-encoding'] = 'gzip'), { body: gzipSync(body), note: ' gzip' };
    if (choice === 1) return (headers['content-encoding'] = 'gzip'), { body, note: ' gzip header, plain body' };
    if (choice === 2) {
      headers['content-encoding'] = 'gzip';
      const zipped = gzipSync(body);
      return { body: zipped.subarray(0, rand.int(zipped.length)), note: ' truncated gzip' };
    }
    headers['content-encoding'] = rand.pick(['br', 'gzip, gzip', 'deflate', 'identity', 'x-gzip']);
    return { body: choice === 3 ? gzipSync(body) : body, note: ` content-encoding ${headers['content-encoding']}` };
  }

  function jsonCase(rand: Rand): Case {
    const route = rand.chance(0.5) ? 'otlp' : 'tenant';
    const headers = headersFor(rand, route, 'application/json');
    const payload = validPayload(rand);
    const whats: string[] = [];
    if (rand.chance(0.85)) whats.push(...mutateTree(rand, payload));
    let serialized = JSON.stringify(payload);
    if (rand.chance(0.1)) {
      serialized = rand.pick([
        // Nesting too deep to build as a tree: spliced in as text.
        () => serialized.replace('{"stringValue":"gpt-4o"}', '{"arrayValue":{"values":['.repeat(20_000) + '{}' + ']}}'.repeat(20_000)),
        () => serialized.replace('{"stringValue":"gpt-4o"}', '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(5_000) + '{}' + '}]}}'.repeat(5_000)),
        // Names the views key by, past their key-part limit: refused by name, never a 5xx.
        () => serialized.replace('"fuzz-service"', JSON.stringify('S'.repeat(70_000))),
        () => serialized.replace('{"key":"gen_ai.operation.name"', `{"key":"gen_ai.agent.name","value":{"stringValue":"${'A'.repeat(70_000)}"}},{"key":"gen_ai.operation.name"`),
        () => serialized.replace(/"\d{10,}"/, '1e999'),
        () => serialized.replace(/"kind":\d/, '"kind":-0'),
        () => '\ufeff' + serialized,
        () => serialized + ' '.repeat(rand.int(1000)) + '{}',
        () => '['.repeat(100_000) + ']'.repeat(100_000),
        () => '{"resourceSpans":' + '['.repeat(50_000),
        () => '"just a string"',
        () => 'null',
        () => '12',
        () => '',
      ])();
      whats.push('raw text mutation');
    }
    let body: Buffer = Buffer.from(serialized, 'utf8');
    if (rand.chance(0.15)) {
      const mutated = mutateBytes(rand, body);
      body = mutated.body;
      whats.push(mutated.what);
    }
    const encoded = encode(rand, body, headers);
    return { route, headers, body: encoded.body, what: `json ${route}: ${whats.join('; ')}${encoded.note}` };
  }

  function protobufCase(rand: Rand): Case {
    const route = rand.chance(0.5) ? 'otlp' : 'tenant';
    const headers = headersFor(rand, route, 'application/x-protobuf');
    const payload = validPayload(rand);
    const whats: string[] = [];
    if (rand.chance(0.4)) whats.push(...mutateTree(rand, payload));
    let body: Buffer = pbRequest(payload);
    if (rand.chance(0.1)) {
      // Nesting far beyond any sane depth, encoded inside out (a tree this deep would not
      // survive a recursive encoder).
      const depth = rand.pick([50, 200, 2_000]);
      let value = str(1, 'bottom');
      for (let i = 0; i < depth; i++) value = ld(5, ld(1, value));
      const resource = ld(1, ld(1, Buffer.concat([str(1, 'deep'), ld(2, value)])));
      body = Buffer.concat([body, ld(1, resource)]);
      whats.push(`AnyValue nested ${depth} deep`);
    }
    if (rand.chance(0.7)) {
      const mutated = mutateBytes(rand, body);
      body = mutated.body;
      whats.push(mutated.what);
    }
    const encoded = encode(rand, body, headers);
    return { route, headers, body: encoded.body, what: `protobuf ${route}: ${whats.join('; ')}${encoded.note}` };
  }

  async function run(seed: number, make: (rand: Rand) => Case): Promise<{ sent: number; failures: Failure[]; statuses: Map<number, number> }> {
    const rand = prng(seed);
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    let sent = 0;
    for (; sent < CASES && Date.now() - started < BUDGET_MS; sent++) {
      const c = make(rand);
      const url = c.route === 'otlp' ? '/v1/traces' : `/api/v1/tenants/${tenant.tenantId}/traces/ingest`;
      const res = await server.tracefold.app.inject({ method: 'POST', url, headers: c.headers, payload: c.body });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500 && failures.length < 10) failures.push({ index: sent, what: c.what, status: res.statusCode, body: res.body.slice(0, 300) });
    }
    if (process.env.FUZZ_VERBOSE !== undefined) console.info(`seed ${seed}: ${sent} cases in ${Date.now() - started} ms, statuses ${JSON.stringify([...statuses].sort())}`);
    return { sent, failures, statuses };
  }

  async function stillServes(): Promise<void> {
    const health = await request(`${server.url}/healthz`, 'GET');
    expect(health.status).toBe(200);
    const rand = prng(SEED ^ 0x5eed);
    const valid = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: validPayload(rand) });
    expect(valid.status).toBe(200);
    expect(valid.body.rejected_spans).toBe(0);
    // Set as soon as `failed` settles; the requests above were answered after any crash the fuzzing caused.
    expect(crashed).toBe(false);
  }

  it(`JSON bodies never get a 5xx (seed ${SEED})`, { timeout: BUDGET_MS + 30_000 }, async () => {
    onTestFailed(() => console.error(`ingest fuzz (JSON) failed; replay with FUZZ_SEED=${SEED}`));
    const { sent, failures, statuses } = await run(SEED, jsonCase);
    expect(failures, `FUZZ_SEED=${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThan(Math.min(CASES, 200));
    // The mutations reach past the front door: some are accepted, some refused as bad input.
    expect(statuses.has(200) || statuses.has(202)).toBe(true);
    expect(statuses.has(400)).toBe(true);
    await stillServes();
  });

  it(`protobuf bodies never get a 5xx (seed ${SEED})`, { timeout: BUDGET_MS + 30_000 }, async () => {
    onTestFailed(() => console.error(`ingest fuzz (protobuf) failed; replay with FUZZ_SEED=${SEED}`));
    const { sent, failures, statuses } = await run((SEED ^ 0x9e3779b9) >>> 0, protobufCase);
    expect(failures, `FUZZ_SEED=${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThan(Math.min(CASES, 200));
    expect(statuses.has(200) || statuses.has(202)).toBe(true);
    await stillServes();
  });
});
