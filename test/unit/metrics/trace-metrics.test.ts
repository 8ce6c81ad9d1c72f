import { describe, expect, it } from 'vitest';
import { measureTrace } from '../../../src/metrics/trace-metrics.js';
import { semanticSpan, semanticTrace } from '../semantic/fixtures.js';

describe('measureTrace', () => {
  it('gives zeros for a trace without spans', () => {
    expect(measureTrace(semanticTrace([]))).toEqual({
      startTimeUnixNano: 0n,
      durationMs: 0,
      spanCount: 0,
      errorCount: 0,
      inputTokens: 0,
      outputTokens: 0,
      llmCallCount: 0,
      toolCallCount: 0,
      agents: [],
      models: [],
    });
  });

  it('keeps sub-millisecond durations', () => {
    const m = measureTrace(semanticTrace([semanticSpan({ spanId: 'a', startNs: 1_000_000n, endNs: 3_500_000n })]));
    expect(m.durationMs).toBe(2.5);
  });

  it('counts missing token counts as zero and embeddings as neither model nor tool calls', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'a', operation: 'chat', inputTokens: 7, outputTokens: null }),
        semanticSpan({ spanId: 'b', operation: 'chat', inputTokens: null, outputTokens: 3 }),
        semanticSpan({ spanId: 'c', operation: 'embeddings', inputTokens: 5 }),
      ]),
    );
    expect(m).toMatchObject({ inputTokens: 12, outputTokens: 3, llmCallCount: 2, toolCallCount: 0 });
  });
});
