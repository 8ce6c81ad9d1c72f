import { describe, expect, it } from 'vitest';
import { serviceNameOf, toSemanticSpan, toSemanticTrace } from '../../../src/semantic/mapper.js';
import type { AnyValue } from '../../../src/model/span.js';
import { canonicalSpan, double, empty, exceptionEvent, int, kvlist, text } from './fixtures.js';

describe('toSemanticSpan: current OTel GenAI conventions', () => {
  it('maps a chat span: model, provider, tokens, agent and conversation', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        spanId: 'c1',
        parentSpanId: 'root',
        name: 'chat gpt-4o',
        start: 10n,
        end: 20n,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.provider.name': 'openai',
          'gen_ai.usage.input_tokens': 120,
          'gen_ai.usage.output_tokens': 30,
          'gen_ai.usage.cache_read.input_tokens': 100,
          'gen_ai.agent.name': 'planner',
          'gen_ai.agent.id': 'agent-7',
          'gen_ai.conversation.id': 'conv-1',
        },
      }),
    );
    expect(s).toMatchObject({
      spanId: 'c1',
      parentSpanId: 'root',
      name: 'chat gpt-4o',
      startNs: 10n,
      endNs: 20n,
      operation: 'chat',
      model: 'gpt-4o',
      provider: 'openai',
      inputTokens: 120,
      outputTokens: 30,
      cachedInputTokens: 100,
      agentName: 'planner',
      agentId: 'agent-7',
      conversationId: 'conv-1',
      toolName: null,
      toolArguments: null,
      isError: false,
      errorMessage: null,
    });
  });

  it('maps an execute_tool span: tool name, arguments and result, no prompt or completion', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        name: 'execute_tool web_search',
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 'web_search',
          'gen_ai.tool.call.arguments': '{"query":"tracefold"}',
          'gen_ai.tool.call.result': '{"hits":3}',
          'gen_ai.prompt': 'ignored for tools',
        },
      }),
    );
    expect(s.operation).toBe('execute_tool');
    expect(s.toolName).toBe('web_search');
    expect(s.toolArguments).toBe('{"query":"tracefold"}');
    expect(s.toolResult).toBe('{"hits":3}');
    expect(s.prompt).toBeNull();
    expect(s.completion).toBeNull();
  });

  it('maps an invoke_agent span with its agent name', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher' } }));
    expect(s.operation).toBe('invoke_agent');
    expect(s.agentName).toBe('researcher');
  });

  it('reads the declared operation case-insensitively', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'Execute_Tool' } })).operation).toBe('execute_tool');
  });
});

describe('toSemanticSpan: legacy GenAI names', () => {
  it('reads prompt_tokens, completion_tokens, gen_ai.system, gen_ai.prompt and gen_ai.completion', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'gen_ai.system': 'anthropic',
          'gen_ai.usage.prompt_tokens': 55,
          'gen_ai.usage.completion_tokens': 8,
          'gen_ai.prompt': 'What is 2+2?',
          'gen_ai.completion': '4',
        },
      }),
    );
    expect(s.provider).toBe('anthropic');
    expect(s.inputTokens).toBe(55);
    expect(s.outputTokens).toBe(8);
    expect(s.prompt).toBe('What is 2+2?');
    expect(s.completion).toBe('4');
    // Tokens alone make it a model call.
    expect(s.operation).toBe('chat');
  });
});

describe('toSemanticSpan: OpenInference', () => {
  it('maps a TOOL span: tool.name, input.value as arguments, output.value as result', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'openinference.span.kind': 'TOOL',
          'tool.name': 'calculator',
          'input.value': '{"expr":"1+1"}',
          'output.value': '2',
          'session.id': 'sess-9',
        },
      }),
    );
    expect(s.operation).toBe('execute_tool');
    expect(s.toolName).toBe('calculator');
    expect(s.toolArguments).toBe('{"expr":"1+1"}');
    expect(s.toolResult).toBe('2');
    expect(s.prompt).toBeNull();
    expect(s.completion).toBeNull();
    expect(s.conversationId).toBe('sess-9');
  });

  it('reads a TOOL span\'s arguments from input.value, never from tool.parameters (the tool\'s schema)', () => {
    // As OpenInference instrumentations record a tool call: tool.parameters is the JSON schema
    // of the tool's parameters, identical on every call; input.value is this call's input.
    const schema = JSON.stringify({
      type: 'object',
      properties: { reservation_id: { type: 'string' }, cabin: { type: 'string', enum: ['economy', 'business'] } },
      required: ['reservation_id'],
    });
    const call = (id: string, input: string | null) =>
      toSemanticSpan(
        canonicalSpan({
          spanId: id,
          attributes: {
            'openinference.span.kind': 'TOOL',
            'tool.name': 'update_reservation_flights',
            'tool.description': 'Update the flight information of a reservation.',
            'tool.parameters': schema,
            ...(input === null ? {} : { 'input.value': input }),
            'output.value': '{"reservation_id":"ZFA04Y","status":"updated"}',
          },
        }),
      );
    const first = call('t1', '{"reservation_id":"ZFA04Y","cabin":"economy"}');
    const second = call('t2', '{"reservation_id":"8JX2WO","cabin":"business"}');
    expect(first.toolArguments).toBe('{"reservation_id":"ZFA04Y","cabin":"economy"}');
    expect(second.toolArguments).toBe('{"reservation_id":"8JX2WO","cabin":"business"}');
    // Without an input the arguments are unknown, not the schema.
    expect(call('t3', null).toolArguments).toBeNull();
  });

  it('maps an LLM span: llm.model_name, llm.token_count.*, input.value and output.value as prompt and completion', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.model_name': 'claude-3-5-sonnet',
          'llm.token_count.prompt': 200,
          'llm.token_count.completion': 40,
          'input.value': 'hello',
          'output.value': 'hi there',
        },
      }),
    );
    expect(s.operation).toBe('chat');
    expect(s.model).toBe('claude-3-5-sonnet');
    expect(s.inputTokens).toBe(200);
    expect(s.outputTokens).toBe(40);
    expect(s.prompt).toBe('hello');
    expect(s.completion).toBe('hi there');
    expect(s.toolArguments).toBeNull();
    expect(s.toolResult).toBeNull();
  });

  it.each([
    ['AGENT', 'invoke_agent'],
    ['CHAIN', 'other'],
    ['RETRIEVER', 'retrieval'],
    ['TOOL', 'execute_tool'],
    ['LLM', 'chat'],
  ] as const)('maps span kind %s to %s', (kind, operation) => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'openinference.span.kind': kind } })).operation).toBe(operation);
  });
});

describe('toSemanticSpan: framework attributes', () => {
  it.each(['langgraph.node.name', 'crewai.agent.role', 'autogen.agent.name', 'openclaw.agent.name'])(
    'takes the agent name from %s and infers invoke_agent',
    (key) => {
      const s = toSemanticSpan(canonicalSpan({ name: 'node', attributes: { [key]: 'writer' } }));
      expect(s.agentName).toBe('writer');
      expect(s.operation).toBe('invoke_agent');
    },
  );

  it.each(['gen_ai.state', 'langgraph.state', 'crewai.state', 'openclaw.session.state'])('takes the agent state from %s', (key) => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { [key]: '{"step":3}' } }));
    expect(s.state).toBe('{"step":3}');
  });

  it('renders a structured state value as JSON text', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'langgraph.state': kvlist({ step: 3, done: false }) } }));
    expect(JSON.parse(s.state ?? 'null')).toEqual({ step: 3, done: false });
  });
});

describe('toSemanticSpan: precedence', () => {
  it('prefers current names over legacy and OpenInference names when both are present', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'gen_ai.usage.prompt_tokens': 999,
          'gen_ai.usage.input_tokens': 10,
          'llm.token_count.completion': 888,
          'gen_ai.usage.output_tokens': 5,
          'gen_ai.system': 'legacy-provider',
          'gen_ai.provider.name': 'current-provider',
          'llm.model_name': 'legacy-model',
          'gen_ai.request.model': 'current-model',
        },
      }),
    );
    expect(s.inputTokens).toBe(10);
    expect(s.outputTokens).toBe(5);
    expect(s.provider).toBe('current-provider');
    expect(s.model).toBe('current-model');
  });

  // The mapper lists gen_ai.prompt / gen_ai.completion (legacy) ahead of the
  // current gen_ai.input.messages / gen_ai.output.messages, against its "newest first" rule.
  it('prefers gen_ai.input.messages over the legacy gen_ai.prompt', () => {
    const s = toSemanticSpan(
      canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.prompt': 'legacy', 'gen_ai.input.messages': 'current' } }),
    );
    expect(s.prompt).toBe('current');
  });

  it('prefers gen_ai.output.messages over the legacy gen_ai.completion', () => {
    const s = toSemanticSpan(
      canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.completion': 'legacy', 'gen_ai.output.messages': 'current' } }),
    );
    expect(s.completion).toBe('current');
  });

  it('prefers gen_ai.operation.name over openinference.span.kind', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'execute_tool', 'openinference.span.kind': 'LLM' } }));
    expect(s.operation).toBe('execute_tool');
  });

  it('lets a span attribute override the same resource attribute', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        resource: { 'gen_ai.agent.name': 'resource-agent', 'gen_ai.provider.name': 'resource-provider' },
        attributes: { 'gen_ai.agent.name': 'span-agent' },
      }),
    );
    expect(s.agentName).toBe('span-agent');
    // Resource attributes still apply where the span says nothing.
    expect(s.provider).toBe('resource-provider');
  });

  it('lets a span attribute override the same scope attribute', () => {
    const s = toSemanticSpan(canonicalSpan({ scope: { 'gen_ai.request.model': 'scope-model' }, attributes: { 'gen_ai.request.model': 'span-model' } }));
    expect(s.model).toBe('span-model');
  });

  it('skips empty values and falls through to the next name', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.request.model': empty(), 'llm.model_name': 'fallback-model' } }));
    expect(s.model).toBe('fallback-model');
  });
});

describe('toSemanticSpan: errors', () => {
  it('marks status code 2 as an error with the status message', () => {
    const s = toSemanticSpan(canonicalSpan({ status: { code: 2, message: 'rate limited' } }));
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('rate limited');
  });

  it('uses the exception message when status 2 has no message', () => {
    const s = toSemanticSpan(
      canonicalSpan({ status: { code: 2, message: '' }, events: [exceptionEvent({ 'exception.message': 'boom', 'exception.type': 'ValueError' })] }),
    );
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('ValueError: boom');
  });

  it('uses error.type when status 2 has neither message nor exception', () => {
    const s = toSemanticSpan(canonicalSpan({ status: { code: 2, message: '' }, attributes: { 'error.type': 'timeout' } }));
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('timeout');
  });

  it('marks a span with an exception event as an error even when its status is unset', () => {
    const s = toSemanticSpan(canonicalSpan({ events: [exceptionEvent({ 'exception.message': 'tool crashed' })] }));
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('tool crashed');
  });

  it('falls back to exception.type when the exception event has no message', () => {
    const s = toSemanticSpan(canonicalSpan({ events: [exceptionEvent({ 'exception.type': 'KeyError' })] }));
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('KeyError');
  });

  it('marks a span with error.type as an error', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'error.type': '500' } }));
    expect(s.isError).toBe(true);
    expect(s.errorMessage).toBe('500');
  });

  it('does not mark status OK or unset spans, nor spans with other events, as errors', () => {
    const ok = toSemanticSpan(canonicalSpan({ status: { code: 1, message: '' } }));
    const other = toSemanticSpan(
      canonicalSpan({ events: [{ timeUnixNano: 1n, name: 'gen_ai.choice', attributes: [], droppedAttributesCount: 0 }] }),
    );
    expect(ok.isError).toBe(false);
    expect(ok.errorMessage).toBeNull();
    expect(other.isError).toBe(false);
  });
});

describe('toSemanticSpan: operation inference without an explicit operation', () => {
  it('infers execute_tool from a tool name', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'tool.name': 'grep' } })).operation).toBe('execute_tool');
  });

  it('infers chat from token counts', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.usage.output_tokens': 3 } })).operation).toBe('chat');
  });

  it('infers chat from a model name', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.request.model': 'gpt-4o-mini' } })).operation).toBe('chat');
  });

  it('infers invoke_agent from an agent name', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.agent.name': 'planner' } })).operation).toBe('invoke_agent');
  });

  it('infers execute_tool from a span name starting with "tool", naming the tool after the span', () => {
    const s = toSemanticSpan(canonicalSpan({ name: 'Tool: fetch_url' }));
    expect(s.operation).toBe('execute_tool');
    expect(s.toolName).toBe('Tool: fetch_url');
  });

  it('falls back to other', () => {
    const s = toSemanticSpan(canonicalSpan({ name: 'prepare' }));
    expect(s.operation).toBe('other');
    expect(s.toolName).toBeNull();
  });

  it('infers from attributes when the declared operation is unknown', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'frobnicate', 'gen_ai.request.model': 'm' } }));
    expect(s.operation).toBe('chat');
  });
});

describe('toSemanticSpan: token counts', () => {
  it.each([
    ['an int', int(42)],
    ['a double', double(42)],
    ['a numeric string', text('42')],
  ])('reads a count given as %s', (_label, value) => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.usage.input_tokens': value, 'gen_ai.usage.output_tokens': value } }));
    expect(s.inputTokens).toBe(42);
    expect(s.outputTokens).toBe(42);
  });

  it('rounds a fractional double', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.usage.input_tokens': double(41.6) } })).inputTokens).toBe(42);
  });

  it.each([
    ['a negative count', int(-5)],
    ['a non-numeric string', text('many')],
    ['a boolean', { type: 'bool', value: true } as const],
  ])('ignores %s', (_label, value) => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.usage.input_tokens': value } })).inputTokens).toBeNull();
  });

  it('leaves absent counts null', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat' } }));
    expect(s.inputTokens).toBeNull();
    expect(s.outputTokens).toBeNull();
    expect(s.cachedInputTokens).toBeNull();
  });
});

describe('toSemanticTrace', () => {
  it('orders spans by start time, then span id', () => {
    const spans = [
      canonicalSpan({ spanId: 'd', parentSpanId: 'a', start: 300n }),
      canonicalSpan({ spanId: 'c', parentSpanId: 'a', start: 200n }),
      canonicalSpan({ spanId: 'b', parentSpanId: 'a', start: 200n }),
      canonicalSpan({ spanId: 'a', start: 100n }),
    ];
    const trace = toSemanticTrace('t1', 'tr1', spans);
    expect(trace.spans.map((s) => s.spanId)).toEqual(['a', 'b', 'c', 'd']);
    expect(trace.tenantId).toBe('t1');
    expect(trace.traceId).toBe('tr1');
  });

  it("takes the service name from the root's resource, not the earliest span's", () => {
    const spans = [
      canonicalSpan({ spanId: 'child', parentSpanId: 'root', start: 50n, resource: { 'service.name': 'tool-server' } }),
      canonicalSpan({ spanId: 'root', start: 100n, resource: { 'service.name': 'agent-app' } }),
    ];
    expect(toSemanticTrace('t', 'tr', spans).serviceName).toBe('agent-app');
  });

  it('uses the earliest span when no span is a root', () => {
    const spans = [
      canonicalSpan({ spanId: 'late', parentSpanId: 'missing', start: 200n, resource: { 'service.name': 'late-svc' } }),
      canonicalSpan({ spanId: 'early', parentSpanId: 'missing', start: 100n, resource: { 'service.name': 'early-svc' } }),
    ];
    expect(toSemanticTrace('t', 'tr', spans).serviceName).toBe('early-svc');
  });

  it('says unknown_service for a trace without spans or without service.name', () => {
    expect(toSemanticTrace('t', 'tr', []).serviceName).toBe('unknown_service');
    expect(serviceNameOf(canonicalSpan())).toBe('unknown_service');
  });

  it('does not reorder the input array', () => {
    const spans = [canonicalSpan({ spanId: 'b', start: 2n }), canonicalSpan({ spanId: 'a', start: 1n })];
    toSemanticTrace('t', 'tr', spans);
    expect(spans.map((s) => s.spanId)).toEqual(['b', 'a']);
  });
});

describe('toSemanticSpan: agent role', () => {
  it.each(['gen_ai.agent.description', 'agent.role', 'agent.description', 'crewai.agent.goal', 'crewai.agent.backstory', 'gen_ai.system_instructions'])(
    'reads the role from %s',
    (key) => {
      expect(toSemanticSpan(canonicalSpan({ attributes: { [key]: 'Verify every figure against a source.' } })).agentRole).toBe(
        'Verify every figure against a source.',
      );
    },
  );

  it('prefers the agent description over the goal, the backstory and the system instructions', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'gen_ai.system_instructions': 'You are helpful.',
          'crewai.agent.backstory': 'A veteran.',
          'crewai.agent.goal': 'Find sources.',
          'gen_ai.agent.description': 'Researches sources.',
        },
      }),
    );
    expect(s.agentRole).toBe('Researches sources.');
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'crewai.agent.backstory': 'A veteran.', 'crewai.agent.goal': 'Find sources.' } })).agentRole).toBe(
      'Find sources.',
    );
  });

  it('keeps crewai.agent.role as the agent name, not the role text', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'crewai.agent.role': 'Researcher', 'crewai.agent.goal': 'Find sources.' } }));
    expect(s.agentName).toBe('Researcher');
    expect(s.agentRole).toBe('Find sources.');
  });

  it('joins the text parts of system instructions given as a JSON message list', () => {
    const parts = JSON.stringify([
      { type: 'text', content: 'You are the verifier.' },
      { type: 'image', uri: 'x' },
      { type: 'text', content: 'Check every number.' },
    ]);
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.system_instructions': parts } })).agentRole).toBe(
      'You are the verifier.\nCheck every number.',
    );
    const messages = JSON.stringify([{ role: 'system', parts: [{ type: 'text', content: 'Write code.' }] }, { role: 'system', content: 'Be brief.' }]);
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.system_instructions': messages } })).agentRole).toBe('Write code.\nBe brief.');
  });

  it('leaves the role null when none is declared', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.agent.name': 'writer' } })).agentRole).toBeNull();
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.system_instructions': '[]' } })).agentRole).toBeNull();
  });
});

describe('toSemanticSpan: declared tools', () => {
  const arrayOf = (...values: AnyValue[]): AnyValue => ({ type: 'array', values });

  it.each(['gen_ai.tool.definitions', 'gen_ai.agent.tools', 'llm.tools'])('reads a JSON list of names and objects from %s', (key) => {
    const tools = JSON.stringify(['web_search', { name: 'read_url' }, { type: 'function', function: { name: 'run_code' } }, 42]);
    expect(toSemanticSpan(canonicalSpan({ attributes: { [key]: tools } })).declaredTools).toEqual(['web_search', 'read_url', 'run_code']);
  });

  it('reads an OTLP array of names, JSON strings and kvlists', () => {
    const s = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'gen_ai.tool.definitions': arrayOf(
            text('web_search'),
            text('{"type":"function","function":{"name":"read_url"}}'),
            kvlist({ name: 'run_code', description: 'Runs Python' }),
          ),
        },
      }),
    );
    expect(s.declaredTools).toEqual(['web_search', 'read_url', 'run_code']);
  });

  it('reads OpenInference tool schemas, listed and flattened (llm.tools.N.tool.json_schema)', () => {
    const schema = (name: string) => JSON.stringify({ type: 'function', function: { name, parameters: {} } });
    const flattened = toSemanticSpan(
      canonicalSpan({
        attributes: {
          'llm.tools.1.tool.json_schema': schema('read_url'),
          'llm.tools.0.tool.json_schema': schema('web_search'),
          'llm.tools.10.tool.json_schema': JSON.stringify({ name: 'calculator' }),
          'llm.tools.2.tool.json_schema': 'not json',
        },
      }),
    );
    expect(flattened.declaredTools).toEqual(['web_search', 'read_url', 'calculator']);
    const listed = toSemanticSpan(canonicalSpan({ attributes: { 'llm.tools': JSON.stringify([{ tool: { json_schema: schema('web_search') } }]) } }));
    expect(listed.declaredTools).toEqual(['web_search']);
  });

  it('prefers gen_ai.tool.definitions and drops repeats', () => {
    const s = toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.tool.definitions': '["a","b","a"]', 'llm.tools': '["c"]' } }));
    expect(s.declaredTools).toEqual(['a', 'b']);
  });

  it('is null without a declaration or with entries it cannot read, [] for an explicitly empty list', () => {
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat' } })).declaredTools).toBeNull();
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.tool.definitions': '[{"description":"x"}]' } })).declaredTools).toBeNull();
    expect(toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.tool.definitions': '[]' } })).declaredTools).toEqual([]);
  });
});

/**
 * Attribute shapes of real producers (the README's compatibility matrix), one test per
 * mapping: what each sends for agents, tool calls, usage and errors.
 */
describe('toSemanticSpan: producers as they send', () => {
  const map = (attributes: Record<string, unknown>, init: Parameters<typeof canonicalSpan>[0] = {}) =>
    toSemanticSpan(canonicalSpan({ ...init, attributes: attributes as never }));

  describe('OpenInference (openinference-instrumentation-openai, -langchain)', () => {
    it('names the agent of an AGENT span by the span, as @tracer.agent(name=…) records it', () => {
      expect(map({ 'openinference.span.kind': 'AGENT', 'input.value': 'weather?' }, { name: 'weather_agent' })).toMatchObject({ operation: 'invoke_agent', agentName: 'weather_agent' });
      // An explicit agent.name still wins.
      expect(map({ 'openinference.span.kind': 'AGENT', 'agent.name': 'planner' }, { name: 'run' }).agentName).toBe('planner');
    });

    it('reads a tool call’s arguments from input.value, never from the tool’s parameter schema', () => {
      const schema = '{"type":"object","properties":{"city":{"type":"string"}}}';
      const a = map({ 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather', 'tool.parameters': schema, 'input.value': '{"city": "Paris"}' });
      const b = map({ 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather', 'tool.parameters': schema, 'input.value': '{"city": "Oslo"}' });
      expect([a.toolArguments, b.toolArguments]).toEqual(['{"city": "Paris"}', '{"city": "Oslo"}']);
      // Without input.value the arguments are unknown, not the schema.
      expect(map({ 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather', 'tool.parameters': schema }).toolArguments).toBeNull();
    });

    it('makes a LangGraph node’s own CHAIN span the agent step and names every run inside the node after it', () => {
      const metadata = (node: string) => JSON.stringify({ langgraph_step: 1, langgraph_node: node, langgraph_triggers: ['branch:to:agent'], thread_id: 't1' });
      expect(map({ 'openinference.span.kind': 'CHAIN', metadata: metadata('agent') }, { name: 'agent' })).toMatchObject({ operation: 'invoke_agent', agentName: 'agent' });
      // Inside the node: a prompt, a RunnableSequence, the conditional edge; not agents, but the node's.
      for (const name of ['RunnableSequence', 'ChatPromptTemplate', 'should_continue']) {
        expect(map({ 'openinference.span.kind': 'CHAIN', metadata: metadata('agent') }, { name })).toMatchObject({ operation: 'other', agentName: 'agent' });
      }
      expect(map({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', metadata: metadata('agent') }, { name: 'ChatOpenAI' })).toMatchObject({ operation: 'chat', agentName: 'agent' });
      // The graph itself and LangGraph's own nodes are no agents.
      expect(map({ 'openinference.span.kind': 'CHAIN' }, { name: 'LangGraph' })).toMatchObject({ operation: 'other', agentName: null });
      expect(map({ 'openinference.span.kind': 'CHAIN', metadata: metadata('__start__') }, { name: '__start__' })).toMatchObject({ operation: 'other', agentName: null });
    });
  });

  describe('errors with Python tracebacks (LangChain records the traceback as the status message)', () => {
    const traceback = [
      'Traceback (most recent call last):',
      '  File "/venv/lib/python3.11/site-packages/langchain_core/tools/base.py", line 587, in run',
      '    response = context.run(self._run, *tool_args, **tool_kwargs)',
      '  File "/venv/lib/python3.11/site-packages/concurrent/futures/_base.py", line 456, in result',
      '    return fut.result(timeout)',
      'ValueError: no weather station for Atlantis',
    ].join('\n');

    it('reads the exception’s type and message, not the traceback’s source lines', () => {
      const s = map({ 'openinference.span.kind': 'TOOL', 'tool.name': 'get_weather' }, { status: { code: 2, message: traceback } });
      expect(s).toMatchObject({ isError: true, errorMessage: 'ValueError: no weather station for Atlantis' });
      expect(s.errorMessage).not.toContain('timeout');
    });

    it('prefers the exception event to a traceback status', () => {
      const s = map({}, { status: { code: 2, message: traceback }, events: [exceptionEvent({ 'exception.type': 'KeyError', 'exception.message': "'Atlantis'", 'exception.stacktrace': traceback })] });
      expect(s.errorMessage).toBe("KeyError: 'Atlantis'");
    });

    it('shortens a long message to what a description can show', () => {
      const s = map({}, { status: { code: 2, message: `RuntimeError: ${'x'.repeat(5000)}` } });
      expect(s.errorMessage!.length).toBeLessThanOrEqual(500);
      expect(s.errorMessage!.startsWith('RuntimeError: xxx')).toBe(true);
    });
  });

  describe('traceloop / OpenLLMetry (traceloop-sdk)', () => {
    it('maps a workflow root to the run and a tool task to its tool, arguments and result from the entity input and output', () => {
      expect(map({ 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'weather_workflow', 'traceloop.workflow.name': 'weather_workflow' }).operation).toBe('invoke_agent');
      const tool = map(
        { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'get_weather', 'traceloop.entity.input': '{"args": [], "kwargs": {"city": "Paris"}}', 'traceloop.entity.output': '"sunny"' },
        { name: 'get_weather.tool' },
      );
      expect(tool).toMatchObject({ operation: 'execute_tool', toolName: 'get_weather', toolArguments: '{"args": [], "kwargs": {"city": "Paris"}}', toolResult: '"sunny"' });
      expect(map({ 'traceloop.span.kind': 'agent', 'traceloop.entity.name': 'forecaster' }, { name: 'forecaster.agent' })).toMatchObject({ operation: 'invoke_agent', agentName: 'forecaster' });
    });
  });

  describe('flattened arguments (agent-strace, OpenLLMetry tool inputs)', () => {
    it('rebuilds the arguments object from gen_ai.tool.input.<name> and tool.input.<name>', () => {
      expect(map({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'write_file', 'gen_ai.tool.input.path': '/tmp/a', 'gen_ai.tool.input.content': 'hi' }).toolArguments).toBe(
        '{"content":"hi","path":"/tmp/a"}',
      );
      expect(map({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'bash', 'tool.input.command': 'ls' }).toolArguments).toBe('{"command":"ls"}');
    });
  });

  describe('Vercel AI SDK (experimental_telemetry)', () => {
    it('maps the driving call, its model calls and tool calls without counting usage twice', () => {
      const top = map({ 'ai.operationId': 'ai.generateText', 'ai.model.id': 'gpt-4o', 'ai.usage.promptTokens': 300, 'ai.usage.completionTokens': 40, 'ai.telemetry.functionId': 'weather-agent' }, { name: 'ai.generateText' });
      expect(top).toMatchObject({ operation: 'invoke_agent', agentName: 'weather-agent', inputTokens: null, outputTokens: null });
      const call = map({ 'ai.operationId': 'ai.generateText.doGenerate', 'ai.model.id': 'gpt-4o', 'ai.model.provider': 'openai.chat', 'ai.usage.promptTokens': 150, 'ai.usage.completionTokens': 20 }, { name: 'ai.generateText.doGenerate' });
      expect(call).toMatchObject({ operation: 'chat', model: 'gpt-4o', provider: 'openai.chat', inputTokens: 150, outputTokens: 20 });
      const tool = map({ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'weather', 'ai.toolCall.id': 'call_1', 'ai.toolCall.args': '{"city":"Paris"}', 'ai.toolCall.result': '{"temp":21}' }, { name: 'ai.toolCall' });
      expect(tool).toMatchObject({ operation: 'execute_tool', toolName: 'weather', toolArguments: '{"city":"Paris"}', toolResult: '{"temp":21}' });
    });
  });

  describe('Agenta (ag.*)', () => {
    it('reads ag.type.span and ag.data flat or nested', () => {
      expect(map({ 'ag.type.span': 'llm' }).operation).toBe('chat');
      const nested = toSemanticSpan(
        canonicalSpan({ attributes: { ag: kvlist({ type: kvlist({ trace: 'invocation', span: 'tool' }), data: kvlist({ inputs: kvlist({ country: 'France' }), outputs: 'Paris' }) }) } }),
      );
      expect(nested).toMatchObject({ operation: 'execute_tool', toolArguments: '{"country":"France"}', toolResult: 'Paris' });
      expect(map({ 'ag.type.span': 'workflow', 'ag.data.inputs': '{"country":"France"}', 'ag.data.outputs': 'Paris' })).toMatchObject({ operation: 'invoke_agent', prompt: '{"country":"France"}', completion: 'Paris' });
    });
  });

  describe('Pisama (pisama.auto, pisama Client)', () => {
    it('reads the prompt and completion from gen_ai.content.*', () => {
      expect(map({ 'gen_ai.agent.name': 'researcher', 'gen_ai.request.model': 'claude-sonnet-4', 'gen_ai.content.prompt': 'find prices', 'gen_ai.content.completion': '$20' })).toMatchObject({
        operation: 'chat',
        agentName: 'researcher',
        prompt: 'find prices',
        completion: '$20',
      });
    });
  });
});
