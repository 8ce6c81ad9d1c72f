import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const chat = (extra: Partial<SemanticSpan>) => semanticSpan({ spanId: 'c', operation: 'chat', model: 'gpt-4o', agentName: 'writer', ...extra });

describe('empty_output detector', () => {
  it('reports a whitespace completion and zero output tokens as empty_output, high', () => {
    const blank = run('empty_output', [chat({ completion: '  \n' })]);
    expect(blank).toHaveLength(1);
    expect(blank[0]).toMatchObject({ detectionType: 'empty_output', severity: 'high', agent: 'writer', affectedSpanIds: ['c'] });
    expect(run('empty_output', [chat({ inputTokens: 900, outputTokens: 0 })])[0]!.detectionType).toBe('empty_output');
  });

  it('stays silent on a normal answer and on an uncaptured completion', () => {
    expect(run('empty_output', [chat({ completion: 'The answer is 42.', inputTokens: 10, outputTokens: 6 })])).toHaveLength(0);
    expect(run('empty_output', [chat({ inputTokens: 10, outputTokens: 40 })])).toHaveLength(0);
    expect(run('empty_output', [chat({ inputTokens: 0, outputTokens: 0 })])).toHaveLength(0);
  });

  it('reports a finish reason of length as truncated_output', () => {
    const findings = run('empty_output', [chat({ completion: '[{"role":"assistant","content":"Step one is","finish_reason":"length"}]' })]);
    expect(findings[0]).toMatchObject({ detectionType: 'truncated_output', severity: 'medium' });
  });

  it('reports text ending mid-sentence at a round token cap, not off the cap or ending cleanly', () => {
    expect(run('empty_output', [chat({ completion: 'The plan has three parts: first we', outputTokens: 1024 })])[0]!.detectionType).toBe('truncated_output');
    expect(run('empty_output', [chat({ completion: 'The plan has three parts: first we', outputTokens: 1023 })])).toHaveLength(0);
    expect(run('empty_output', [chat({ completion: 'The plan has three parts.', outputTokens: 1024 })])).toHaveLength(0);
  });

  it('ignores spans that are not model calls', () => {
    expect(run('empty_output', [semanticSpan({ spanId: 't', operation: 'execute_tool', completion: '' })])).toHaveLength(0);
  });

  it('validates its config', () => {
    expect(() => createDetectors({ empty_output: { tokenCaps: [0] } })).toThrow(/detector empty_output: tokenCaps/);
    expect(run('empty_output', [chat({ completion: 'cut off', outputTokens: 1024 })], { empty_output: { reportTruncated: false } })).toHaveLength(0);
  });
});
