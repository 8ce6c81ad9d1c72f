import { describe, expect, it } from 'vitest';
import { countRetries, measureTrace, PRICE_TABLE, UNNAMED_MODEL } from '../../../src/measures/trace-metrics.js';
import { parsePriceTable } from '../../../src/measures/prices.js';
import { semanticSpan, semanticTrace, toolCall } from '../semantic/fixtures.js';

const MS = 1_000_000n;
const prices = parsePriceTable({
  taken: '2026-01-02',
  models: {
    'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
    'claude-sonnet-4': { input: 3, cached_input: 0.3, output: 15 },
  },
});

describe('measureTrace', () => {
  it('gives zeros (and a cost of 0) for a trace without spans', () => {
    expect(measureTrace(semanticTrace([]), prices)).toEqual({
      startTimeUnixNano: 0n,
      durationMs: 0,
      criticalPathMs: 0,
      criticalPathSpanIds: [],
      spanCount: 0,
      llmCallCount: 0,
      toolCallCount: 0,
      agentCount: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      costUsd: 0,
      unpricedModels: [],
      priceTable: '2026-01-02',
      errorCount: 0,
      errorRate: 0,
      toolErrorCount: 0,
      toolErrorRate: 0,
      retryCount: 0,
      retryRate: 0,
      blastRadius: 0,
      filesWritten: [],
      agents: [],
      models: [],
    });
  });

  it('keeps sub-millisecond durations', () => {
    const m = measureTrace(semanticTrace([semanticSpan({ spanId: 'a', parentSpanId: '', startNs: 1_000_000n, endNs: 3_500_000n })]), prices);
    expect(m.durationMs).toBe(2.5);
    expect(m.criticalPathMs).toBe(2.5);
    expect(m.criticalPathSpanIds).toEqual(['a']);
  });

  it('counts missing token counts as zero and embeddings as neither model nor tool calls', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'a', operation: 'chat', inputTokens: 7, outputTokens: null, cachedInputTokens: 2, model: 'gpt-4o' }),
        semanticSpan({ spanId: 'b', operation: 'chat', inputTokens: null, outputTokens: 3, model: 'gpt-4o' }),
        semanticSpan({ spanId: 'c', operation: 'embeddings', inputTokens: 5, model: 'gpt-4o' }),
      ]),
      prices,
    );
    expect(m).toMatchObject({ inputTokens: 12, outputTokens: 3, cachedInputTokens: 2, llmCallCount: 2, toolCallCount: 0 });
  });

  it('counts spans, LLM calls, tool calls and distinct agents; lists agents and models sorted and unique', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'r', parentSpanId: '', operation: 'invoke_agent', agentName: 'planner' }),
        semanticSpan({ spanId: 'c1', operation: 'chat', agentName: 'planner', model: 'gpt-4o' }),
        semanticSpan({ spanId: 'c2', operation: 'chat', agentName: 'writer', model: 'claude-sonnet-4' }),
        toolCall('t1', 'search', '{}', { agentName: 'writer' }),
      ]),
      prices,
    );
    expect(m).toMatchObject({
      spanCount: 4,
      llmCallCount: 2,
      toolCallCount: 1,
      agentCount: 2,
      agents: ['planner', 'writer'],
      models: ['claude-sonnet-4', 'gpt-4o'],
    });
  });
});

describe('measureTrace: cost', () => {
  it('prices input (less cached), cached input and output per 1M tokens, summed over calls', () => {
    const m = measureTrace(
      semanticTrace([
        // (1000 - 400) × 2.5 + 400 × 1.25 + 200 × 10 = 4000 µ$ → 0.004 USD
        semanticSpan({ spanId: 'a', operation: 'chat', model: 'gpt-4o', inputTokens: 1000, cachedInputTokens: 400, outputTokens: 200 }),
        // 1000 × 3 + 100 × 15 = 4500 µ$
        semanticSpan({ spanId: 'b', operation: 'chat', model: 'claude-sonnet-4', inputTokens: 1000, outputTokens: 100 }),
      ]),
      prices,
    );
    expect(m.costUsd).toBeCloseTo(0.0085, 12);
    expect(m.unpricedModels).toEqual([]);
    expect(m.priceTable).toBe('2026-01-02');
  });

  it('is null, never a default, when a model with usage is unknown, and lists the unpriced models', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'a', operation: 'chat', model: 'gpt-4o', inputTokens: 10, outputTokens: 1 }),
        semanticSpan({ spanId: 'b', operation: 'chat', model: 'acme-llm-7', inputTokens: 10, outputTokens: 1 }),
        semanticSpan({ spanId: 'c', operation: 'chat', model: null, inputTokens: 10 }),
        semanticSpan({ spanId: 'd', operation: 'chat', model: 'acme-llm-7', outputTokens: 3 }),
      ]),
      prices,
    );
    expect(m.costUsd).toBeNull();
    expect(m.unpricedModels).toEqual([UNNAMED_MODEL, 'acme-llm-7'].sort());
  });

  it('is 0 without token usage, even for an unknown model', () => {
    const m = measureTrace(
      semanticTrace([semanticSpan({ spanId: 'a', operation: 'chat', model: 'acme-llm-7' }), toolCall('t', 'search', '{}')]),
      prices,
    );
    expect(m.costUsd).toBe(0);
    expect(m.unpricedModels).toEqual([]);
  });

  it('finds models through the normalised name (provider prefix, date suffix)', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'a', operation: 'chat', model: 'openai/gpt-4o-2024-08-06', inputTokens: 1_000_000 }),
        semanticSpan({ spanId: 'b', operation: 'chat', model: 'us.anthropic.claude-sonnet-4-20250514-v1:0', outputTokens: 1_000_000 }),
      ]),
      prices,
    );
    expect(m.costUsd).toBe(2.5 + 15);
    expect(m.models).toEqual(['openai/gpt-4o-2024-08-06', 'us.anthropic.claude-sonnet-4-20250514-v1:0']);
  });

  it('uses the bundled table by default', () => {
    const m = measureTrace(semanticTrace([semanticSpan({ spanId: 'a', operation: 'chat', model: 'gpt-4o-mini', outputTokens: 1_000_000 })]));
    expect(m.costUsd).toBe(0.6);
    expect(m.priceTable).toBe(PRICE_TABLE.taken);
  });
});

describe('measureTrace: error rates', () => {
  it('divides errored spans by spans and errored tool calls by tool calls', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'r', parentSpanId: '', isError: true }),
        semanticSpan({ spanId: 'c', operation: 'chat' }),
        toolCall('t1', 'search', '{}', { isError: true }),
        toolCall('t2', 'search', '{}'),
        toolCall('t3', 'fetch', '{}'),
        toolCall('t4', 'fetch', '{}', { isError: true }),
        semanticSpan({ spanId: 'x', isError: false }),
        semanticSpan({ spanId: 'y', isError: false }),
      ]),
      prices,
    );
    expect(m).toMatchObject({ errorCount: 3, errorRate: 3 / 8, toolErrorCount: 2, toolErrorRate: 0.5 });
  });
});

describe('retry rate', () => {
  it('counts tool calls repeating the previous tool call of the same agent, over tool calls', () => {
    const at = (ms: bigint) => ({ startNs: ms * MS, endNs: ms * MS + MS });
    const m = measureTrace(
      semanticTrace([
        toolCall('a1', 'search', '{"q":1}', { agentName: 'a', ...at(1n) }),
        // An LLM call in between does not break the sequence.
        semanticSpan({ spanId: 'c', operation: 'chat', agentName: 'a', ...at(2n) }),
        toolCall('a2', 'search', '{"q":2}', { agentName: 'a', ...at(3n) }), // retry
        // Another agent's calls neither break nor extend agent a's sequence.
        toolCall('b1', 'fetch', '{}', { agentName: 'b', ...at(4n) }),
        toolCall('a3', 'search', '{"q":3}', { agentName: 'a', ...at(5n) }), // retry
        toolCall('b2', 'search', '{}', { agentName: 'b', ...at(6n) }), // not: b called fetch last
        toolCall('a4', 'fetch', '{}', { agentName: 'a', ...at(7n) }),
        toolCall('a5', 'search', '{}', { agentName: 'a', ...at(8n) }), // not: a called fetch last
      ]),
      prices,
    );
    expect(m.toolCallCount).toBe(7);
    expect(m.retryCount).toBe(2);
    expect(m.retryRate).toBe(2 / 7);
  });

  it('groups calls without an agent together and never counts calls without a tool name', () => {
    expect(
      countRetries([
        toolCall('1', 'x', null),
        toolCall('2', 'x', null),
        semanticSpan({ spanId: '3', operation: 'execute_tool' }),
        semanticSpan({ spanId: '4', operation: 'execute_tool' }),
        toolCall('5', 'x', null, { agentName: 'a' }),
      ]),
    ).toBe(1);
  });

  it('is 0 without tool calls', () => {
    expect(measureTrace(semanticTrace([semanticSpan({ spanId: 'a' })]), prices).retryRate).toBe(0);
  });
});

describe('measureTrace: blast radius and critical path', () => {
  it('counts distinct files written by tools', () => {
    const m = measureTrace(
      semanticTrace([
        toolCall('1', 'write_file', '{"path":"src/a.ts","content":"x"}'),
        toolCall('2', 'edit_file', '{"file_path":"./src/a.ts"}'),
        toolCall('3', 'read_file', '{"path":"src/secret.ts"}'),
        toolCall('4', 'create_file', '{"filename":"docs/b.md"}'),
      ]),
      prices,
    );
    expect(m.blastRadius).toBe(2);
    expect(m.filesWritten).toEqual(['docs/b.md', 'src/a.ts']);
  });

  it('reports the critical path of the span tree', () => {
    const m = measureTrace(
      semanticTrace([
        semanticSpan({ spanId: 'root', parentSpanId: '', startNs: 0n, endNs: 100n * MS }),
        semanticSpan({ spanId: 'slow', parentSpanId: 'root', startNs: 10n * MS, endNs: 90n * MS }),
        semanticSpan({ spanId: 'fast', parentSpanId: 'root', startNs: 10n * MS, endNs: 30n * MS }),
      ]),
      prices,
    );
    expect(m.criticalPathSpanIds).toEqual(['root', 'slow']);
    expect(m.criticalPathMs).toBe(100);
  });
});
