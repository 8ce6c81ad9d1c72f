import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { produced, run } from './run-detector.js';

const at = (t: number): Partial<SemanticSpan> => ({ startNs: BigInt(t), endNs: BigInt(t + 5) });
const fail = (id: string, tool: string, t: number) => toolCall(id, tool, '{}', { ...at(t), isError: true, errorMessage: 'HTTP 500' });
const ok = (id: string, tool: string, t: number) => toolCall(id, tool, '{}', at(t));
const final = (completion: string, t = 100) => semanticSpan({ spanId: 'final', operation: 'chat', agentName: 'writer', completion, ...at(t) });

describe('premature_termination detector', () => {
  it('reports a success claim after an unresolved error, attributed to the claiming agent', () => {
    const findings = run('premature_termination', [ok('s', 'search', 0), fail('f', 'fetch', 10), final('All done! The report is finished.')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'premature_termination', severity: 'high', agent: 'writer', affectedSpanIds: ['f', 'final'] });
  });

  it('stays silent when the failed step was retried successfully', () => {
    expect(run('premature_termination', [fail('f', 'fetch', 10), ok('r', 'fetch', 20), final('Task complete.')])).toHaveLength(0);
  });

  it('stays silent when the final output does not claim success', () => {
    expect(run('premature_termination', [fail('f', 'fetch', 10), final('I could not complete the task: the fetch failed.')])).toHaveLength(0);
    expect(run('premature_termination', [fail('f', 'fetch', 10), final('Here is a partial draft.')])).toHaveLength(0);
  });

  it('reads a final state with a done status as a claim', () => {
    const last = semanticSpan({ spanId: 'st', agentName: 'planner', state: '{"status":"complete"}', ...at(50) });
    const findings = run('premature_termination', [fail('f', 'fetch', 10), last]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.agent).toBe('planner');
  });

  it('validates its config', () => {
    expect(() => createDetectors({ premature_termination: { minUnresolvedErrors: 0 } })).toThrow(/detector premature_termination: minUnresolvedErrors:/);
    const spans = [fail('f', 'fetch', 10), final('Done.')];
    expect(run('premature_termination', spans, { premature_termination: { minUnresolvedErrors: 2 } })).toHaveLength(0);
  });

  describe('recovery by another route (OTel GenAI spans of a retail support agent)', () => {
    const root = { id: 'run', parent: '', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'retail_agent' } };
    const call = (id: string, tool: string, args: object, result: string) => ({
      id,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'gen_ai.tool.call.arguments': JSON.stringify(args), 'gen_ai.tool.call.result': result },
      ...(result.startsWith('Error:') ? { error: result } : {}),
    });
    const reply = (id: string, text: string) => ({
      id,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]),
      },
    });
    const exchange = call(
      't1',
      'exchange_delivered_order_items',
      { order_id: '#W2378156', item_ids: ['4602305039'], new_item_ids: ['4806644905'], payment_method_id: 'credit_card_9513926' },
      'Error: new item 4806644905 not found or available',
    );
    const done = reply('c9', 'Your return has been successfully processed. The refund will reach your credit card in 5 to 7 business days.');

    it('stays silent when the exchange failed and the return of the same order then succeeded', () => {
      const spans = produced([
        root,
        exchange,
        call('t2', 'return_delivered_order_items', { order_id: '#W2378156', item_ids: ['4602305039'], payment_method_id: 'credit_card_9513926' }, '{"order_id":"#W2378156","status":"return requested"}'),
        done,
      ]);
      expect(run('premature_termination', spans)).toHaveLength(0);
    });

    it('stays silent when the agent told the user the exchange failed before claiming success of what it did instead', () => {
      const spans = produced([root, exchange, reply('c2', 'I am sorry, the new item for the exchange is not available. Would you like a return instead?'), done]);
      expect(run('premature_termination', spans)).toHaveLength(0);
    });

    it('fires when only an unrelated call succeeded and nothing told the user', () => {
      const spans = produced([root, exchange, call('t2', 'get_product_details', { product_id: '6938111410' }, '{"name":"Desk Lamp"}'), reply('c9', 'Your exchange has been successfully processed.')]);
      const findings = run('premature_termination', spans);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ severity: 'high', agent: 'retail_agent', affectedSpanIds: ['t1', 'c9'] });
    });
  });
});
