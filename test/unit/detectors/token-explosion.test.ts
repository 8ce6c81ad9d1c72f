import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const chats = (tokens: readonly number[], agentName: string | null = 'planner', prefix = 'c') =>
  tokens.map((inputTokens, i) => semanticSpan({ spanId: `${prefix}${i}`, operation: 'chat', inputTokens, outputTokens: 10, agentName }));

describe('token_explosion detector', () => {
  it('fires on four growing calls reaching three times the first prompt', () => {
    const findings = run('token_explosion', chats([1000, 1500, 2200, 3000]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'token_explosion', agent: 'planner', severity: 'medium', affectedSpanIds: ['c0', 'c1', 'c2', 'c3'] });
  });

  it('is high severity at twice the growth factor', () => {
    expect(run('token_explosion', chats([1000, 2000, 4000, 6000]))[0]!.severity).toBe('high');
  });

  it('stays silent when growth is short of the factor, broken, or spread over agents (near miss)', () => {
    expect(run('token_explosion', chats([1000, 1500, 2200, 2900]))).toHaveLength(0);
    expect(run('token_explosion', chats([1000, 1500, 1400, 3000]))).toHaveLength(0);
    const mixed = [...chats([1000, 3000], 'a', 'a'), ...chats([1500, 3500], 'b', 'b')];
    expect(run('token_explosion', mixed)).toHaveLength(0);
  });

  it('reports a run over the token budget when one is set', () => {
    const spans = chats([1000, 900, 1100]);
    expect(run('token_explosion', spans)).toHaveLength(0);
    expect(run('token_explosion', spans, { token_explosion: { tokenBudget: 4000 } })).toHaveLength(0);
    const findings = run('token_explosion', spans, { token_explosion: { tokenBudget: 1500 } });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ fingerprint: 'budget', agent: 'planner', severity: 'high' });
  });

  it('validates its config', () => {
    expect(() => createDetectors({ token_explosion: { growthFactor: 1 } })).toThrow(/detector token_explosion: growthFactor:/);
    expect(() => createDetectors({ token_explosion: { minCalls: 1 } })).toThrow(/detector token_explosion: minCalls:/);
    expect(() => createDetectors({ token_explosion: { tokenBudget: 0 } })).toThrow(/detector token_explosion: tokenBudget:/);
  });
});
