import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/detectors/detector.js';
import { rankFindings, reconcileFindings, SUBSUMES, type RankedFinding } from '../../../src/detectors/reconcile.js';
import type { Severity } from '../../../src/model/outputs.js';

interface Init {
  severity?: Severity;
  confidence?: number;
  spans?: string[];
  fingerprint?: string;
  detectorId?: string;
}

function ranked(name: string, init: Init = {}): RankedFinding {
  const finding: Finding = {
    detectionType: name,
    title: name,
    description: name,
    confidence: init.confidence ?? 0.5,
    severity: init.severity ?? 'medium',
    evidence: [],
    affectedSpanIds: init.spans ?? ['s1'],
    agent: null,
    suggestedFix: '',
    fingerprint: init.fingerprint ?? name,
  };
  return { detectorId: init.detectorId ?? 'd', detectorVersion: 1, finding };
}

const order = new Map([
  ['s1', 0],
  ['s2', 1],
  ['s3', 2],
  ['s4', 3],
]);

const names = (list: readonly RankedFinding[]) => list.map((r) => r.finding.detectionType);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('rankFindings', () => {
  it('ranks by severity first, whatever the confidence', () => {
    const list = [
      ranked('low', { severity: 'low', confidence: 1 }),
      ranked('medium', { severity: 'medium', confidence: 0.99 }),
      ranked('critical', { severity: 'critical', confidence: 0.1 }),
      ranked('info', { severity: 'info', confidence: 1 }),
      ranked('high', { severity: 'high', confidence: 0.2 }),
    ];
    expect(names(rankFindings(list, order))).toEqual(['critical', 'high', 'medium', 'low', 'info']);
  });

  it('ranks by confidence within one severity', () => {
    const list = [ranked('c5', { confidence: 0.5 }), ranked('c9', { confidence: 0.9 }), ranked('c7', { confidence: 0.7 })];
    expect(names(rankFindings(list, order))).toEqual(['c9', 'c7', 'c5']);
  });

  it('ranks by the earliest affected span when severity and confidence tie', () => {
    const list = [ranked('late', { spans: ['s3'] }), ranked('mixed', { spans: ['s4', 's2'] }), ranked('late2', { spans: ['s4'] })];
    expect(names(rankFindings(list, order))).toEqual(['mixed', 'late', 'late2']);
  });

  it('puts findings whose spans are unknown after those with known spans', () => {
    const list = [ranked('unknown', { spans: ['zz'] }), ranked('known', { spans: ['s4'] })];
    expect(names(rankFindings(list, order))).toEqual(['known', 'unknown']);
  });

  it('breaks full ties by detector id, then fingerprint, whatever the input order', () => {
    const list = [
      ranked('b-y', { detectorId: 'b', fingerprint: 'y' }),
      ranked('a-z', { detectorId: 'a', fingerprint: 'z' }),
      ranked('b-x', { detectorId: 'b', fingerprint: 'x' }),
      ranked('a-y', { detectorId: 'a', fingerprint: 'y' }),
    ];
    const expected = ['a-y', 'a-z', 'b-x', 'b-y'];
    for (const perm of permutations(list)) expect(names(rankFindings(perm, order))).toEqual(expected);
  });

  it('gives one ranking for every input order of a mixed list', () => {
    const list = [
      ranked('h9-s2', { severity: 'high', confidence: 0.9, spans: ['s2'] }),
      ranked('h9-s1', { severity: 'high', confidence: 0.9, spans: ['s1'] }),
      ranked('h5', { severity: 'high', confidence: 0.5 }),
      ranked('m9', { severity: 'medium', confidence: 0.9 }),
      ranked('none', { severity: 'high', confidence: 0.9, spans: [] }),
    ];
    const first = names(rankFindings(list, order));
    expect(first.slice(0, 2)).toEqual(['h9-s1', 'h9-s2']);
    for (const perm of permutations(list)) expect(names(rankFindings(perm, order))).toEqual(first);
  });

  it('returns a new array and leaves the input untouched', () => {
    const list = [ranked('low', { severity: 'low' }), ranked('high', { severity: 'high' })];
    const result = rankFindings(list, order);
    expect(result).not.toBe(list);
    expect(names(list)).toEqual(['low', 'high']);
  });
});

describe('reconcileFindings', () => {
  const view = (list: ReturnType<typeof reconcileFindings>) =>
    list.map((r) => ({ type: r.finding.detectionType, severity: r.finding.severity, by: r.subsumedBy === null ? null : list[r.subsumedBy]!.finding.detectionType }));

  it('merges one timed-out tool call reported three ways into one standing detection', () => {
    const list = [
      ranked('tool_failure', { severity: 'high', confidence: 0.95, spans: ['s2'] }),
      ranked('service_error', { severity: 'medium', confidence: 0.85, spans: ['s2'] }),
      ranked('timeout', { severity: 'medium', confidence: 0.8, spans: ['s2'] }),
    ];
    for (const perm of permutations(list)) {
      expect(view(reconcileFindings(perm, order))).toEqual([
        // The timeout explains both and takes the highest severity among them.
        { type: 'timeout', severity: 'high', by: null },
        { type: 'tool_failure', severity: 'high', by: 'timeout' },
        { type: 'service_error', severity: 'medium', by: 'timeout' },
      ]);
    }
    const [top] = reconcileFindings(list, order);
    expect(top!.finding.evidence.map((e) => e.description)).toEqual(['also reported as tool_failure: tool_failure', 'also reported as service_error: service_error']);
  });

  it('leaves findings standing when their affected spans do not overlap', () => {
    const list = [ranked('tool_failure', { severity: 'high', spans: ['s1'] }), ranked('timeout', { severity: 'medium', spans: ['s2'] })];
    expect(view(reconcileFindings(list, order))).toEqual([
      { type: 'tool_failure', severity: 'high', by: null },
      { type: 'timeout', severity: 'medium', by: null },
    ]);
  });

  it('does not subsume across unrelated types, even on the same span', () => {
    const list = [ranked('loop', { spans: ['s1', 's2'] }), ranked('context_overflow', { spans: ['s2'] })];
    expect(reconcileFindings(list, order).every((r) => r.subsumedBy === null)).toBe(true);
  });

  it('follows a chain of subsumption up to the finding that stands', () => {
    // The timeout covers s1 only; the service error it explains also covers s3, where a
    // tool failure sits that the timeout does not touch.
    const list = [
      ranked('timeout', { severity: 'medium', spans: ['s1'] }),
      ranked('service_error', { severity: 'medium', spans: ['s1', 's3'] }),
      ranked('tool_failure', { severity: 'low', spans: ['s3'] }),
    ];
    expect(view(reconcileFindings(list, order))).toEqual([
      { type: 'timeout', severity: 'medium', by: null },
      { type: 'service_error', severity: 'medium', by: 'timeout' },
      { type: 'tool_failure', severity: 'low', by: 'timeout' },
    ]);
  });

  it('has no cycles in its rules', () => {
    const visit = (type: string, path: readonly string[]): void => {
      expect(path, `cycle through ${type}`).not.toContain(type);
      for (const next of SUBSUMES[type] ?? []) visit(next, [...path, type]);
    };
    for (const type of Object.keys(SUBSUMES)) visit(type, []);
  });
});
