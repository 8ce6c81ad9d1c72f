import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/audit/canonical-json.js';
import { GENESIS_HASH, auditRecordFor, auditRecordForJson, sha256Hex, verifyAuditChain } from '../../../src/audit/chain.js';
import type { AuditRecord } from '../../../src/model/tenant-records.js';
import { T0, buildChain } from './fixtures.js';

describe('auditRecordFor', () => {
  it('builds the first record on genesis with the documented formulas', () => {
    const record = auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'acme', atMs: T0, payload: { z: 1, a: 'é' } });
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(record.seq).toBe(1);
    expect(record.prevHash).toBe(GENESIS_HASH);
    expect(record.payloadJson).toBe('{"a":"é","z":1}');
    expect(record.payloadDigest).toBe(sha256Hex('{"a":"é","z":1}'));
    const linked = `{"atMs":${T0},"payloadDigest":"${record.payloadDigest}","prevHash":"${GENESIS_HASH}","seq":1,"subjectId":"acme","tenantId":"acme","type":"tenant_created"}`;
    expect(record.hash).toBe(sha256Hex(GENESIS_HASH + linked));
  });

  it('hashes UTF-8 bytes as lowercase hex', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('é')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex'));
  });

  it('continues from a head and rejects what has no single form', () => {
    const first = auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'acme', atMs: T0, payload: {} });
    const second = auditRecordFor({ seq: 1, hash: first.hash }, { tenantId: 'acme', type: 'api_key_created', subjectId: 'k', atMs: T0 + 1, payload: [] });
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(() => auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'x', atMs: T0, payload: { n: 1n } })).toThrow('$.n');
    expect(() => auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'x', atMs: 1.5, payload: {} })).toThrow('atMs');
    expect(() => auditRecordForJson(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'x', atMs: T0, payloadJson: '{"b":1,"a":2}' })).toThrow('not canonical');
    expect(auditRecordForJson(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'x', atMs: T0, payloadJson: '{"a":2,"b":1}' }).payloadJson).toBe('{"a":2,"b":1}');
  });
});

/** The chain with record `index` replaced by `change(record)`. */
function edited(records: readonly AuditRecord[], index: number, change: (r: AuditRecord) => AuditRecord): AuditRecord[] {
  return records.map((r, i) => (i === index ? change(r) : r));
}

describe('verifyAuditChain', () => {
  const chain = buildChain();

  it('accepts an intact chain and reports its head', () => {
    const result = verifyAuditChain(chain);
    expect(result).toEqual({ ok: true, checked: 9, head: { seq: 9, hash: chain[8]!.hash }, firstBroken: null });
    expect(verifyAuditChain([])).toEqual({ ok: true, checked: 0, head: null, firstBroken: null });
  });

  it('catches an edited field of a record (atMs) as a hash mismatch at that record', () => {
    const result = verifyAuditChain(edited(chain, 3, (r) => ({ ...r, atMs: r.atMs + 1 })));
    expect(result.ok).toBe(false);
    expect(result.checked).toBe(3);
    expect(result.head).toEqual({ seq: 3, hash: chain[2]!.hash });
    expect(result.firstBroken).toMatchObject({ seq: 4, index: 3 });
    expect(result.firstBroken!.reason).toMatch(/^hash mismatch: /);
  });

  it('catches an edited payload whose digest was left alone', () => {
    const result = verifyAuditChain(edited(chain, 2, (r) => ({ ...r, payloadJson: r.payloadJson.replace('gpt-4o', 'gpt-4o-mini') })));
    expect(result.firstBroken).toMatchObject({ seq: 3, index: 2 });
    expect(result.firstBroken!.reason).toMatch(/^payload digest mismatch: /);
  });

  it('catches an edited payload whose digest and hash were recomputed, at the next link', () => {
    const forged = auditRecordFor({ seq: 2, hash: chain[1]!.hash }, { tenantId: 'acme', type: 'trace_closed', subjectId: 'trace-1', atMs: chain[2]!.atMs, payload: { forged: true } });
    const result = verifyAuditChain(edited(chain, 2, () => forged));
    expect(result.firstBroken).toMatchObject({ seq: 4, index: 3 });
    expect(result.firstBroken!.reason).toMatch(/^prev hash mismatch: .*the hash of seq 3/);
  });

  it('catches a payload that is not canonical even when its digest matches', () => {
    const result = verifyAuditChain(edited(chain, 0, (r) => ({ ...r, payloadJson: '{ "name": "Acme" }', payloadDigest: sha256Hex('{ "name": "Acme" }') })));
    expect(result.firstBroken).toMatchObject({ seq: 1, index: 0 });
    expect(result.firstBroken!.reason).toMatch(/^payload not canonical: /);
  });

  it('catches two swapped records as out of order, in list order', () => {
    const swapped = [...chain];
    [swapped[4], swapped[5]] = [swapped[5]!, swapped[4]!];
    const result = verifyAuditChain(swapped);
    expect(result.checked).toBe(4);
    expect(result.firstBroken).toMatchObject({ seq: 6, index: 4 });
    expect(result.firstBroken!.reason).toBe('sequence out of order: expected seq 5, found seq 6 (seq 5 is at index 5)');
  });

  it('catches swapped records that were renumbered as a broken link', () => {
    const swapped = [...chain];
    [swapped[4], swapped[5]] = [{ ...swapped[5]!, seq: 5 }, { ...swapped[4]!, seq: 6 }];
    const result = verifyAuditChain(swapped);
    expect(result.firstBroken).toMatchObject({ seq: 5, index: 4 });
    expect(result.firstBroken!.reason).toMatch(/^prev hash mismatch: /);
  });

  it('catches a deleted record as a gap', () => {
    const result = verifyAuditChain(chain.filter((_, i) => i !== 6));
    expect(result.checked).toBe(6);
    expect(result.firstBroken).toEqual({ seq: 8, index: 6, reason: 'sequence gap: expected seq 7, found seq 8 (seq 7 is missing)' });
    const many = verifyAuditChain(chain.filter((_, i) => i < 2 || i > 4));
    expect(many.firstBroken).toEqual({ seq: 6, index: 2, reason: 'sequence gap: expected seq 3, found seq 6 (seqs 3..5 are missing)' });
  });

  it('catches a repeated record and a missing first record', () => {
    const repeated = [...chain.slice(0, 4), chain[3]!, ...chain.slice(4)];
    expect(verifyAuditChain(repeated).firstBroken).toEqual({ seq: 4, index: 4, reason: 'sequence out of order: seq 4 comes after seq 4 (expected 5)' });
    expect(verifyAuditChain(chain.slice(1)).firstBroken).toMatchObject({ seq: 2, index: 0, reason: expect.stringMatching(/^sequence gap: expected seq 1/) });
  });

  it("catches another tenant's record", () => {
    const other = buildChain().map((r) => ({ ...r, tenantId: 'globex' }));
    const mixed = edited(chain, 5, () => other[5]!);
    expect(verifyAuditChain(mixed).firstBroken).toMatchObject({ seq: 6, index: 5, reason: expect.stringMatching(/^tenant mismatch: record belongs to tenant "globex"/) });
    expect(verifyAuditChain(chain, { tenantId: 'globex' }).firstBroken).toMatchObject({ seq: 1, index: 0, reason: expect.stringMatching(/^tenant mismatch/) });
  });

  it('catches an edited hash, and an edited type', () => {
    const hashEdited = edited(chain, 8, (r) => ({ ...r, hash: 'f'.repeat(64) }));
    expect(verifyAuditChain(hashEdited).firstBroken).toMatchObject({ seq: 9, index: 8, reason: expect.stringMatching(/^hash mismatch/) });
    const typeEdited = edited(chain, 1, (r) => ({ ...r, type: 'api_key_revoked' }));
    expect(verifyAuditChain(typeEdited).firstBroken).toMatchObject({ seq: 2, index: 1, reason: expect.stringMatching(/^hash mismatch/) });
  });

  it('verifies a sub-range from an anchor', () => {
    const tail = chain.slice(4);
    const anchor = { seq: 4, hash: chain[3]!.hash };
    expect(verifyAuditChain(tail, { anchor })).toEqual({ ok: true, checked: 5, head: { seq: 9, hash: chain[8]!.hash }, firstBroken: null });
    // Without the anchor the tail does not start the chain.
    expect(verifyAuditChain(tail).firstBroken).toMatchObject({ index: 0, reason: expect.stringMatching(/^sequence gap: expected seq 1, found seq 5/) });
    // A wrong anchor hash (the tail does not follow the record claimed).
    const wrong = verifyAuditChain(tail, { anchor: { seq: 4, hash: chain[2]!.hash } });
    expect(wrong.firstBroken).toMatchObject({ seq: 5, index: 0, reason: expect.stringMatching(/^prev hash mismatch: .*the anchor's hash \(seq 4\)/) });
    // A wrong anchor seq.
    expect(verifyAuditChain(tail, { anchor: { seq: 3, hash: chain[3]!.hash } }).firstBroken).toMatchObject({ seq: 5, index: 0, reason: expect.stringMatching(/^sequence gap: expected seq 4/) });
    // An empty sub-range verifies and has no head of its own.
    expect(verifyAuditChain([], { anchor })).toEqual({ ok: true, checked: 0, head: null, firstBroken: null });
  });

  it('binds the payload only through its digest, and the digest to the canonical text', () => {
    // Same payload value built in another key order: same record.
    const a = auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'acme', atMs: T0, payload: { a: 1, b: 2 } });
    const b = auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'acme', atMs: T0, payload: { b: 2, a: 1 } });
    expect(a).toEqual(b);
    expect(a.payloadJson).toBe(canonicalJson({ a: 1, b: 2 }));
  });
});
