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

  describe('the model call that produced a failing tool input', () => {
    const chat = (spanId: string, agentName: string | null, startNs: bigint, endNs: bigint, extra = {}) =>
      semanticSpan({ spanId, operation: 'chat', agentName, startNs, endNs, ...extra });

    it('names the parent chat span first, with its own evidence, and keeps the fingerprint', () => {
      const spans = [chat('c1', 'coder', 0n, 100n), toolCall('t1', 'run', '{}', { parentSpanId: 'c1', startNs: 50n, endNs: 60n, isError: true })];
      const [finding] = run('span_errors', spans);
      expect(finding).toMatchObject({ affectedSpanIds: ['c1', 't1'], fingerprint: 't1', agent: 'coder' });
      expect(finding!.evidence[1]).toMatchObject({ spanIds: ['c1'], data: { relation: 'parent' } });
      expect(finding!.evidence[1]!.description).toContain('the failing input came from this model call');
    });

    it('else takes the latest model call of the same agent that ended before the tool started', () => {
      const spans = [
        chat('c1', 'coder', 0n, 10n),
        chat('c2', 'coder', 20n, 30n),
        chat('other', 'reviewer', 32n, 35n),
        // Still running when the tool started: not what decided it.
        chat('running', 'coder', 36n, 100n),
        toolCall('t1', 'run', '{}', { agentName: 'coder', startNs: 40n, endNs: 50n, isError: true }),
        chat('later', 'coder', 60n, 70n),
      ];
      const [finding] = run('span_errors', spans);
      expect(finding!.affectedSpanIds).toEqual(['c2', 't1']);
      expect(finding!.evidence[1]!.data).toMatchObject({ relation: 'previous_model_call', spanId: 'c2' });
      expect(finding!.fingerprint).toBe('t1');
    });

    it('reads the agent of a tool span from its ancestors', () => {
      const spans = [
        semanticSpan({ spanId: 'inv', operation: 'invoke_agent', agentName: 'researcher', startNs: 0n, endNs: 100n }),
        chat('c1', null, 10n, 20n, { parentSpanId: 'inv' }),
        toolCall('t1', 'search', '{}', { parentSpanId: 'inv', startNs: 30n, endNs: 40n, isError: true }),
      ];
      const [finding] = run('span_errors', spans);
      expect(finding).toMatchObject({ affectedSpanIds: ['c1', 't1'], agent: 'researcher' });
    });

    it('names no cause when the tool has no agent or the agent made no earlier model call', () => {
      const anonymous = [chat('c1', null, 0n, 10n), toolCall('t1', 'run', '{}', { startNs: 20n, endNs: 30n, isError: true })];
      expect(run('span_errors', anonymous)[0]!.affectedSpanIds).toEqual(['t1']);
      const otherAgent = [chat('c1', 'reviewer', 0n, 10n), toolCall('t1', 'run', '{}', { agentName: 'coder', startNs: 20n, endNs: 30n, isError: true })];
      const [finding] = run('span_errors', otherAgent);
      expect(finding!.affectedSpanIds).toEqual(['t1']);
      expect(finding!.evidence).toHaveLength(1);
    });

    it('does not add a cause to a failed model call', () => {
      const spans = [chat('c1', 'coder', 0n, 10n), chat('c2', 'coder', 20n, 30n, { isError: true })];
      expect(run('span_errors', spans)[0]!.affectedSpanIds).toEqual(['c2']);
    });
  });
});
