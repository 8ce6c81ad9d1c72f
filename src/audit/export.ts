/**
 * The `eu-ai-act` audit export (docs/audit.md): a self-contained JSON package of a run of
 * a tenant's audit chain, with every field needed to recompute its digests and links
 * offline, and a summary for an EU AI Act Article 12 (record-keeping) and Article 13
 * (transparency) review. verifyAuditExport trusts nothing in the package: it recomputes
 * the chain from the anchor, then the chain section and the summary from the records.
 */
import { z } from 'zod';
import type { AuditEventType, AuditRecord } from '../model/tenant-records.js';
import { canonicalJson } from './canonical-json.js';
import { AUDIT_EVENT_TYPES, GENESIS_HASH, verifyAuditChain, type AuditVerification, type ChainHead } from './chain.js';

export const EXPORT_FORMAT = 'tracefold-audit-export';
export const EXPORT_VERSION = 1;
export const EXPORT_PROFILES = ['eu-ai-act'] as const;
export type ExportProfile = (typeof EXPORT_PROFILES)[number];

/** What a version 1 package proves and does not; fixed text, checked by the verifier. */
export const EXPORT_NOTES: readonly string[] = [
  'Proves: every included record is unaltered (its payload digest and hash recompute from its fields), and the records form one unbroken run of the tenant chain, in order, directly following chain.anchor and ending at chain.head.',
  'Proves: summary and chain.record_count are derived from the included records exactly; an edited figure fails verification.',
  'Does not prove authenticity on its own: the hashes are unkeyed, so anyone could build a consistent package. Compare chain.head.hash (or chain.anchor.hash) with a value obtained independently, such as `tracefold audit verify` against the running service or an earlier export.',
  'Does not prove completeness beyond chain.head: records after the last included one (at the end of the range or later) are not covered; the chain from genesis up to the anchor is not included and is not verified here.',
  'Does not prove that the recorded events are true, that every event in the system was recorded, or that the times (at_ms) are accurate: they are the times the service recorded.',
];

export interface AuditExportRecord {
  readonly tenant_id: string;
  readonly seq: number;
  readonly type: AuditEventType;
  readonly subject_id: string;
  readonly at_ms: number;
  /** at_ms as ISO-8601 (UTC), for the reader; checked against at_ms. */
  readonly at: string;
  readonly payload_json: string;
  readonly payload_digest: string;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface HumanFeedbackPoint {
  readonly seq: number;
  readonly at: string;
  readonly detection_id: string | null;
  /** The payload's feedbackType (true_positive / false_positive). */
  readonly verdict: string | null;
  readonly comment: string | null;
}

export interface AuditExportSummary {
  /** Times of the first and last included records; null when there are none. */
  readonly period: { readonly first_event_at: string | null; readonly last_event_at: string | null };
  readonly event_counts: Readonly<Record<AuditEventType, number>>;
  /** Sorted, distinct names from trace_closed payloads. */
  readonly models: readonly string[];
  readonly tools: readonly string[];
  readonly agents: readonly string[];
  /** Sorted, distinct categories of data the traces carried (data-categories.ts). */
  readonly data_categories: readonly string[];
  readonly detections: {
    readonly total: number;
    readonly by_type: Readonly<Record<string, number>>;
    readonly by_severity: Readonly<Record<string, number>>;
  };
  readonly human_feedback: readonly HumanFeedbackPoint[];
}

export interface AuditExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  readonly profile: ExportProfile;
  readonly tenant: string;
  /** The requested window, from inclusive, to exclusive; null: unbounded on that side. */
  readonly range: { readonly from: string | null; readonly to: string | null };
  readonly generated_at: string;
  readonly chain: {
    /** The record just before the first included one; seq 0 and GENESIS_HASH when it is the chain's first. */
    readonly anchor: ChainHead;
    /** The last included record; null when the range holds none. */
    readonly head: ChainHead | null;
    readonly record_count: number;
  };
  readonly records: readonly AuditExportRecord[];
  readonly summary: AuditExportSummary;
  readonly notes: readonly string[];
}

export interface BuildExportOptions {
  /** Inclusive lower bound on a record's atMs. */
  readonly fromMs?: number;
  /** Exclusive upper bound on a record's atMs. */
  readonly toMs?: number;
  readonly generatedAtMs: number;
  readonly profile?: ExportProfile;
}

export class AuditExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditExportError';
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

function toExportRecord(r: AuditRecord): AuditExportRecord {
  return {
    tenant_id: r.tenantId,
    seq: r.seq,
    type: r.type,
    subject_id: r.subjectId,
    at_ms: r.atMs,
    at: iso(r.atMs),
    payload_json: r.payloadJson,
    payload_digest: r.payloadDigest,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

/** An exported record back as the chain's record (what verification reads). */
export function fromExportRecord(r: Omit<AuditExportRecord, 'at'>): AuditRecord {
  return {
    tenantId: r.tenant_id,
    seq: r.seq,
    type: r.type,
    subjectId: r.subject_id,
    atMs: r.at_ms,
    payloadJson: r.payload_json,
    payloadDigest: r.payload_digest,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

// ---- summary ----------------------------------------------------------------------------

/** The payload as an object; anything else (a verified record always parses) reads as empty. */
function payloadOf(record: AuditRecord): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(record.payloadJson);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Strings of an array field; payloads that lack it or hold something else contribute nothing. */
function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];
}

const stringOr = <T>(value: unknown, fallback: T): string | T => (typeof value === 'string' ? value : fallback);

/** Keys sorted, so that a summary has one canonical shape to compare. */
function sortedCounts(counts: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...counts.keys()].sort()) out[key] = counts.get(key)!;
  return out;
}

/** The summary the records give; the verifier recomputes it and compares. */
export function summarizeAuditRecords(records: readonly AuditRecord[]): AuditExportSummary {
  const eventCounts = Object.fromEntries(AUDIT_EVENT_TYPES.map((t) => [t, 0])) as Record<AuditEventType, number>;
  const models = new Set<string>();
  const tools = new Set<string>();
  const agents = new Set<string>();
  const categories = new Set<string>();
  const byType = new Map<string, number>();
  const bySeverity = new Map<string, number>();
  let detections = 0;
  const feedback: HumanFeedbackPoint[] = [];
  for (const record of records) {
    if (record.type in eventCounts) eventCounts[record.type]++;
    if (record.type === 'trace_closed') {
      const payload = payloadOf(record);
      for (const m of stringsOf(payload.models)) models.add(m);
      for (const t of stringsOf(payload.tools)) tools.add(t);
      for (const a of stringsOf(payload.agents)) agents.add(a);
      for (const c of stringsOf(payload.dataCategories)) categories.add(c);
    } else if (record.type === 'detection_emitted') {
      const payload = payloadOf(record);
      detections++;
      const type = stringOr(payload.detectionType, 'unknown');
      const severity = stringOr(payload.severity, 'unknown');
      byType.set(type, (byType.get(type) ?? 0) + 1);
      bySeverity.set(severity, (bySeverity.get(severity) ?? 0) + 1);
    } else if (record.type === 'feedback_recorded') {
      const payload = payloadOf(record);
      feedback.push({
        seq: record.seq,
        at: iso(record.atMs),
        detection_id: stringOr(payload.detectionId, null),
        verdict: stringOr(payload.feedbackType, null),
        comment: stringOr(payload.comment, null),
      });
    }
  }
  const first = records[0];
  const last = records.at(-1);
  return {
    period: { first_event_at: first === undefined ? null : iso(first.atMs), last_event_at: last === undefined ? null : iso(last.atMs) },
    event_counts: eventCounts,
    models: [...models].sort(),
    tools: [...tools].sort(),
    agents: [...agents].sort(),
    data_categories: [...categories].sort(),
    detections: { total: detections, by_type: sortedCounts(byType), by_severity: sortedCounts(bySeverity) },
    human_feedback: feedback,
  };
}

// ---- build ------------------------------------------------------------------------------

/**
 * Packages the run of `records` (the tenant's chain, in chain order, from seq 1 or from any
 * later record) that lies in [fromMs, toMs): from the first record at or after fromMs to
 * the last record before toMs. Records between those two are all included even when their
 * own atMs falls outside, because a gap would make the package unverifiable.
 *
 * Throws AuditExportError when `records` do not verify: a package must not vouch for a
 * broken chain. Run verifyAuditChain to investigate one.
 */
export function buildAuditExport(tenantId: string, records: readonly AuditRecord[], options: BuildExportOptions): AuditExport {
  const { fromMs, toMs, generatedAtMs } = options;
  const profile = options.profile ?? 'eu-ai-act';
  if (!EXPORT_PROFILES.includes(profile)) throw new AuditExportError(`unknown export profile ${JSON.stringify(profile)}`);
  for (const [name, ms] of [['fromMs', fromMs], ['toMs', toMs], ['generatedAtMs', generatedAtMs]] as const) {
    if (ms !== undefined && (!Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime()))) throw new AuditExportError(`${name} must be a time in epoch milliseconds, got ${ms}`);
  }
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new AuditExportError(`the range starts (${iso(fromMs)}) after it ends (${iso(toMs)})`);

  // The list may start after genesis (a server handing over a tail): its own first record anchors it.
  const first = records[0];
  const inputAnchor = first === undefined || first.seq === 1 ? undefined : { seq: first.seq - 1, hash: first.prevHash };
  const verified = verifyAuditChain(records, { tenantId, anchor: inputAnchor });
  if (!verified.ok) {
    const broken = verified.firstBroken!;
    throw new AuditExportError(`the audit chain of tenant ${tenantId} is broken at seq ${broken.seq} (index ${broken.index}): ${broken.reason}`);
  }

  const inRange = (r: AuditRecord) => (fromMs === undefined || r.atMs >= fromMs) && (toMs === undefined || r.atMs < toMs);
  const start = records.findIndex(inRange);
  const end = records.findLastIndex(inRange);
  const included = start < 0 ? [] : records.slice(start, end + 1);

  let anchor: ChainHead;
  if (included.length > 0) {
    anchor = { seq: included[0]!.seq - 1, hash: included[0]!.prevHash };
  } else {
    // Nothing in range: anchor at the last record before it, so the package still says where the chain stood.
    const before = fromMs === undefined ? [] : records.filter((r) => r.atMs < fromMs);
    const last = before.at(-1);
    anchor = last !== undefined ? { seq: last.seq, hash: last.hash } : (inputAnchor ?? { seq: 0, hash: GENESIS_HASH });
  }
  const last = included.at(-1);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    profile,
    tenant: tenantId,
    range: { from: fromMs === undefined ? null : iso(fromMs), to: toMs === undefined ? null : iso(toMs) },
    generated_at: iso(generatedAtMs),
    chain: { anchor, head: last === undefined ? null : { seq: last.seq, hash: last.hash }, record_count: included.length },
    records: included.map(toExportRecord),
    summary: summarizeAuditRecords(included),
    notes: [...EXPORT_NOTES],
  };
}

// ---- verify -----------------------------------------------------------------------------

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const seqNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const isoTime = z.string().refine((s) => {
  const ms = Date.parse(s);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === s;
}, 'must be an ISO-8601 UTC time as Date.toISOString writes it');
const headSchema = z.strictObject({ seq: seqNumber, hash: hex64 });
const counts = z.record(z.string(), z.number().int().min(0));

const recordSchema = z.strictObject({
  tenant_id: z.string(),
  seq: seqNumber.min(1),
  type: z.enum(AUDIT_EVENT_TYPES as [AuditEventType, ...AuditEventType[]]),
  subject_id: z.string(),
  at_ms: z.number().int().min(-8.64e15).max(8.64e15),
  at: isoTime,
  payload_json: z.string(),
  payload_digest: hex64,
  prev_hash: hex64,
  hash: hex64,
});

const exportSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  profile: z.enum(EXPORT_PROFILES),
  tenant: z.string().min(1),
  range: z.strictObject({ from: isoTime.nullable(), to: isoTime.nullable() }),
  generated_at: isoTime,
  chain: z.strictObject({ anchor: headSchema, head: headSchema.nullable(), record_count: z.number().int().min(0) }),
  records: z.array(recordSchema),
  summary: z.strictObject({
    period: z.strictObject({ first_event_at: isoTime.nullable(), last_event_at: isoTime.nullable() }),
    event_counts: counts,
    models: z.array(z.string()),
    tools: z.array(z.string()),
    agents: z.array(z.string()),
    // Absent in packages made before the summary listed data categories.
    data_categories: z.array(z.string()).optional(),
    detections: z.strictObject({ total: z.number().int().min(0), by_type: counts, by_severity: counts }),
    human_feedback: z.array(
      z.strictObject({
        seq: seqNumber,
        at: isoTime,
        detection_id: z.string().nullable(),
        verdict: z.string().nullable(),
        comment: z.string().nullable(),
      }),
    ),
  }),
  notes: z.array(z.string()),
});

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out === '' ? '(package)' : out;
}

/** The first path at which two JSON values differ, with both values; null when equal. */
function firstDifference(expected: unknown, actual: unknown, path: string): string | null {
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null && Array.isArray(expected) === Array.isArray(actual)) {
    if (Array.isArray(expected) && Array.isArray(actual)) {
      const n = Math.max(expected.length, actual.length);
      for (let i = 0; i < n; i++) {
        if (i >= expected.length) return `${path}[${i}] is extra (the records give ${expected.length} entries)`;
        if (i >= actual.length) return `${path}[${i}] is missing (the records give ${expected.length} entries)`;
        const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
        if (d !== null) return d;
      }
      return null;
    }
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(e), ...Object.keys(a)])].sort()) {
      const d = firstDifference(e[key], a[key], `${path}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  const show = (v: unknown, absent: string) => (v === undefined ? absent : canonicalJson(v));
  if (show(expected, '') === show(actual, '') && (expected === undefined) === (actual === undefined)) return null;
  return `${path} is ${show(actual, 'absent')}, the records give ${show(expected, 'no such entry')}`;
}

export interface VerifyExportOptions {
  /** The tenant the package must be of (e.g. the one a reviewer asked for). */
  readonly tenantId?: string;
}

const packageProblem = (reason: string, checked = 0, head: ChainHead | null = null): AuditVerification => ({
  ok: false,
  checked,
  head,
  firstBroken: { seq: -1, index: -1, reason },
});

/**
 * Verifies a parsed export package: its shape (reason: the field path), every record's
 * digest, hash and link from chain.anchor, the records' times against `at` and the range,
 * then chain.head, chain.record_count, the summary and the notes against what the records
 * give. firstBroken names a record (seq and index) when one is at fault, and seq -1,
 * index -1 when the problem lies in the package around the records.
 */
export function verifyAuditExport(pkg: unknown, options: VerifyExportOptions = {}): AuditVerification {
  const parsed = exportSchema.safeParse(pkg);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [top, index] = issue.path;
    const reason = `invalid package: ${pathOf(issue.path)}: ${issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message}`;
    if (top === 'records' && typeof index === 'number') {
      const seq: unknown = (pkg as { records: { seq?: unknown }[] }).records[index]?.seq;
      return { ok: false, checked: 0, head: null, firstBroken: { seq: typeof seq === 'number' ? seq : -1, index, reason } };
    }
    return packageProblem(reason);
  }
  const p = parsed.data;
  if (options.tenantId !== undefined && p.tenant !== options.tenantId) {
    return packageProblem(`tenant mismatch: the package is of tenant ${JSON.stringify(p.tenant)}, expected ${JSON.stringify(options.tenantId)}`);
  }

  const records = p.records.map(fromExportRecord);
  const chain = verifyAuditChain(records, { anchor: p.chain.anchor, tenantId: p.tenant });
  if (!chain.ok) return chain;
  const { checked, head } = chain;

  const fromMs = p.range.from === null ? null : Date.parse(p.range.from);
  const toMs = p.range.to === null ? null : Date.parse(p.range.to);
  if (fromMs !== null && toMs !== null && fromMs > toMs) return packageProblem('range: from is after to', checked, head);
  for (const [index, r] of p.records.entries()) {
    // `at` is outside the hash: without this check it could be edited freely.
    if (r.at !== new Date(r.at_ms).toISOString()) return { ok: false, checked, head, firstBroken: { seq: r.seq, index, reason: `records[${index}].at is ${r.at}, at_ms gives ${new Date(r.at_ms).toISOString()}` } };
  }
  const firstRecord = p.records[0];
  const lastRecord = p.records.at(-1);
  if (firstRecord !== undefined && fromMs !== null && firstRecord.at_ms < fromMs) {
    return { ok: false, checked, head, firstBroken: { seq: firstRecord.seq, index: 0, reason: `out of range: the first record (at ${firstRecord.at}) precedes range.from (${p.range.from})` } };
  }
  if (lastRecord !== undefined && toMs !== null && lastRecord.at_ms >= toMs) {
    const index = p.records.length - 1;
    return { ok: false, checked, head, firstBroken: { seq: lastRecord.seq, index, reason: `out of range: the last record (at ${lastRecord.at}) is not before range.to (${p.range.to})` } };
  }

  if (p.chain.record_count !== records.length) return packageProblem(`chain.record_count is ${p.chain.record_count}, the package holds ${records.length} records`, checked, head);
  const headDiff = firstDifference(head, p.chain.head, 'chain.head');
  if (headDiff !== null) return packageProblem(headDiff, checked, head);
  const expected = summarizeAuditRecords(records);
  // Packages made before an event type existed do not count it: a zero they leave out is no difference.
  const counted = Object.fromEntries(Object.entries(expected.event_counts).filter(([type, n]) => n !== 0 || type in p.summary.event_counts));
  const { data_categories: categories, ...rest } = expected;
  const listed = p.summary.data_categories === undefined && categories.length === 0 ? rest : { ...rest, data_categories: categories };
  const summaryDiff = firstDifference({ ...listed, event_counts: counted }, p.summary, 'summary');
  if (summaryDiff !== null) return packageProblem(`summary does not match the records: ${summaryDiff}`, checked, head);
  const notesDiff = firstDifference(EXPORT_NOTES, p.notes, 'notes');
  if (notesDiff !== null) return packageProblem(`notes differ from the standard text of version ${EXPORT_VERSION}: ${notesDiff.replace('the records give', 'the standard text is')}`, checked, head);
  return chain;
}
