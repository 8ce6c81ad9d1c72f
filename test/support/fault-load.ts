/**
 * The load, poison and accounting of the fault-injection suite (test/e2e/fault-injection-*).
 *
 * - `LoadDriver` sends OTLP/HTTP requests (several tenants, looping traces so detections
 *   fire) and records exactly which spans were acknowledged: a 2xx without an OTLP partial
 *   success. A refused or unanswered request is retried with the identical body, as a
 *   retrying exporter does, and some acknowledged bodies are re-sent on purpose.
 * - `poisonRecords` builds records a stage cannot process, for a side producer to append
 *   straight to tracefold.raw.v1, bypassing ingest.
 * - `account` reads what the pipeline made of it all (the API and the output topics) and
 *   counts acknowledged, visible, lost, duplicated and dead-lettered.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { spanRecord } from '../../src/ingest/append-raw.js';
import { createKafkaLog, type KafkaLog } from '../../src/log/kafka/index.js';
import type { AppendResult, Log, LogRecord, OutgoingRecord } from '../../src/log/port.js';
import { readRecords } from '../../src/log/read-topic.js';
import type { Codecs } from '../../src/log/serde/index.js';
import { TOPICS } from '../../src/log/topics.js';
import { HEADER, traceKey } from '../../src/model/record-keys.js';
import type { KeyValue } from '../../src/model/span.js';
import { tortureSpans } from '../fixtures/kill-torture-input.js';
import { loopingTrace } from './otlp.js';
import { waitFor } from './poll.js';
import { seededRandom } from './seeded-random.js';
import { request, tempDir } from './server.js';

export interface Tenant {
  readonly tenantId: string;
  readonly apiKey: string;
  readonly token: string;
}

/** Tool calls per generated trace (plus one root span): three or more repeat, a loop. */
const CALLS = 4;
/** Attempts of one body before the driver gives it up as not acknowledged. */
const MAX_ATTEMPTS = 60;
const RETRY_MS = 250;
/** Pause of each producer between traces. */
const PACE_MS = 50;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sent {
  readonly tenant: Tenant;
  readonly traceId: string;
  readonly spanIds: readonly string[];
  readonly body: unknown;
}

export class LoadDriver {
  /** `tenant/trace` → the spans acknowledged for it. */
  readonly acknowledged = new Map<string, Sent>();
  /** Requests answered with something else than an acknowledgement (then retried). */
  refusals = 0;
  /** Identical bodies sent again after their acknowledgement. */
  resends = 0;
  private readonly run = randomBytes(3).toString('hex');
  private sequence = 0;
  private stopping = false;
  private producers: Promise<void>[] = [];

  constructor(
    private readonly ingestUrl: () => string,
    readonly tenants: readonly Tenant[],
    private readonly random: () => number,
    /** Share of acknowledged bodies re-sent at once, as an exporter whose answer was lost. */
    private readonly resendRate = 0.2,
  ) {}

  get acknowledgedSpans(): number {
    let n = 0;
    for (const sent of this.acknowledged.values()) n += sent.spanIds.length;
    return n;
  }

  /** Starts `producers` concurrent senders, each sending one trace after another. */
  start(producers = 2): void {
    for (let p = 0; p < producers; p++) {
      this.producers.push(
        (async () => {
          while (!this.stopping) {
            await this.sendTrace();
            // A steady rate rather than as fast as the machine goes: the suite counts every
            // span afterwards, and the faults, not the volume, are what it is about.
            await pause(PACE_MS);
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.producers);
    this.producers = [];
  }

  /** Sends one new trace until acknowledged (or given up); returns its key when acknowledged. */
  async sendTrace(prefix = 'load'): Promise<string | null> {
    const n = this.sequence++;
    const tenant = this.tenants[n % this.tenants.length]!;
    const traceId = `${prefix}-${this.run}-${n}`;
    // Event times of now: inside the lateness horizon, so a late re-send is still a re-send.
    const body = loopingTrace(traceId, CALLS, Date.now() - 60_000);
    const sent: Sent = { tenant, traceId, spanIds: ['root', ...Array.from({ length: CALLS }, (_, i) => `call-${i}`)], body };
    if (!(await this.deliver(sent))) return null;
    const key = `${tenant.tenantId}/${traceId}`;
    this.acknowledged.set(key, sent);
    if (this.random() < this.resendRate) await this.resend(key);
    return key;
  }

  /** Sends an acknowledged trace's identical body again (until acknowledged again). */
  async resend(key: string): Promise<void> {
    const sent = this.acknowledged.get(key);
    if (sent === undefined) throw new Error(`no acknowledged trace ${key}`);
    this.resends++;
    await this.deliver(sent);
  }

  /** The acknowledged trace keys, in the order they were acknowledged. */
  keys(): string[] {
    return [...this.acknowledged.keys()];
  }

  private async deliver(sent: Sent): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const res = await request(`${this.ingestUrl()}/v1/traces`, 'POST', { token: sent.tenant.apiKey, body: sent.body }).catch(() => null);
      if (res !== null && res.status >= 200 && res.status < 300 && (res.body?.partialSuccess?.rejectedSpans ?? 0) === 0) return true;
      this.refusals++;
      if (this.stopping && attempt >= 3) return false;
      await pause(RETRY_MS);
    }
    return false;
  }
}

/** A record appended straight to the raw topic, and what a stage must do with it. */
export interface Poison {
  readonly kind: string;
  readonly record: OutgoingRecord;
}

export interface PlacedPoison extends Poison {
  readonly at: AppendResult;
}

const str = (key: string, value: string): KeyValue => ({ key, value: { type: 'string', value } });

/**
 * Three records no stage can process: bytes that decode to nothing, a well-encoded span
 * whose service name (70,000 characters) is past every key-part limit, and a span under a
 * key that names no tenant. Each carries a fresh id, so its dead letter is found by value
 * on a broker other runs share.
 */
export async function poisonRecords(codecs: Codecs, tenantId: string): Promise<Poison[]> {
  const id = randomBytes(4).toString('hex');
  const [base] = tortureSpans(Date.now() - 60_000);
  const span = { ...base!, tenantId, traceId: `poison-${id}`, receivedAtMs: Date.now() };
  const huge = await spanRecord(codecs, { ...span, resource: { ...span.resource, attributes: [str('service.name', 'S'.repeat(70_000))] } });
  const wellFormed = await spanRecord(codecs, { ...span, traceId: `poison-key-${id}` });
  return [
    {
      kind: 'garbage bytes',
      record: {
        key: traceKey(tenantId, `poison-garbage-${id}`),
        value: Buffer.concat([Buffer.from([0xff, 0x00, 0x13, 0x37]), Buffer.from(`not a span ${id}`)]),
        headers: { [HEADER.type]: 'span', [HEADER.spanId]: `garbage-${id}`, [HEADER.root]: '1' },
        timestamp: Date.now(),
      },
    },
    { kind: '70,000-character service.name', record: huge },
    { kind: 'malformed key', record: { ...wellFormed, key: Buffer.from(`no-tenant-in-this-key-${id}`) } },
  ];
}

const header = (record: LogRecord, name: string): string | undefined => {
  const value = record.headers[name];
  return value === undefined ? undefined : String(value);
};

export interface Outcome {
  readonly acknowledged: number;
  readonly visible: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly poisoned: number;
  readonly deadLettered: number;
  /** What each non-zero count is made of, for a failing assertion to show. */
  readonly details: string[];
}

interface TraceView {
  readonly revision: number;
  readonly spanIds: string[];
}

function spanIdsOf(tree: readonly any[]): string[] {
  return tree.flatMap((node) => [node.span_id as string, ...spanIdsOf(node.children ?? [])]);
}

/**
 * Counts what became of the load: each acknowledged span must be in its trace's detail
 * exactly once; each (tenant, trace, revision) must be on tracefold.traces.v1 once, at
 * revision 1 (the content never changes, so any further revision comes from a re-send);
 * each final detection must appear once, under one id per content; each poison record
 * must be on the dead letter with its source and reason.
 */
export async function account(options: {
  readonly apiUrl: () => string;
  readonly driver: LoadDriver;
  readonly poison: readonly PlacedPoison[];
  readonly codecs: Codecs;
  /** Reads a topic to its current end. */
  readonly readTopic: (topic: string) => Promise<LogRecord[]>;
  readonly visibleWithinMs: number;
}): Promise<Outcome> {
  const { driver, codecs } = options;
  const details: string[] = [];
  const views = new Map<string, TraceView>();
  const deadline = Date.now() + options.visibleWithinMs;
  const pending = [...driver.acknowledged];
  const look = async ([key, sent]: [string, Sent]) => {
    const url = () => `${options.apiUrl()}/api/v1/tenants/${sent.tenant.tenantId}/traces/${encodeURIComponent(sent.traceId)}`;
    const view = await waitFor(async () => {
      const res = await request(url(), 'GET', { token: sent.tenant.token });
      if (res.status !== 200) return null;
      const ids = spanIdsOf(res.body.spans);
      return sent.spanIds.every((id) => ids.includes(id)) ? { revision: res.body.revision as number, spanIds: ids } : null;
    }, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 200 });
    if (view !== null) views.set(key, view);
  };
  // A few lookups at a time.
  while (pending.length > 0) await Promise.all(pending.splice(0, 8).map(look));

  let acknowledged = 0;
  let visible = 0;
  let lost = 0;
  let duplicated = 0;
  for (const [key, sent] of driver.acknowledged) {
    const view = views.get(key);
    for (const spanId of sent.spanIds) {
      acknowledged++;
      const copies = view?.spanIds.filter((id) => id === spanId).length ?? 0;
      if (copies === 0) {
        lost++;
        details.push(`lost: ${key} span ${spanId}`);
      } else {
        visible++;
        if (copies > 1) {
          duplicated += copies - 1;
          details.push(`duplicated: ${key} span ${spanId} ${copies} times`);
        }
      }
    }
  }

  const ours = new Set(driver.tenants.map((t) => t.tenantId));
  const traceRecords = (await options.readTopic(TOPICS.traces)).filter((r) => ours.has(r.key?.toString().split('/')[0] ?? ''));
  const perRevision = new Map<string, number>();
  for (const record of traceRecords) {
    const trace = await codecs.trace.decode(record.value!);
    const key = `${trace.tenantId}/${trace.traceId}`;
    if (!driver.acknowledged.has(key)) continue;
    const revisionKey = `${key}#${trace.revision}`;
    perRevision.set(revisionKey, (perRevision.get(revisionKey) ?? 0) + 1);
    if (trace.revision > 1) {
      duplicated++;
      details.push(`duplicated: ${key} revision ${trace.revision} with the same content`);
    }
  }
  for (const [revisionKey, n] of perRevision) {
    if (n > 1) {
      duplicated += n - 1;
      details.push(`duplicated: ${revisionKey} emitted ${n} times on ${TOPICS.traces}`);
    }
  }

  const detectionRecords = (await options.readTopic(TOPICS.detections)).filter((r) => ours.has(r.key?.toString().split('/')[0] ?? ''));
  const idsPerContent = new Map<string, Set<string>>();
  const finalCopies = new Map<string, number>();
  for (const record of detectionRecords) {
    const d = await codecs.detection.decode(record.value!);
    if (d.live || !driver.acknowledged.has(`${d.tenantId}/${d.traceId}`)) continue;
    finalCopies.set(d.id, (finalCopies.get(d.id) ?? 0) + 1);
    const content = `${d.tenantId}/${d.traceId}#${d.revision} ${d.detectionType} ${[...d.affectedSpanIds].sort().join(',')}`;
    idsPerContent.set(content, (idsPerContent.get(content) ?? new Set()).add(d.id));
  }
  for (const [id, n] of finalCopies) {
    if (n > 1) {
      duplicated += n - 1;
      details.push(`duplicated: detection ${id} emitted ${n} times`);
    }
  }
  for (const [content, ids] of idsPerContent) {
    if (ids.size > 1) {
      duplicated += ids.size - 1;
      details.push(`duplicated: ${content} under ${ids.size} detection ids`);
    }
  }
  if (finalCopies.size === 0) details.push('no final detection at all: the looping traces should have produced some');

  let deadLettered = 0;
  if (options.poison.length > 0) {
    const letters = await options.readTopic(TOPICS.deadLetter);
    for (const p of options.poison) {
      const letter = letters.find(
        (r) =>
          r.value !== null &&
          Buffer.compare(r.value, p.record.value!) === 0 &&
          header(r, 'tf-source-topic') === TOPICS.raw &&
          header(r, 'tf-source-partition') === String(p.at.partition) &&
          header(r, 'tf-source-offset') === String(p.at.offset),
      );
      if (letter !== undefined && (header(letter, 'tf-reason') ?? '') !== '') deadLettered++;
      else details.push(`not dead-lettered with its source and reason: ${p.kind} at ${p.at.topic}/${p.at.partition}@${p.at.offset}`);
    }
  }
  return { acknowledged, visible, lost, duplicated, poisoned: options.poison.length, deadLettered, details };
}

/** The suite's one line per scenario. */
export function report(scenario: string, outcome: Outcome, recoveries: readonly { fault: string; seconds: number }[]): string {
  const mean = recoveries.length === 0 ? 0 : recoveries.reduce((a, r) => a + r.seconds, 0) / recoveries.length;
  const each = recoveries.map((r) => `${r.fault} ${r.seconds.toFixed(1)}s`).join(', ');
  return (
    `fault-injection ${scenario}: acknowledged ${outcome.acknowledged}, visible ${outcome.visible}, lost ${outcome.lost}, ` +
    `duplicated ${outcome.duplicated}, poisoned ${outcome.poisoned} → dead-lettered ${outcome.deadLettered}, ` +
    `recovery ${mean.toFixed(1)}s per fault (${each})`
  );
}

/** The seeded generator of one scenario; FAULT_INJECTION_SEED=<seed> replays its schedule. */
export function faultSeed(scenario: string): { seed: number; random: () => number } {
  const seed = Number(process.env.FAULT_INJECTION_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`fault-injection ${scenario}: seed=${seed} (FAULT_INJECTION_SEED=${seed} to repeat the schedule)`);
  return { seed, random: seededRandom(seed) };
}

/** FAULT_INJECTION_WITHOUT=poison,resend leaves those parts out of the load. */
export function without(part: 'poison' | 'resend'): boolean {
  return (process.env.FAULT_INJECTION_WITHOUT ?? '').split(',').includes(part);
}

/** Waits until `traces` more traces have been acknowledged (a fault lands under load). */
export async function waitForProgress(driver: LoadDriver, traces: number, timeoutMs = 60_000): Promise<void> {
  const target = driver.acknowledged.size + traces;
  const reached = await waitFor(async () => (driver.acknowledged.size >= target ? true : null), { timeoutMs });
  if (reached === null) throw new Error(`the load did not reach ${target} acknowledged traces in ${timeoutMs / 1000} s`);
}

export interface Recovery {
  readonly fault: string;
  readonly seconds: number;
}

/**
 * Recovery from a fault: from `since` (the killed process restarted, the broker back) to
 * the first new trace visible through the API: a probe trace, sent (and retried) at once,
 * so the time includes one inactivity gap.
 */
export async function measureRecovery(fault: string, since: number, driver: LoadDriver, apiUrl: () => string, timeoutMs = 90_000): Promise<Recovery> {
  const key = await driver.sendTrace('probe');
  if (key === null) throw new Error(`${fault}: the probe trace was never acknowledged`);
  const sent = driver.acknowledged.get(key)!;
  const url = () => `${apiUrl()}/api/v1/tenants/${sent.tenant.tenantId}/traces/${encodeURIComponent(sent.traceId)}`;
  const seen = await waitFor(async () => ((await request(url(), 'GET', { token: sent.tenant.token })).status === 200 ? true : null), { timeoutMs, intervalMs: 100 });
  if (seen === null) throw new Error(`${fault}: the probe trace ${key} was not visible within ${timeoutMs / 1000} s`);
  return { fault, seconds: (Date.now() - since) / 1000 };
}

/**
 * Re-sends acknowledged traces whose windows have closed (what an exporter does when its
 * answer was lost for longer than the inactivity gap), then waits until a probe sent after
 * them is visible, so that whatever the re-sends would cause has been emitted.
 */
export async function lateResends(driver: LoadDriver, apiUrl: () => string, random: () => number, count = 5): Promise<void> {
  if (without('resend')) return;
  const keys = driver.keys().filter((k) => !k.includes('/probe-'));
  for (let i = 0; i < count && keys.length > 0; i++) {
    const key = keys.splice(Math.floor(random() * keys.length), 1)[0]!;
    const sent = driver.acknowledged.get(key)!;
    const url = `${apiUrl()}/api/v1/tenants/${sent.tenant.tenantId}/traces/${encodeURIComponent(sent.traceId)}`;
    const closed = await waitFor(async () => ((await request(url, 'GET', { token: sent.tenant.token })).status === 200 ? true : null), { timeoutMs: 60_000, intervalMs: 200 });
    if (closed === null) throw new Error(`${key} never became visible, so it cannot be re-sent after its close`);
    await driver.resend(key);
  }
  await measureRecovery('late re-sends', Date.now(), driver, apiUrl);
}

/** A side client of a Kafka cluster: appends poison to the raw topic, reads output topics. */
export async function kafkaSideClient(brokers: readonly string[]): Promise<{ log: KafkaLog; readTopic: (topic: string) => Promise<LogRecord[]>; close: () => Promise<void> }> {
  const dir = await tempDir('faults-side');
  const log = await createKafkaLog({
    brokers,
    clientId: 'tracefold-fault-injection',
    dataDir: dir,
    instanceId: `faults-${randomBytes(3).toString('hex')}`,
    consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 250 },
  });
  return {
    log,
    readTopic: (topic) => readRecords(log, topic),
    close: async () => {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Appends the poison records one by one and says where each landed. */
export async function appendPoison(log: Log, poison: readonly Poison[]): Promise<PlacedPoison[]> {
  const placed: PlacedPoison[] = [];
  for (const p of poison) {
    const [at] = await log.append(TOPICS.raw, [p.record]);
    placed.push({ ...p, at: at! });
  }
  return placed;
}
