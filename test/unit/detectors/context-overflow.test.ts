import { describe, expect, it } from 'vitest';
import { contextWindow } from '../../../src/detectors/context-overflow.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const chat = (id: string, model: string, inputTokens: number, agentName: string | null = 'writer') =>
  semanticSpan({ spanId: id, operation: 'chat', model, inputTokens, agentName });

describe('context_overflow detector', () => {
  it('matches exact, dated and prefixed model names and no unknown ones', () => {
    expect(contextWindow('gpt-4o')).toEqual({ key: 'gpt-4o', tokens: 128000 });
    expect(contextWindow('gpt-4o-2024-08-06')?.key).toBe('gpt-4o');
    expect(contextWindow('gpt-4o-mini-2024-07-18')?.key).toBe('gpt-4o-mini');
    expect(contextWindow('claude-3-5-sonnet-20241022')?.tokens).toBe(200000);
    expect(contextWindow('anthropic.claude-3-5-sonnet-20240620-v1:0')?.key).toBe('claude-3-5-sonnet');
    expect(contextWindow('models/gemini-1.5-pro-002')?.key).toBe('gemini-1.5-pro');
    expect(contextWindow('gpt-4o-custom')).toBeNull();
    expect(contextWindow('llama-3-70b')).toBeNull();
  });

  it('fires at 90% of the window, attributed to the agent', () => {
    const findings = run('context_overflow', [chat('a', 'gpt-4o', 120_000)]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'context_overflow', severity: 'medium', agent: 'writer', affectedSpanIds: ['a'] });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ contextWindow: 128000, tableKey: 'gpt-4o' });
  });

  it('is high severity once the prompt reaches the whole window, grouping calls per agent and model', () => {
    const findings = run('context_overflow', [chat('a', 'gpt-4o', 118_000), chat('b', 'gpt-4o-2024-08-06', 130_000)]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.severity).toBe('high');
    expect(findings[0]!.affectedSpanIds).toEqual(['a', 'b']);
  });

  it('stays silent just below the threshold and for unknown models (near miss)', () => {
    expect(run('context_overflow', [chat('a', 'gpt-4o', 115_000)])).toHaveLength(0);
    expect(run('context_overflow', [chat('a', 'my-private-model', 10_000_000)])).toHaveLength(0);
  });

  it('takes extra windows and a threshold from config, and rejects invalid ones', () => {
    const overrides = { context_overflow: { extraWindows: { 'My-Private-Model': 8000 }, threshold: 0.5 } };
    expect(run('context_overflow', [chat('a', 'my-private-model', 4000)], overrides)).toHaveLength(1);
    expect(() => createDetectors({ context_overflow: { threshold: 0 } })).toThrow(/detector context_overflow: threshold:/);
    expect(() => createDetectors({ context_overflow: { extraWindows: { x: -1 } } })).toThrow(/detector context_overflow: extraWindows/);
  });
});
