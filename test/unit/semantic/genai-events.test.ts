/**
 * GenAI events (src/semantic/genai-events.ts): log records folded into the span they name,
 * and a span's prompt and completion read from its events when its attributes carry none.
 */
import { describe, expect, it } from 'vitest';
import type { CanonicalSpan, SpanEvent } from '../../../src/model/span.js';
import { foldLogRecords } from '../../../src/semantic/genai-events.js';
import { toSemanticSpan, toSemanticTrace } from '../../../src/semantic/mapper.js';
import { canonicalSpan, keyValues, kvlist, type AttrInput } from './fixtures.js';

function record(spanId: string, parent: string, name: string, at: bigint, body: AttrInput): CanonicalSpan {
  return { ...canonicalSpan({ spanId, parentSpanId: parent, name, start: at, end: at, attributes: { 'event.name': name, 'log.record.body': body } }), source: 'otlp-logs' };
}

function spanEvent(name: string, at: bigint, attributes: Record<string, AttrInput>): SpanEvent {
  return { timeUnixNano: at, name, attributes: keyValues(attributes), droppedAttributesCount: 0 };
}

describe('GenAI events', () => {
  const chat = canonicalSpan({ spanId: 'chat', parentSpanId: 'root', start: 1_000n, end: 9_000n, attributes: { 'gen_ai.operation.name': 'chat' }, events: [spanEvent('exception', 5_000n, { 'exception.type': 'Timeout' })] });
  const root = canonicalSpan({ spanId: 'root', start: 0n, end: 10_000n });

  it('folds each record into the span it names, in time order among the span’s own events, and keeps the others', () => {
    const spans = [root, record('r2', 'chat', 'gen_ai.choice', 8_000n, kvlist({ index: 0, message: kvlist({ content: 'Sunny.' }) })), chat, record('r1', 'chat', 'gen_ai.user.message', 2_000n, kvlist({ content: 'Weather?' })), record('r3', 'gone', 'gen_ai.user.message', 3_000n, 'x')];
    const folded = foldLogRecords(spans);
    expect(folded.map((s) => s.spanId)).toEqual(['root', 'chat', 'r3']);
    expect(folded[1]!.events.map((e) => e.name)).toEqual(['gen_ai.user.message', 'exception', 'gen_ai.choice']);
    expect(foldLogRecords([root, chat])).toEqual([root, chat]);
  });

  it('reads prompt and completion from folded message events', () => {
    const [, folded] = foldLogRecords([root, chat, record('s', 'chat', 'gen_ai.system.message', 1_500n, kvlist({ content: 'Be brief.' })), record('u', 'chat', 'gen_ai.user.message', 2_000n, kvlist({ content: 'Weather?' })), record('c', 'chat', 'gen_ai.choice', 8_000n, kvlist({ index: 0, finish_reason: 'stop', message: kvlist({ content: 'Sunny.' }) }))]);
    const semantic = toSemanticSpan(folded!);
    expect(JSON.parse(semantic.prompt!)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
    ]);
    expect(JSON.parse(semantic.completion!)).toEqual([{ role: 'assistant', content: 'Sunny.' }]);
  });

  it('reads the older content span events and the operation details event, and prefers attributes when the span has them', () => {
    const older = canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat' }, events: [spanEvent('gen_ai.content.prompt', 1n, { 'gen_ai.prompt': 'Weather?' }), spanEvent('gen_ai.content.completion', 2n, { 'gen_ai.completion': 'Sunny.' })] });
    expect(toSemanticSpan(older)).toMatchObject({ prompt: 'Weather?', completion: 'Sunny.' });
    const details = canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat' }, events: [spanEvent('gen_ai.client.inference.operation.details', 1n, { 'gen_ai.input.messages': '[{"role":"user"}]', 'gen_ai.output.messages': '[{"role":"assistant"}]' })] });
    expect(toSemanticSpan(details)).toMatchObject({ prompt: '[{"role":"user"}]', completion: '[{"role":"assistant"}]' });
    const both = canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.prompt': 'from attribute' }, events: older.events as SpanEvent[] });
    expect(toSemanticSpan(both).prompt).toBe('from attribute');
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat' } }))).toMatchObject({ prompt: null, completion: null });
  });

  it('makes each model call recorded as a pair of events of a non-model span a chat span under it', () => {
    const call = (at: bigint, attrs: Record<string, AttrInput>, name = 'gen_ai.system.message') => spanEvent(name, at, { 'gen_ai.operation.name': 'chat', ...attrs });
    const session = canonicalSpan({
      spanId: 'root',
      start: 0n,
      end: 100n,
      attributes: { 'agent.name': 'planner' },
      events: [
        call(10n, { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 30 }),
        call(20n, { 'gen_ai.usage.output_tokens': 5 }, 'gen_ai.assistant.message'),
        call(40n, { 'gen_ai.request.model': 'gpt-4o-mini' }),
        spanEvent('user_prompt', 50n, { prompt: 'hi' }),
      ],
    });
    const spans = toSemanticTrace('t', 'trace-1', [session]).spans;
    expect(spans.map((s) => [s.spanId, s.operation, s.model, s.inputTokens, s.outputTokens, s.startNs, s.endNs, s.agentName])).toEqual([
      ['root', 'invoke_agent', null, null, null, 0n, 100n, 'planner'],
      ['root#call1', 'chat', 'gpt-4o', 30, 5, 10n, 20n, 'planner'],
      ['root#call2', 'chat', 'gpt-4o-mini', null, null, 40n, 40n, 'planner'],
    ]);
    // A model call's own details event describes that call: no second call is made of it.
    const chatSpan = canonicalSpan({ spanId: 'c', attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' }, events: [call(1n, { 'gen_ai.request.model': 'gpt-4o' }, 'gen_ai.client.inference.operation.details')] });
    expect(toSemanticTrace('t', 'trace-2', [chatSpan]).spans).toHaveLength(1);
  });
});
