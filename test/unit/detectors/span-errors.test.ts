import { describe, expect, it } from 'vitest';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { produced, run } from './run-detector.js';

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

    it('names no cause when the agent made no earlier model call', () => {
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

  describe('the cause on OpenInference traces, whose model and tool spans name no agent', () => {
    const llm = (id: string, parent: string) => ({
      id,
      parent,
      attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 2810, 'input.value': 'Find my order.', 'output.value': '{"tool_calls":[]}' },
    });
    const tool = (id: string, parent: string, error?: string) => ({
      id,
      parent,
      attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'get_order_details', 'input.value': '{"order_id":"#W7273336"}', 'output.value': 'Error: order not found' },
      ...(error === undefined ? {} : { error }),
    });

    it('names the model call under the same parent as the failing tool', () => {
      const spans = produced([
        { id: 'agent', parent: '', attributes: { 'openinference.span.kind': 'AGENT', 'input.value': 'Return my order.' } },
        llm('llm1', 'agent'),
        tool('tool1', 'agent', 'Error: order not found'),
      ]);
      // The AGENT span is named by its span name (what @tracer.agent(name=…) sets); the calls under it name none.
      expect(spans.map((s) => s.agentName)).toEqual(['agent', null, null]);
      const [finding] = run('span_errors', spans);
      expect(finding).toMatchObject({ detectionType: 'tool_failure', affectedSpanIds: ['llm1', 'tool1'], agent: 'agent' });
      expect(finding!.evidence[1]!.data).toMatchObject({ relation: 'previous_model_call', spanId: 'llm1' });
    });

    it('looks into the tool parent\'s subtree, not at a model call of another branch', () => {
      const spans = produced([
        { id: 'agent', parent: '', attributes: { 'openinference.span.kind': 'AGENT' } },
        { id: 'planner', parent: 'agent', attributes: { 'openinference.span.kind': 'CHAIN' } },
        llm('plan-llm', 'planner'),
        { id: 'other', parent: '', attributes: { 'openinference.span.kind': 'CHAIN' } },
        llm('other-llm', 'other'),
        tool('tool1', 'agent', 'Error: order not found'),
      ]);
      expect(run('span_errors', spans)[0]!.affectedSpanIds).toEqual(['plan-llm', 'tool1']);
    });
  });

  describe('severity by the failure\'s effect on the run (OTel GenAI spans of a support agent)', () => {
    const reply = (id: string, text: string) => ({
      id,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]),
      },
    });
    const decide = (id: string, tool: string, args: object) => ({
      id,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: `call_${id}`, name: tool, arguments: args }], finish_reason: 'tool_call' }]),
      },
    });
    const call = (id: string, tool: string, args: object, result: string) => ({
      id,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool,
        'gen_ai.tool.call.arguments': JSON.stringify(args),
        'gen_ai.tool.call.result': result,
      },
      ...(result.startsWith('Error:') ? { error: result } : {}),
    });
    const root = { id: 'run', parent: '', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'retail_agent' } };
    const returnArgs = { order_id: '#W5918442', item_ids: ['4964153421'], payment_method_id: 'gift_card_9636813' };
    const refused = 'Error: non-delivered order cannot be returned';

    it('is low when the agent tells the user what failed, with the reply as evidence', () => {
      const spans = produced([
        root,
        decide('c1', 'return_delivered_order_items', returnArgs),
        call('t1', 'return_delivered_order_items', returnArgs, refused),
        reply('c2', 'I am sorry, but order #W5918442 has not been delivered yet, so it cannot be returned. You could cancel it instead.'),
      ]);
      const [finding] = run('span_errors', spans);
      expect(finding).toMatchObject({ severity: 'low', agent: 'retail_agent', affectedSpanIds: ['c1', 't1'] });
      expect(finding!.evidence.at(-1)!.data).toMatchObject({ handling: 'explained', spanId: 'c2' });
    });

    it('is low when another route on the same object succeeds, or the same step succeeds on a retry', () => {
      const exchange = { order_id: '#W5918442', item_ids: ['4964153421'], new_item_ids: ['6469567736'], payment_method_id: 'gift_card_9636813' };
      const route = produced([
        root,
        call('t1', 'exchange_delivered_order_items', exchange, 'Error: new item 6469567736 not available'),
        call('t2', 'return_delivered_order_items', returnArgs, '{"order_id":"#W5918442","status":"return requested"}'),
      ]);
      expect(run('span_errors', route)[0]!.evidence.at(-1)!.data).toMatchObject({ handling: 'another_route', spanId: 't2' });
      expect(run('span_errors', route)[0]!.severity).toBe('low');
      const retried = produced([
        root,
        call('t1', 'book_reservation', { user_id: 'mia_li_3668', total: 255 }, 'Error: payment amount does not add up, total price is 305, but paid 255'),
        call('t2', 'book_reservation', { user_id: 'mia_li_3668', total: 305 }, '{"reservation_id":"HATHAT"}'),
      ]);
      expect(run('span_errors', retried)[0]).toMatchObject({ severity: 'low', title: 'Tool failed (handled): book_reservation' });
    });

    it('stays high when nothing answers the error: the run ends, or the reply ignores it, or only unrelated calls succeed', () => {
      const ends = produced([root, decide('c1', 'return_delivered_order_items', returnArgs), call('t1', 'return_delivered_order_items', returnArgs, refused)]);
      expect(run('span_errors', ends)[0]!.severity).toBe('high');
      const ignored = produced([
        root,
        call('t1', 'return_delivered_order_items', returnArgs, refused),
        reply('c2', 'Your return has been processed and the refund will reach your gift card in 5 to 7 business days.'),
      ]);
      expect(run('span_errors', ignored)[0]!.severity).toBe('high');
      const unrelated = produced([
        root,
        call('t1', 'return_delivered_order_items', returnArgs, refused),
        call('t2', 'get_product_details', { product_id: '6938111410' }, '{"name":"Desk Lamp"}'),
      ]);
      expect(run('span_errors', unrelated)[0]!.severity).toBe('high');
    });

    it('lowers a failed model call that a later model call of the agent replaced', () => {
      const spans = produced([root, { ...reply('c1', ''), error: 'openai.InternalServerError: 500' }, reply('c2', 'Here is your order status.')]);
      const [finding] = run('span_errors', spans);
      expect(finding).toMatchObject({ detectionType: 'llm_failure', severity: 'low' });
      expect(finding!.evidence.at(-1)!.data).toMatchObject({ handling: 'retried', spanId: 'c2' });
    });
  });
});
