import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { produced, run } from './run-detector.js';

const chats = (tokens: readonly number[], agentName: string | null = 'planner', prefix = 'c', model: string | null = 'gpt-4o') =>
  tokens.map((inputTokens, i) => semanticSpan({ spanId: `${prefix}${i}`, operation: 'chat', model, inputTokens, outputTokens: 10, agentName }));

/** OpenInference LLM spans of one ReAct agent, as its instrumentation records them. */
const llmCalls = (tokens: readonly number[], model = 'gpt-4o-2024-08-06') =>
  produced([
    { id: 'agent', parent: '', attributes: { 'openinference.span.kind': 'AGENT', 'input.value': 'Change my flight to May 22.' } },
    ...tokens.map((n, i) => ({
      id: `llm${i}`,
      parent: 'agent',
      attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': model, 'llm.token_count.prompt': n, 'llm.token_count.completion': 120 },
    })),
  ]);

describe('token_explosion detector', () => {
  it('is silent on ordinary ReAct prompt growth far below the window', () => {
    // Each step appends a tool result: 3.7K to 25.7K tokens over 14 calls, a fifth of gpt-4o's 128K window.
    const growth = Array.from({ length: 14 }, (_, i) => 3700 + Math.round((22000 * i) / 13));
    const spans = llmCalls(growth);
    expect(spans[1]).toMatchObject({ operation: 'chat', model: 'gpt-4o-2024-08-06', inputTokens: 3700 });
    expect(run('token_explosion', spans)).toHaveLength(0);
  });

  it('fires, medium, when the growth reaches half the window at a pace that does not pass it soon', () => {
    const findings = run('token_explosion', llmCalls([20_000, 40_000, 55_000, 62_000, 66_000]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'token_explosion', severity: 'medium', affectedSpanIds: ['llm0', 'llm1', 'llm2', 'llm3', 'llm4'] });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ contextWindow: 128000, tokensPerCall: 8667 });
  });

  it('is high when the run, at its own recent pace, passes the window within minCalls more calls', () => {
    const findings = run('token_explosion', llmCalls([8_000, 16_000, 32_000, 64_000]));
    // The OpenInference AGENT span names the agent the calls run under.
    expect(findings[0]).toMatchObject({ severity: 'high', agent: 'agent' });
    expect(findings[0]!.title).toContain('50% of the context window');
  });

  it('stays silent when growth is short of the factor, broken, spread over agents, or the window is unknown (near miss)', () => {
    expect(run('token_explosion', chats([30_000, 45_000, 60_000, 80_000]))).toHaveLength(0);
    expect(run('token_explosion', chats([20_000, 40_000, 30_000, 70_000]))).toHaveLength(0);
    const mixed = [...chats([20_000, 70_000], 'a', 'a'), ...chats([25_000, 75_000], 'b', 'b')];
    expect(run('token_explosion', mixed)).toHaveLength(0);
    expect(run('token_explosion', chats([20_000, 40_000, 60_000, 70_000], 'planner', 'c', 'acme-internal-llm'))).toHaveLength(0);
    expect(run('token_explosion', chats([20_000, 40_000, 60_000, 70_000], 'planner', 'c', 'acme-internal-llm'), { token_explosion: { extraWindows: { 'ACME-internal-llm': 100_000 } } })).toHaveLength(1);
    expect(run('token_explosion', chats([1000, 2000, 4000, 8000]), { token_explosion: { windowShare: 0.05 } })).toHaveLength(1);
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
    expect(() => createDetectors({ token_explosion: { windowShare: 0 } })).toThrow(/detector token_explosion: windowShare:/);
  });
});
