import { describe, expect, it } from 'vitest';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

describe('span_errors detector', () => {
  it('reports an errored tool call as tool_failure, attributed to its agent', () => {
    const span = toolCall('t1', 'fetch', '{}', { isError: true, errorMessage: 'HTTP 500', agentName: 'browser' });
    const findings = run('span_errors', [span]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      detectionType: 'tool_failure',
      severity: 'high',
      affectedSpanIds: ['t1'],
      agent: 'browser',
      fingerprint: 't1',
    });
    expect(findings[0]!.description).toContain('HTTP 500');
  });

  it('reports an errored chat span as llm_failure', () => {
    const span = semanticSpan({ spanId: 'c1', operation: 'chat', model: 'gpt-4o', isError: true, errorMessage: '429' });
    const findings = run('span_errors', [span]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.detectionType).toBe('llm_failure');
    expect(findings[0]!.affectedSpanIds).toEqual(['c1']);
  });

  it('ignores spans without an error', () => {
    expect(run('span_errors', [toolCall('t1', 'fetch', '{}'), semanticSpan({ spanId: 'c1', operation: 'chat' })])).toHaveLength(0);
  });

  it('ignores an errored unclassified span by default', () => {
    const span = semanticSpan({ spanId: 'o1', operation: 'other', name: 'prepare', isError: true });
    expect(run('span_errors', [span])).toHaveLength(0);
  });

  it('reports an errored unclassified span with includeUnclassified', () => {
    const span = semanticSpan({ spanId: 'o1', operation: 'invoke_agent', name: 'plan', isError: true, errorMessage: 'crashed' });
    const findings = run('span_errors', [span], { span_errors: { includeUnclassified: true } });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.affectedSpanIds).toEqual(['o1']);
    expect(findings[0]!.detectionType).not.toBe('tool_failure');
  });

  it('gives one finding per failing span', () => {
    const spans = [
      toolCall('t1', 'fetch', '{}', { isError: true }),
      toolCall('t2', 'fetch', '{}', { isError: true }),
      semanticSpan({ spanId: 'c1', operation: 'embeddings', isError: true }),
    ];
    const findings = run('span_errors', spans);
    expect(findings.map((f) => [f.detectionType, f.fingerprint])).toEqual([
      ['tool_failure', 't1'],
      ['tool_failure', 't2'],
      ['llm_failure', 'c1'],
    ]);
  });
});
