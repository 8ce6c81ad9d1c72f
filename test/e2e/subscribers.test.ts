/**
 * The example subscribers of tracefold.detections.v1 (examples/subscribers/: one on kafkajs
 * and @kafkajs/confluent-schema-registry, one on Python's confluent-kafka with its
 * AvroDeserializer) count exactly the detections the API shows for a tenant, reading the
 * real broker through the real schema registry.
 *
 * A tracefold in Kafka mode gets, for one tenant, runs whose detections all stand: a loop
 * (under a trace id holding '/'), a failed tool call, a live detection confirmed at the close,
 * a run re-opened by a late span whose revision 2 has the only detection, and a run still
 * open whose live detection stands. For a second tenant it gets runs whose detections are
 * taken back: a live detection the whole run no longer supports, and a run re-opened by a
 * late span whose revision 2 replaces revision 1's loop. A subscriber sees those only through
 * records with `withdrawn` set. Once the API shows everything, each subscriber reads the topic to its end and must
 * print the API's ids, no more and no fewer.
 *
 * The broker is shared with other suites: the tenants are this run's own, and the
 * subscribers keep theirs by the record key before decoding anything. The Python subscriber
 * needs the virtualenv of scripts/python-env.sh (.cache/python-venv, or TRACEFOLD_PYTHON);
 * without it it is skipped with a warning, except under CI (CI set, or
 * TRACEFOLD_REQUIRE_PYTHON=1), where it fails.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/poll.js';
import { describeKafka, kafkaBrokers, schemaRegistryUrl } from '../support/kafka.js';
import { loopingTrace, otlpPayload, invoiceCall, type SpanSpec } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = process.env.TRACEFOLD_PYTHON ?? path.join(root, '.cache', 'python-venv', 'bin', 'python');

/** A subscriber gets this long to read the topic; the test waits a little longer for it. */
const SUBSCRIBER_TIMEOUT_MS = 120_000;

const ci = process.env.CI;
const PYTHON_REQUIRED = (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') || process.env.TRACEFOLD_REQUIRE_PYTHON === '1';
/** Whether the interpreter there has confluent-kafka with its Avro deserializer (an older environment may not). */
const PYTHON_READY =
  fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import confluent_kafka.schema_registry.avro'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
const PYTHON_SKIP = !PYTHON_READY && !PYTHON_REQUIRED;
if (PYTHON_SKIP && kafkaBrokers().length > 0) {
  const rule = '!'.repeat(78);
  console.warn(
    [
      '',
      rule,
      `!! NO PYTHON ENVIRONMENT WITH confluent-kafka at ${PYTHON}: the Python subscriber tests are SKIPPED.`,
      '!! Create it with: bash scripts/python-env.sh   (needs python3 with venv; Debian: python3-venv)',
      '!! Under CI (CI or TRACEFOLD_REQUIRE_PYTHON=1) this is a failure, not a skip.',
      rule,
      '',
    ].join('\n'),
  );
}

const SUBSCRIBERS = [
  { name: 'kafkajs', command: process.execPath, args: ['--import', 'tsx', path.join(root, 'examples', 'subscribers', 'count-detections.ts')], skip: false },
  { name: 'confluent-kafka', command: PYTHON, args: [path.join(root, 'examples', 'subscribers', 'count_detections.py')], skip: PYTHON_SKIP },
];

const T0 = 1_700_000_000_000;

const call = (spanId: string, startMs: number, error?: string): SpanSpec => invoiceCall(spanId, startMs, error, T0);

/** Call number `index` of loopingTrace, sent late. */
function lateLoopCall(traceId: string, index: number) {
  return otlpPayload(traceId, [
    {
      spanId: `call-${index}`,
      parentSpanId: 'root',
      name: 'execute_tool web_search',
      startMs: T0 + 100 + index * 500,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.call.arguments': '{"query": "pricing of acme"}', 'gen_ai.agent.name': 'researcher' },
    },
  ]);
}

type Tenant = Awaited<ReturnType<typeof createTenant>>;

/** What a subscriber prints. */
interface Count {
  readonly tenant: string;
  readonly detections: number;
  readonly ids: string[];
}

describeKafka('subscribers of tracefold.detections.v1', () => {
  const brokers = kafkaBrokers().join(',');
  const registry = schemaRegistryUrl();
  let server: TestServer;
  /** Every detection of its runs stands. */
  let standing: Tenant;
  /** Detections of its runs are taken back. */
  let withdrawing: Tenant;
  /** Each tenant's detections as the API lists them, every page. */
  const shown = new Map<Tenant, any[]>();
  /** What each detection id of the scenario is, for a failure to name. */
  const known = new Map<string, string>();

  const send = async (tenant: Tenant, body: unknown) => {
    const res = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const analyze = async (tenant: Tenant, traceId: string) => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${encodeURIComponent(traceId)}/analyze`, 'POST', { token: tenant.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const d of res.body.all_detections) known.set(d.id, `${traceId} revision ${d.revision} ${d.detection_type}`);
    return res.body;
  };
  const found = (analysis: any) => analysis.all_detections.map((d: any) => `${d.detection_type}@${d.revision}`);

  async function listed(tenant: Tenant): Promise<any[]> {
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      // Small pages, so that following the cursor is part of it.
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/detections?limit=4${query}`, 'GET', { token: tenant.token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      all.push(...(res.body as any[]));
      cursor = res.headers.get('x-next-cursor');
    } while (cursor !== null);
    for (const d of all) known.set(d.id, `${d.trace_id} revision ${d.revision} ${d.detection_type}${d.live ? ' (live)' : ''}`);
    return all;
  }

  async function runSubscriber(subscriber: (typeof SUBSCRIBERS)[number], tenant: Tenant): Promise<Count> {
    const started = performance.now();
    const argv = [...subscriber.args, '--brokers', brokers, '--registry', registry!, '--tenant', tenant.tenantId, '--timeout-ms', String(SUBSCRIBER_TIMEOUT_MS)];
    const { stdout, stderr, error } = await new Promise<{ stdout: string; stderr: string; error: Error | null }>((resolve) => {
      const options = { cwd: root, timeout: SUBSCRIBER_TIMEOUT_MS + 30_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } };
      execFile(subscriber.command, argv, options, (err, out, errOut) => resolve({ stdout: out, stderr: errOut, error: err }));
    });
    if (error !== null) throw new Error(`the ${subscriber.name} subscriber failed: ${error.message}\n--- stderr\n${stderr}\n--- stdout\n${stdout}`);
    console.log(`the ${subscriber.name} subscriber read the topic in ${Math.round(performance.now() - started)} ms`);
    const lines = stdout.trim().split('\n');
    expect(lines, `the ${subscriber.name} subscriber prints one line on stdout`).toHaveLength(1);
    return JSON.parse(lines[0]!) as Count;
  }

  /** The subscriber prints the API's ids; a difference is named detection by detection. */
  async function expectCountsAsTheApi(subscriber: (typeof SUBSCRIBERS)[number], tenant: Tenant): Promise<void> {
    const count = await runSubscriber(subscriber, tenant);
    const ids = shown.get(tenant)!.map((d) => d.id as string).sort();
    const name = (id: string) => `${id} (${known.get(id) ?? 'not a detection of this scenario'})`;
    const extra = count.ids.filter((id) => !ids.includes(id)).map(name);
    const missing = ids.filter((id) => !count.ids.includes(id)).map(name);
    expect(count, `counted but not shown by the API: ${extra.join(', ') || 'none'}; shown but not counted: ${missing.join(', ') || 'none'}`).toEqual({
      tenant: tenant.tenantId,
      detections: ids.length,
      ids,
    });
  }

  beforeAll(async () => {
    if (registry === null) throw new Error('the subscribers decode through a schema registry, and the run has none (see the global setup)');
    server = await startServer({
      TRACEFOLD_KAFKA_BROKERS: brokers,
      TRACEFOLD_SCHEMA_REGISTRY_URL: registry,
      TRACEFOLD_JWT_SECRET: 'subscribers-secret-0123456789-abcdefghij',
      // Windows close on analyze only; the run left open keeps its live detection.
      TRACEFOLD_INACTIVITY_GAP_MS: '600000',
      TRACEFOLD_ROOT_SETTLE_MS: '600000',
    });
    // Tenants of this run's own (their ids are fresh UUIDs): the broker is shared.
    standing = await createTenant(server.url, 'subscribers-standing');
    withdrawing = await createTenant(server.url, 'subscribers-withdrawing');

    // A loop, under a trace id with '/' in it (keys split at the first '/').
    await send(standing, loopingTrace('loop/with/slashes', 4));
    expect(found(await analyze(standing, 'loop/with/slashes'))).toEqual(['loop@1']);
    // A failed tool call.
    await send(standing, otlpPayload('tool-failure', [{ spanId: 'root', name: 'agent_run', startMs: T0, durationMs: 3000 }, call('bad', 100, 'ENOENT')]));
    expect(found(await analyze(standing, 'tool-failure'))).toContain('tool_failure@1');
    // Live on the third failure, then confirmed at the close under the same id.
    await send(standing, otlpPayload('live-confirmed', [call('c1', 100, 'HTTP 500'), call('c2', 200, 'HTTP 500'), call('c3', 300, 'HTTP 500')]));
    const confirmed = await analyze(standing, 'live-confirmed');
    expect(confirmed.all_detections.find((d: any) => d.detection_type === 'retry_storm')).toMatchObject({ live: false });
    // Revision 1 has nothing; a late call re-opens the run and revision 2 has a loop.
    await send(standing, loopingTrace('late-first', 2));
    expect(found(await analyze(standing, 'late-first'))).toEqual([]);
    await send(standing, lateLoopCall('late-first', 2));
    expect(found(await analyze(standing, 'late-first'))).toEqual(['loop@2']);
    // Still open: its live detection stands.
    await send(standing, otlpPayload('still-open', [call('c1', 100, 'HTTP 503'), call('c2', 200, 'HTTP 503'), call('c3', 300, 'HTTP 503')]));

    // Live on three failures in a row, until a call that succeeded between them arrives
    // late: withdrawn at the close.
    await send(withdrawing, otlpPayload('live-withdrawn', [call('c1', 100, 'HTTP 500'), call('c2', 200, 'HTTP 500'), call('c4', 400, 'HTTP 500')]));
    const fired = await waitFor(async () => (await listed(withdrawing)).find((d) => d.trace_id === 'live-withdrawn' && d.detection_type === 'retry_storm') ?? null, { timeoutMs: 60_000, intervalMs: 200 });
    expect(fired, 'the live retry_storm shows before the late call').toMatchObject({ live: true });
    await send(withdrawing, otlpPayload('live-withdrawn', [call('c3', 300)]));
    expect(found(await analyze(withdrawing, 'live-withdrawn'))).not.toContain('retry_storm@1');
    // Revision 1 has a loop; a late call re-opens the run and revision 2's loop replaces it.
    await send(withdrawing, loopingTrace('late-loop', 3));
    expect(found(await analyze(withdrawing, 'late-loop'))).toEqual(['loop@1']);
    await send(withdrawing, lateLoopCall('late-loop', 3));
    expect(found(await analyze(withdrawing, 'late-loop'))).toEqual(['loop@2']);

    // Each analyze answered once the views had read the outputs appended before it; the open
    // run's live detection shows once the views have read it.
    const live = await waitFor(async () => (await listed(standing)).find((d) => d.trace_id === 'still-open' && d.detection_type === 'retry_storm') ?? null, { timeoutMs: 60_000, intervalMs: 200 });
    expect(live, 'the open run has a live retry_storm in the API').toMatchObject({ live: true });
    shown.set(standing, await listed(standing));
    shown.set(withdrawing, await listed(withdrawing));
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('the API shows what the scenario made', () => {
    const byTrace = (tenant: Tenant) => {
      const out: Record<string, string[]> = {};
      for (const d of shown.get(tenant)!) (out[d.trace_id] ??= []).push(`${d.detection_type}@${d.revision}${d.live ? ' live' : ''}`);
      return out;
    };
    const standingShown = byTrace(standing);
    expect(standingShown['loop/with/slashes']).toEqual(['loop@1']);
    expect(standingShown['tool-failure']).toContain('tool_failure@1');
    expect(standingShown['live-confirmed']).toContain('retry_storm@1');
    expect(standingShown['late-first']).toEqual(['loop@2']);
    expect(standingShown['still-open']).toContain('retry_storm@1 live');
    const withdrawingShown = byTrace(withdrawing);
    expect(withdrawingShown['live-withdrawn']).not.toContain('retry_storm@1 live');
    expect(withdrawingShown['late-loop']).toEqual(['loop@2']);
  });

  for (const subscriber of SUBSCRIBERS) {
    const ready = () => {
      if (subscriber.command === PYTHON && !PYTHON_READY) {
        throw new Error(`no Python environment with confluent-kafka at ${PYTHON}: run bash scripts/python-env.sh (.ci/run does) before the tests`);
      }
    };

    it.skipIf(subscriber.skip)(`the ${subscriber.name} subscriber counts exactly the detections the API shows`, async () => {
      ready();
      await expectCountsAsTheApi(subscriber, standing);
    }, SUBSCRIBER_TIMEOUT_MS + 60_000);

    it.skipIf(subscriber.skip)(`the ${subscriber.name} subscriber leaves out what was withdrawn, as the API does`, async () => {
      ready();
      await expectCountsAsTheApi(subscriber, withdrawing);
    }, SUBSCRIBER_TIMEOUT_MS + 60_000);
  }
});
