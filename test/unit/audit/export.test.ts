import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, auditRecordFor, sha256Hex } from '../../../src/audit/chain.js';
import { AuditExportError, EXPORT_NOTES, buildAuditExport, verifyAuditExport, type AuditExport } from '../../../src/audit/export.js';
import { MINUTE, T0, buildChain } from './fixtures.js';

const GENERATED = T0 + 24 * 60 * MINUTE;
const chain = buildChain();

/** A deep, mutable copy, as a reviewer (or an attacker) would load the file. */
const reload = (pkg: AuditExport): any => JSON.parse(JSON.stringify(pkg));

describe('buildAuditExport', () => {
  it('packages the whole chain with its summary', () => {
    const pkg = buildAuditExport('acme', chain, { generatedAtMs: GENERATED });
    expect(pkg).toMatchObject({
      format: 'tracefold-audit-export',
      version: 1,
      profile: 'eu-ai-act',
      tenant: 'acme',
      range: { from: null, to: null },
      generated_at: new Date(GENERATED).toISOString(),
      chain: { anchor: { seq: 0, hash: GENESIS_HASH }, head: { seq: 9, hash: chain[8]!.hash }, record_count: 9 },
    });
    expect(pkg.records[2]).toEqual({
      tenant_id: 'acme',
      seq: 3,
      type: 'trace_closed',
      subject_id: 'trace-1',
      at_ms: T0 + 2 * MINUTE,
      at: '2025-06-01T12:02:00.000Z',
      payload_json: chain[2]!.payloadJson,
      payload_digest: chain[2]!.payloadDigest,
      prev_hash: chain[1]!.hash,
      hash: chain[2]!.hash,
    });
    expect(pkg.summary).toEqual({
      period: { first_event_at: '2025-06-01T12:00:00.000Z', last_event_at: '2025-06-01T12:08:00.000Z' },
      event_counts: { tenant_created: 1, api_key_created: 1, api_key_revoked: 1, trace_closed: 2, detection_emitted: 2, feedback_recorded: 2, settings_changed: 0, replay_promoted: 0, replay_rolled_back: 0 },
      models: ['claude-sonnet', 'gpt-4o'],
      tools: ['search'],
      agents: ['planner'],
      data_categories: [],
      detections: { total: 2, by_type: { loop: 1, retry_storm: 1 }, by_severity: { high: 1, medium: 1 } },
      human_feedback: [
        { seq: 7, at: '2025-06-01T12:06:00.000Z', detection_id: 'det-1', verdict: 'true_positive', comment: 'confirmed: agent looped on search' },
        { seq: 8, at: '2025-06-01T12:07:00.000Z', detection_id: 'det-2', verdict: 'false_positive', comment: null },
      ],
    });
    expect(pkg.notes).toEqual(EXPORT_NOTES);
  });

  it('exports a time range anchored on the record before it', () => {
    const pkg = buildAuditExport('acme', chain, { fromMs: T0 + 3 * MINUTE, toMs: T0 + 7 * MINUTE, generatedAtMs: GENERATED });
    expect(pkg.records.map((r) => r.seq)).toEqual([4, 5, 6, 7]);
    expect(pkg.range).toEqual({ from: '2025-06-01T12:03:00.000Z', to: '2025-06-01T12:07:00.000Z' });
    expect(pkg.chain).toEqual({ anchor: { seq: 3, hash: chain[2]!.hash }, head: { seq: 7, hash: chain[6]!.hash }, record_count: 4 });
    expect(pkg.summary.event_counts.trace_closed).toBe(1);
    expect(verifyAuditExport(reload(pkg))).toEqual({ ok: true, checked: 4, head: { seq: 7, hash: chain[6]!.hash }, firstBroken: null });
  });

  it('keeps the run contiguous when times inside it are out of order', () => {
    const events = [
      { tenantId: 'acme', type: 'tenant_created' as const, subjectId: 'acme', atMs: T0, payload: {} },
      { tenantId: 'acme', type: 'trace_closed' as const, subjectId: 't1', atMs: T0 + 10 * MINUTE, payload: {} },
      // Recorded later than the one above but stamped earlier than the range.
      { tenantId: 'acme', type: 'detection_emitted' as const, subjectId: 'd1', atMs: T0, payload: {} },
      { tenantId: 'acme', type: 'trace_closed' as const, subjectId: 't2', atMs: T0 + 11 * MINUTE, payload: {} },
    ];
    const pkg = buildAuditExport('acme', buildChain(events), { fromMs: T0 + 5 * MINUTE, generatedAtMs: GENERATED });
    expect(pkg.records.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(verifyAuditExport(reload(pkg)).ok).toBe(true);
  });

  it('lists the data categories the closed traces carried, and verifies packages made before it did', () => {
    const events = [
      { tenantId: 'acme', type: 'tenant_created' as const, subjectId: 'acme', atMs: T0, payload: {} },
      { tenantId: 'acme', type: 'trace_closed' as const, subjectId: 't1', atMs: T0 + MINUTE, payload: { dataCategories: ['tool_arguments', 'prompts'] } },
      { tenantId: 'acme', type: 'trace_closed' as const, subjectId: 't2', atMs: T0 + 2 * MINUTE, payload: { dataCategories: ['completions', 'prompts', 7] } },
    ];
    const pkg = buildAuditExport('acme', buildChain(events), { generatedAtMs: GENERATED });
    expect(pkg.summary.data_categories).toEqual(['completions', 'prompts', 'tool_arguments']);
    expect(verifyAuditExport(reload(pkg)).ok).toBe(true);
    const edited = reload(pkg);
    edited.summary.data_categories = ['completions', 'tool_arguments'];
    expect(verifyAuditExport(edited).firstBroken?.reason).toContain('summary.data_categories');
    const dropped = reload(pkg);
    delete dropped.summary.data_categories;
    expect(verifyAuditExport(dropped).firstBroken?.reason).toContain('summary.data_categories is absent');
    // A package without the field, from records that list no categories, still verifies.
    const older = reload(buildAuditExport('acme', chain, { generatedAtMs: GENERATED }));
    delete older.summary.data_categories;
    expect(verifyAuditExport(older).ok).toBe(true);
  });

  it('packages an empty range with the anchor where the chain stood', () => {
    const pkg = buildAuditExport('acme', chain, { fromMs: T0 + 60 * MINUTE, generatedAtMs: GENERATED });
    expect(pkg.chain).toEqual({ anchor: { seq: 9, hash: chain[8]!.hash }, head: null, record_count: 0 });
    expect(pkg.summary.period).toEqual({ first_event_at: null, last_event_at: null });
    expect(verifyAuditExport(reload(pkg))).toEqual({ ok: true, checked: 0, head: null, firstBroken: null });
  });

  it('accepts a tail of the chain and refuses a broken one', () => {
    const pkg = buildAuditExport('acme', chain.slice(5), { generatedAtMs: GENERATED });
    expect(pkg.chain.anchor).toEqual({ seq: 5, hash: chain[4]!.hash });
    expect(verifyAuditExport(reload(pkg)).ok).toBe(true);
    const broken = chain.map((r, i) => (i === 2 ? { ...r, atMs: r.atMs + 1 } : r));
    expect(() => buildAuditExport('acme', broken, { generatedAtMs: GENERATED })).toThrow(AuditExportError);
    expect(() => buildAuditExport('acme', broken, { generatedAtMs: GENERATED })).toThrow('broken at seq 3 (index 2): hash mismatch');
    expect(() => buildAuditExport('globex', chain, { generatedAtMs: GENERATED })).toThrow('tenant mismatch');
    expect(() => buildAuditExport('acme', chain, { fromMs: T0 + 1, toMs: T0, generatedAtMs: GENERATED })).toThrow('starts');
  });
});

describe('verifyAuditExport', () => {
  const pkg = buildAuditExport('acme', chain, { generatedAtMs: GENERATED });

  it('verifies a package after a JSON round trip', () => {
    const text = JSON.stringify(pkg, null, 2);
    expect(verifyAuditExport(JSON.parse(text))).toEqual({ ok: true, checked: 9, head: { seq: 9, hash: chain[8]!.hash }, firstBroken: null });
    expect(verifyAuditExport(JSON.parse(text), { tenantId: 'acme' }).ok).toBe(true);
    expect(verifyAuditExport(JSON.parse(text), { tenantId: 'globex' }).firstBroken!.reason).toMatch(/^tenant mismatch/);
  });

  it('catches an edited record field', () => {
    const edited = reload(pkg);
    edited.records[4].subject_id = 'trace-99';
    expect(verifyAuditExport(edited)).toMatchObject({ ok: false, checked: 4, firstBroken: { seq: 5, index: 4, reason: expect.stringMatching(/^hash mismatch/) } });
  });

  it('catches an edited payload', () => {
    const edited = reload(pkg);
    edited.records[3].payload_json = edited.records[3].payload_json.replace('"high"', '"low"');
    expect(verifyAuditExport(edited).firstBroken).toMatchObject({ seq: 4, index: 3, reason: expect.stringMatching(/^payload digest mismatch/) });
  });

  it('catches a removed record and swapped records', () => {
    const removed = reload(pkg);
    removed.records.splice(6, 1);
    expect(verifyAuditExport(removed).firstBroken).toMatchObject({ seq: 8, index: 6, reason: expect.stringMatching(/^sequence gap/) });
    const swapped = reload(pkg);
    [swapped.records[1], swapped.records[2]] = [swapped.records[2], swapped.records[1]];
    expect(verifyAuditExport(swapped).firstBroken).toMatchObject({ seq: 3, index: 1, reason: expect.stringMatching(/^sequence out of order/) });
  });

  it('catches an edited summary', () => {
    const counts = reload(pkg);
    counts.summary.detections.by_severity.high = 0;
    expect(verifyAuditExport(counts)).toMatchObject({
      ok: false,
      checked: 9,
      firstBroken: { seq: -1, index: -1, reason: 'summary does not match the records: summary.detections.by_severity.high is 0, the records give 1' },
    });
    const feedback = reload(pkg);
    feedback.summary.human_feedback[0].verdict = 'false_positive';
    expect(verifyAuditExport(feedback).firstBroken!.reason).toBe(
      'summary does not match the records: summary.human_feedback[0].verdict is "false_positive", the records give "true_positive"',
    );
    const dropped = reload(pkg);
    dropped.summary.models.pop();
    expect(verifyAuditExport(dropped).firstBroken!.reason).toBe('summary does not match the records: summary.models[1] is missing (the records give 2 entries)');
    const added = reload(pkg);
    added.summary.detections.by_type.hallucinated_tool = 1;
    expect(verifyAuditExport(added).firstBroken!.reason).toBe(
      'summary does not match the records: summary.detections.by_type.hallucinated_tool is 1, the records give no such entry',
    );
  });

  it('catches an edited chain section, record time or note', () => {
    const head = reload(pkg);
    head.chain.head.hash = chain[7]!.hash;
    expect(verifyAuditExport(head).firstBroken!.reason).toMatch(/^chain\.head\.hash is /);
    const count = reload(pkg);
    count.chain.record_count = 10;
    expect(verifyAuditExport(count).firstBroken!.reason).toBe('chain.record_count is 10, the package holds 9 records');
    const anchor = reload(pkg);
    anchor.chain.anchor = { seq: 0, hash: 'a'.repeat(64) };
    expect(verifyAuditExport(anchor).firstBroken).toMatchObject({ seq: 1, index: 0, reason: expect.stringMatching(/^prev hash mismatch/) });
    const at = reload(pkg);
    at.records[2].at = '2020-01-01T00:00:00.000Z';
    expect(verifyAuditExport(at).firstBroken).toMatchObject({ seq: 3, index: 2, reason: expect.stringMatching(/^records\[2\]\.at is /) });
    const notes = reload(pkg);
    notes.notes[2] = 'Proves authenticity.';
    expect(verifyAuditExport(notes).firstBroken!.reason).toMatch(/^notes differ from the standard text of version 1: notes\[2\] is /);
  });

  it('catches records outside the stated range', () => {
    const ranged = reload(buildAuditExport('acme', chain, { fromMs: T0 + 3 * MINUTE, toMs: T0 + 7 * MINUTE, generatedAtMs: GENERATED }));
    ranged.range.from = new Date(T0 + 4 * MINUTE).toISOString();
    expect(verifyAuditExport(ranged).firstBroken).toMatchObject({ seq: 4, index: 0, reason: expect.stringMatching(/^out of range/) });
  });

  it('reports shape errors with the field path', () => {
    expect(verifyAuditExport(null).firstBroken).toMatchObject({ seq: -1, index: -1, reason: expect.stringMatching(/^invalid package: \(package\): /) });
    const format = reload(pkg);
    format.format = 'something-else';
    expect(verifyAuditExport(format).firstBroken!.reason).toMatch(/^invalid package: format: /);
    const digest = reload(pkg);
    digest.records[5].payload_digest = 'XYZ';
    expect(verifyAuditExport(digest).firstBroken).toEqual({ seq: 6, index: 5, reason: 'invalid package: records[5].payload_digest: must be 64 lowercase hex digits' });
    const extra = reload(pkg);
    extra.chain.verified = true;
    expect(verifyAuditExport(extra).firstBroken!.reason).toBe('invalid package: chain: unknown field(s) verified');
    const missing = reload(pkg);
    delete missing.summary.event_counts;
    expect(verifyAuditExport(missing).firstBroken!.reason).toMatch(/^invalid package: summary\.event_counts: /);
    const type = reload(pkg);
    type.records[0].type = 'replay_started';
    expect(verifyAuditExport(type).firstBroken).toMatchObject({ seq: 1, index: 0, reason: expect.stringMatching(/^invalid package: records\[0\]\.type: /) });
  });

  it('does not vouch for a consistently rebuilt package: only the head says so', () => {
    // Anyone can rebuild a valid chain; the head hash then differs from the real one.
    const first = auditRecordFor(null, { tenantId: 'acme', type: 'tenant_created', subjectId: 'acme', atMs: T0, payload: { name: 'Forged' } });
    const rebuilt = buildAuditExport('acme', [first], { generatedAtMs: GENERATED });
    const result = verifyAuditExport(reload(rebuilt));
    expect(result.ok).toBe(true);
    expect(result.head!.hash).not.toBe(chain[0]!.hash);
    expect(sha256Hex(first.payloadJson)).toBe(first.payloadDigest);
  });
});
