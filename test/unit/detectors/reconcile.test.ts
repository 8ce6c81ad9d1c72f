import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/detectors/detector.js';
import { rankFindings, type RankedFinding } from '../../../src/detectors/reconcile.js';
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
