import { describe, expect, it } from 'vitest';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';
import { canonicalSpan, semanticSpan, toolCall } from '../semantic/fixtures.js';
import { repeated, run } from './run-detector.js';

describe('loop detector', () => {
  it('fires at exactly minRepeats identical calls and not below (default 3)', () => {
    expect(run('loop', repeated(2))).toHaveLength(0);
    const findings = run('loop', repeated(3));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.detectionType).toBe('loop');
  });

  it('fires at exactly minRepeats for a configured minRepeats', () => {
    const overrides = { loop: { minRepeats: 5 } };
    expect(run('loop', repeated(4), overrides)).toHaveLength(0);
    expect(run('loop', repeated(5), overrides)).toHaveLength(1);
  });

  it('treats JSON arguments equal after key reordering and whitespace as identical', () => {
    const spans = [
      toolCall('a', 'search', '{"q":"x","opts":{"limit":5,"lang":"en"}}'),
      toolCall('b', 'search', '{ "opts": { "lang": "en", "limit": 5 }, "q": "x" }'),
      toolCall('c', 'search', '\n{"opts":{"limit":5,   "lang":"en"},\t"q":"x"}\n'),
    ];
    const findings = run('loop', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.affectedSpanIds).toEqual(['a', 'b', 'c']);
  });

  it('does not count calls with different arguments as identical', () => {
    const spans = [toolCall('a', 'search', '{"q":"x"}'), toolCall('b', 'search', '{"q":"y"}'), toolCall('c', 'search', '{"q":"z"}')];
    expect(run('loop', spans)).toHaveLength(0);
  });

  it('does not group array arguments whose order differs', () => {
    const spans = [toolCall('a', 'f', '[1,2]'), toolCall('b', 'f', '[2,1]'), toolCall('c', 'f', '[1,2]')];
    expect(run('loop', spans)).toHaveLength(0);
  });

  it('does not group identical arguments sent to different tools', () => {
    const spans = [toolCall('a', 'search', '{}'), toolCall('b', 'fetch', '{}'), toolCall('c', 'read', '{}')];
    expect(run('loop', spans)).toHaveLength(0);
  });

  it('ignores spans that are not tool calls', () => {
    const chats = Array.from({ length: 4 }, (_, i) => semanticSpan({ spanId: `c${i}`, operation: 'chat', toolName: 'search', toolArguments: '{}' }));
    expect(run('loop', chats)).toHaveLength(0);
  });

  it('gives two separate loops two findings with distinct fingerprints', () => {
    const spans = [...repeated(3, 'search', '{"q":"x"}', 'a'), ...repeated(3, 'search', '{"q":"y"}', 'b'), ...repeated(3, 'fetch', '{}', 'c')];
    const findings = run('loop', spans);
    expect(findings).toHaveLength(3);
    expect(new Set(findings.map((f) => f.fingerprint)).size).toBe(3);
    expect(findings.map((f) => f.affectedSpanIds)).toEqual([
      ['a0', 'a1', 'a2'],
      ['b0', 'b1', 'b2'],
      ['c0', 'c1', 'c2'],
    ]);
  });

  it('gives the same loop the same fingerprint in another trace', () => {
    const first = run('loop', repeated(3, 'search', '{"q":"x"}', 'a'));
    const second = run('loop', repeated(4, 'search', '{ "q" : "x" }', 'z'));
    expect(first[0]!.fingerprint).toBe(second[0]!.fingerprint);
  });

  it('grows confidence with repeats and never exceeds 1', () => {
    const confidences = [3, 4, 5, 6, 8].map((n) => run('loop', repeated(n))[0]!.confidence);
    for (let i = 1; i < confidences.length; i++) expect(confidences[i]!).toBeGreaterThan(confidences[i - 1]!);
    expect(confidences[0]).toBeCloseTo(0.7, 10);
    expect(confidences[1]).toBeCloseTo(0.75, 10);
    for (const n of [12, 50, 200]) {
      const c = run('loop', repeated(n))[0]!.confidence;
      expect(c).toBeLessThanOrEqual(1);
      expect(c).toBeGreaterThan(0.9);
    }
  });

  it('is medium below twice minRepeats and high from twice minRepeats', () => {
    expect(run('loop', repeated(3))[0]!.severity).toBe('medium');
    expect(run('loop', repeated(5))[0]!.severity).toBe('medium');
    expect(run('loop', repeated(6))[0]!.severity).toBe('high');
    expect(run('loop', repeated(7), { loop: { minRepeats: 4 } })[0]!.severity).toBe('medium');
    expect(run('loop', repeated(8), { loop: { minRepeats: 4 } })[0]!.severity).toBe('high');
  });

  it('attributes the loop to the agent that made the calls', () => {
    expect(run('loop', repeated(3, 'search', '{}', 's', { agentName: 'researcher' }))[0]!.agent).toBe('researcher');
    expect(run('loop', repeated(3))[0]!.agent).toBeNull();
  });

  it('lists exactly the repeated calls as affected spans, in order', () => {
    const spans = [
      toolCall('s1', 'search', '{"q":"x"}'),
      toolCall('other', 'search', '{"q":"y"}'),
      semanticSpan({ spanId: 'chat', operation: 'chat' }),
      toolCall('s2', 'search', '{"q":"x"}'),
      toolCall('s3', 'search', '{"q":"x"}'),
    ];
    const [finding] = run('loop', spans);
    expect(finding!.affectedSpanIds).toEqual(['s1', 's2', 's3']);
    expect(finding!.evidence[0]!.spanIds).toEqual(['s1', 's2', 's3']);
  });

  it('does not count calls whose arguments were not recorded as identical', () => {
    const spans = [toolCall('a', 'lookup', null), toolCall('b', 'lookup', null), toolCall('c', 'lookup', null), toolCall('d', 'lookup', null)];
    expect(run('loop', spans)).toHaveLength(0);
  });

  it('tells OpenInference tool calls apart by their input.value, not their shared tool.parameters schema', () => {
    const schema = '{"type":"object","properties":{"user_id":{"type":"string"}},"required":["user_id"]}';
    const tool = (i: number, userId: string) =>
      toSemanticSpan(
        canonicalSpan({
          spanId: `t${i}`,
          parentSpanId: 'agent',
          name: 'get_user_details',
          start: BigInt(i) * 1_000_000_000n,
          attributes: {
            'openinference.span.kind': 'TOOL',
            'tool.name': 'get_user_details',
            'tool.parameters': schema,
            'input.value': JSON.stringify({ user_id: userId }),
            'output.value': '{"name":{"first_name":"Mia"}}',
          },
        }),
      );
    const different = ['mia_li_3668', 'omar_davis_3817', 'raj_sanchez_7340', 'sofia_kim_7287'].map((u, i) => tool(i, u));
    expect(run('loop', different)).toHaveLength(0);
    const same = [0, 1, 2].map((i) => tool(i, 'mia_li_3668'));
    expect(run('loop', same)).toHaveLength(1);
  });
});
