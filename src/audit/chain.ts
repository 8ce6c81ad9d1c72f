/**
 * A tenant's tamper-evident audit chain (docs/audit.md): how a
 * record is linked to the one before it, and how a run of records is verified.
 *
 *   payloadDigest = SHA-256(payloadJson)                       payloadJson: RFC 8785 text
 *   hash          = SHA-256(prevHash ‖ canonicalJson({ tenantId, seq, type, subjectId,
 *                                                       atMs, payloadDigest, prevHash }))
 *
 * Digests are lowercase hex of SHA-256 over the UTF-8 bytes. Sequence numbers start at 1
 * with no gaps; the first record's prevHash is GENESIS_HASH. Everything here is pure.
 */
import { createHash } from 'node:crypto';
import type { AuditEventType, AuditRecord } from '../model/tenant-records.js';
import { CanonicalJsonError, canonicalJson, isCanonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

/** Every type, checked by the compiler to be complete. */
const EVENT_TYPES: Record<AuditEventType, true> = {
  tenant_created: true,
  api_key_created: true,
  api_key_revoked: true,
  trace_closed: true,
  detection_emitted: true,
  feedback_recorded: true,
  settings_changed: true,
  replay_promoted: true,
  replay_rolled_back: true,
};
export const AUDIT_EVENT_TYPES = Object.keys(EVENT_TYPES) as readonly AuditEventType[];

/** The last record of a chain (or of the part of it that precedes a sub-range). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditEventInput {
  readonly tenantId: string;
  readonly type: AuditEventType;
  readonly subjectId: string;
  readonly atMs: number;
  readonly payload: unknown;
}

export interface BrokenLink {
  /** The seq the broken record carries (-1 when the problem is not one record's). */
  readonly seq: number;
  /** Its position in the list verified (-1 when the problem is not one record's). */
  readonly index: number;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Records verified before the first broken one (all of them when ok). */
  readonly checked: number;
  /** The last verified record; null when none was. */
  readonly head: ChainHead | null;
  readonly firstBroken: BrokenLink | null;
}

export interface VerifyOptions {
  /**
   * The record just before the first one given, for verifying a sub-range: the first
   * record must then carry seq anchor.seq + 1 and prevHash anchor.hash. Default: genesis
   * ({ seq: 0, hash: GENESIS_HASH }).
   */
  readonly anchor?: ChainHead;
  /** Every record must belong to this tenant; by default, to the first record's. */
  readonly tenantId?: string;
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The hash of a record from its linked fields; payloadJson enters only through payloadDigest. */
export function auditRecordHash(fields: Omit<AuditRecord, 'hash' | 'payloadJson'>): string {
  const { tenantId, seq, type, subjectId, atMs, payloadDigest, prevHash } = fields;
  return sha256Hex(prevHash + canonicalJson({ tenantId, seq, type, subjectId, atMs, payloadDigest, prevHash }));
}

function checkEventFields(tenantId: string, subjectId: string, atMs: number, type: AuditEventType): void {
  if (tenantId === '') throw new Error('audit record: tenantId must not be empty');
  if (typeof subjectId !== 'string') throw new Error('audit record: subjectId must be a string');
  // Times are Avro longs and hashed as JSON numbers: only integers have one form in both.
  if (!Number.isSafeInteger(atMs)) throw new Error(`audit record: atMs must be a safe integer, got ${atMs}`);
  if (!AUDIT_EVENT_TYPES.includes(type)) throw new Error(`audit record: unknown type ${JSON.stringify(type)}`);
}

/**
 * The record that follows `head` (null: the chain is empty) for an event whose payload is
 * already canonical JSON, as TenantStageEvent carries it. Throws when it is not canonical,
 * because its digest would then not be reproducible from the payload.
 */
export function auditRecordForJson(
  head: ChainHead | null,
  event: { readonly tenantId: string; readonly type: AuditEventType; readonly subjectId: string; readonly atMs: number; readonly payloadJson: string },
): AuditRecord {
  const { tenantId, type, subjectId, atMs, payloadJson } = event;
  checkEventFields(tenantId, subjectId, atMs, type);
  if (!isCanonicalJson(payloadJson)) throw new CanonicalJsonError('payloadJson', `the payload of ${type} ${subjectId} is not canonical JSON (RFC 8785)`);
  if (head !== null && (!Number.isSafeInteger(head.seq) || head.seq < 1)) throw new Error(`audit record: head seq must be a positive integer, got ${head.seq}`);
  const seq = head === null ? 1 : head.seq + 1;
  const prevHash = head === null ? GENESIS_HASH : head.hash;
  const payloadDigest = sha256Hex(payloadJson);
  const hash = auditRecordHash({ tenantId, seq, type, subjectId, atMs, payloadDigest, prevHash });
  return { tenantId, seq, type, subjectId, atMs, payloadJson, payloadDigest, prevHash, hash };
}

/** The record that follows `head` (null: the chain is empty) for an event and its payload value. */
export function auditRecordFor(head: ChainHead | null, event: AuditEventInput): AuditRecord {
  const { payload, ...rest } = event;
  return auditRecordForJson(head, { ...rest, payloadJson: canonicalJson(payload) });
}

function describePrev(anchor: ChainHead | null, index: number, expectedSeq: number): string {
  if (index > 0) return `the hash of seq ${expectedSeq - 1}`;
  if (anchor === null) return 'the genesis hash';
  return `the anchor's hash (seq ${anchor.seq})`;
}

function short(hash: unknown): string {
  return typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? `${hash.slice(0, 12)}…` : JSON.stringify(hash);
}

/** Why `record` (at `index`) does not continue the chain, or null when it does. */
function brokenReason(
  records: readonly AuditRecord[],
  index: number,
  tenantId: string,
  expectedSeq: number,
  expectedPrev: string,
  anchor: ChainHead | null,
): string | null {
  const record = records[index]!;
  if (record.tenantId !== tenantId) return `tenant mismatch: record belongs to tenant ${JSON.stringify(record.tenantId)}, the chain to ${JSON.stringify(tenantId)}`;
  if (record.seq !== expectedSeq) {
    if (!Number.isSafeInteger(record.seq)) return `sequence out of order: seq ${record.seq} is not an integer (expected ${expectedSeq})`;
    if (record.seq < expectedSeq) return `sequence out of order: seq ${record.seq} comes after seq ${expectedSeq - 1} (expected ${expectedSeq})`;
    // A higher seq is a reorder when the expected record comes later in the list, a gap otherwise.
    const later = records.findIndex((r, i) => i > index && r.seq === expectedSeq);
    return later >= 0
      ? `sequence out of order: expected seq ${expectedSeq}, found seq ${record.seq} (seq ${expectedSeq} is at index ${later})`
      : `sequence gap: expected seq ${expectedSeq}, found seq ${record.seq} (${record.seq - expectedSeq === 1 ? `seq ${expectedSeq} is` : `seqs ${expectedSeq}..${record.seq - 1} are`} missing)`;
  }
  if (typeof record.payloadJson !== 'string') return 'payload digest mismatch: payloadJson is not a string';
  const digest = sha256Hex(record.payloadJson);
  if (digest !== record.payloadDigest) return `payload digest mismatch: payloadJson hashes to ${short(digest)}, the record says ${short(record.payloadDigest)}`;
  if (!isCanonicalJson(record.payloadJson)) return 'payload not canonical: payloadJson is not RFC 8785 canonical JSON, so its digest is not reproducible from the payload';
  if (record.prevHash !== expectedPrev) {
    return `prev hash mismatch: the record links to ${short(record.prevHash)}, ${describePrev(anchor, index, expectedSeq)} is ${short(expectedPrev)}`;
  }
  if (!AUDIT_EVENT_TYPES.includes(record.type)) return `hash mismatch: unknown type ${JSON.stringify(record.type)}`;
  let hash: string;
  try {
    hash = auditRecordHash(record);
  } catch (err) {
    return `hash mismatch: the record's fields cannot be hashed (${err instanceof Error ? err.message : String(err)})`;
  }
  if (hash !== record.hash) return `hash mismatch: the record's fields hash to ${short(hash)}, the record says ${short(record.hash)}`;
  return null;
}

/**
 * Verifies `records` in the order given (so a reordering is caught, not repaired): every
 * payload digest and its canonical form, every link and hash, tenant and seq continuity
 * from genesis or from `options.anchor`. Stops at the first broken record and names it.
 */
export function verifyAuditChain(records: readonly AuditRecord[], options: VerifyOptions = {}): AuditVerification {
  const anchor = options.anchor ?? null;
  const tenantId = options.tenantId ?? records[0]?.tenantId ?? '';
  let expectedSeq = (anchor?.seq ?? 0) + 1;
  let expectedPrev = anchor?.hash ?? GENESIS_HASH;
  let head: ChainHead | null = null;
  for (let index = 0; index < records.length; index++) {
    const reason = brokenReason(records, index, tenantId, expectedSeq, expectedPrev, anchor);
    const record = records[index]!;
    if (reason !== null) return { ok: false, checked: index, head, firstBroken: { seq: record.seq, index, reason } };
    head = { seq: record.seq, hash: record.hash };
    expectedSeq++;
    expectedPrev = record.hash;
  }
  return { ok: true, checked: records.length, head, firstBroken: null };
}
