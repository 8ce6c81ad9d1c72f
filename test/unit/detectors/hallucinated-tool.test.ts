import { describe, expect, it } from 'vitest';
import { declaredTools } from '../../../src/detectors/hallucinated-tool.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { toSemanticTrace } from '../../../src/semantic/mapper.js';
import { canonicalSpan, semanticSpan, toolCall } from '../semantic/fixtures.js';
import { detector, run } from './run-detector.js';

const agent = (state: string | null) =>
  semanticSpan({ spanId: 'agent', parentSpanId: '', operation: 'invoke_agent', agentName: 'researcher', state });
const call = (id: string, tool: string) => toolCall(id, tool, '{}', { parentSpanId: 'agent' });

describe('hallucinated_tool detector', () => {
  it('fires on a call to a tool missing from the agent state declaration', () => {
    const findings = run('hallucinated_tool', [agent('{"tools":["web_search","read_url"]}'), call('a', 'web_search'), call('b', 'browse_web'), call('c', 'browse_web')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'hallucinated_tool', affectedSpanIds: ['b', 'c'], agent: 'researcher', severity: 'high' });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ declaredTools: ['read_url', 'web_search'] });
  });

  it('reads declarations from a chat request body with OpenAI-style function objects', () => {
    const chat = semanticSpan({
      spanId: 'llm',
      parentSpanId: 'agent',
      operation: 'chat',
      prompt: JSON.stringify({ messages: [], tools: [{ type: 'function', function: { name: 'web_search' } }] }),
    });
    expect(run('hallucinated_tool', [agent(null), chat, call('a', 'Web_Search'), call('b', 'execute_tool web_search')])).toHaveLength(0);
    expect(run('hallucinated_tool', [agent(null), chat, call('a', 'wiki')])).toHaveLength(1);
  });

  it('reads declarations from the spans\' declared tools, merged across the agent\'s spans', () => {
    const withTools = (id: string, tools: string[] | null) =>
      semanticSpan({ spanId: id, parentSpanId: 'agent', operation: 'chat', declaredTools: tools });
    const spans = [agent(null), withTools('llm1', ['web_search']), withTools('llm2', ['Read_URL']), call('a', 'web_search'), call('b', 'read_url')];
    expect(run('hallucinated_tool', spans)).toHaveLength(0);
    const findings = run('hallucinated_tool', [...spans, call('c', 'browse_web')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ affectedSpanIds: ['c'], agent: 'researcher' });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ declaredTools: ['read_url', 'web_search'] });
    // An explicitly empty list declares no tools: every call is undeclared.
    expect(run('hallucinated_tool', [agent(null), withTools('llm', []), call('a', 'web_search')])).toHaveLength(1);
  });

  it('fires end to end from OpenInference llm.tools attributes through the mapper', () => {
    const trace = toSemanticTrace('t', 'tr', [
      canonicalSpan({ spanId: 'agent', name: 'agent', attributes: { 'gen_ai.agent.name': 'researcher' } }),
      canonicalSpan({
        spanId: 'llm',
        parentSpanId: 'agent',
        start: 2_000_000_000n,
        attributes: { 'openinference.span.kind': 'LLM', 'llm.tools.0.tool.json_schema': '{"type":"function","function":{"name":"web_search"}}' },
      }),
      canonicalSpan({ spanId: 'call', parentSpanId: 'agent', start: 3_000_000_000n, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'browse' } }),
    ]);
    const findings = detector('hallucinated_tool').detect(trace);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ agent: 'researcher', affectedSpanIds: ['call'] });
  });

  it('stays silent when no declaration exists (near miss)', () => {
    expect(run('hallucinated_tool', [agent('{"step":2}'), call('b', 'browse_web')])).toHaveLength(0);
    expect(run('hallucinated_tool', [agent('not json'), call('b', 'browse_web')])).toHaveLength(0);
    // Tools declared by another agent say nothing about this one.
    const other = semanticSpan({ spanId: 'w', parentSpanId: '', operation: 'chat', agentName: 'writer', declaredTools: ['write'] });
    expect(run('hallucinated_tool', [agent(null), other, call('b', 'browse_web')])).toHaveLength(0);
  });

  it('skips ignored tools and validates its config', () => {
    const spans = [agent('{"tools":["web_search"]}'), call('b', 'transfer_to_writer')];
    expect(run('hallucinated_tool', spans, { hallucinated_tool: { ignoreTools: ['Transfer_To_Writer'] } })).toHaveLength(0);
    expect(() => createDetectors({ hallucinated_tool: { ignoreTools: 'x' } })).toThrow(/detector hallucinated_tool: ignoreTools:/);
  });

  it('parses declarations', () => {
    expect(declaredTools('{"functions":[{"name":"a"}],"available_tools":["b",3]}')).toEqual(['b', 'a']);
    expect(declaredTools('[1]')).toBeNull();
    expect(declaredTools(null)).toBeNull();
  });
});
