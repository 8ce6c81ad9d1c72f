import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findAttribute, toPlain, type CanonicalSpan } from '../../../src/model/span.js';
import {
  deriveSpanId,
  deriveTraceId,
  eventsToSpans,
  sessionRootSpan,
  sessionRootSpanId,
  SessionInputError,
  sessionTraceId,
  statusOf,
  type SessionIdentity,
} from '../../../src/ingest/sessions/convert.js';
import { batchSchema, eventSchema, eventsSchema, type SessionEvent } from '../../../src/ingest/sessions/schema.js';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';

const session: SessionIdentity = {
  tenantId: 'acme',
  sessionId: 'sess-1',
  traceId: deriveTraceId('sess-1'),
  rootSpanId: sessionRootSpanId('sess-1', undefined),
  fields: { sessionId: 'sess-1', threadId: 'thread-9', agent: { name: 'researcher', model: 'gpt-4o', version: '2' } },
};

const T0 = 1_736_935_200_000_000_000n;

function convert(events: unknown[], firstOrdinal = 0): CanonicalSpan[] {
  const parsed = events.map((e) => eventSchema.parse(e));
  return eventsToSpans(session, parsed, { firstOrdinal, baseNs: T0, receivedAtMs: 1, path: 'body.events' });
}

const attr = (span: CanonicalSpan, key: string) => {
  const value = findAttribute(span.attributes, key);
  return value === undefined ? undefined : toPlain(value);
};

describe('session ids', () => {
  it('derives the trace id as the first 32 hex characters of SHA-256(session id)', () => {
    expect(deriveTraceId('sess-abc123')).toBe(createHash('sha256').update('sess-abc123').digest('hex').slice(0, 32));
    expect(deriveTraceId('sess-abc123')).toMatch(/^[0-9a-f]{32}$/);
    expect(sessionTraceId('s', undefined)).toBe(deriveTraceId('s'));
  });

  it("keeps the producer's ids, normalised as OTLP ids are", () => {
    expect(sessionTraceId('s', '4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(sessionTraceId('s', 'demo-trace-001')).toBe('demo-trace-001');
    expect(sessionRootSpanId('s', '00F067AA0BA902B7')).toBe('00f067aa0ba902b7');
    expect(() => sessionTraceId('s', '0'.repeat(32))).toThrow(SessionInputError);
  });

  it('derives event span ids from the session id and the event id, sequence or position', () => {
    const spans = convert([{ type: 'custom', id: 'e1' }, { type: 'custom', sequence: 7 }, { type: 'custom' }]);
    expect(spans.map((s) => s.spanId)).toEqual([deriveSpanId('sess-1', 'event:e1'), deriveSpanId('sess-1', 'seq:7'), deriveSpanId('sess-1', 'index:2')]);
    expect(spans[0]!.spanId).toMatch(/^[0-9a-f]{16}$/);
    // The same events give the same ids: a re-send de-duplicates.
    expect(convert([{ type: 'custom', id: 'e1' }, { type: 'custom', sequence: 7 }, { type: 'custom' }]).map((s) => s.spanId)).toEqual(
      spans.map((s) => s.spanId),
    );
    // Streamed events continue the session's numbering.
    expect(convert([{ type: 'custom' }], 5)[0]!.spanId).toBe(deriveSpanId('sess-1', 'index:5'));
  });

  it('refuses two events of one request with the same identity, and a trace id other than the session\'s', () => {
    expect(() => convert([{ type: 'custom', id: 'x' }, { type: 'custom', id: 'x' }])).toThrow(/body\.events\.1: has the same identity/);
    expect(() => convert([{ type: 'custom', traceId: 'another-trace' }])).toThrow(/body\.events\.0\.traceId: another-trace differs/);
    expect(convert([{ type: 'custom', traceId: session.traceId.toUpperCase() }])).toHaveLength(1);
  });
});

describe('events → spans', () => {
  it('an llm_call carries the GenAI names the semantic mapper reads', () => {
    const [span] = convert([
      {
        id: 'evt-1',
        type: 'llm_call',
        label: 'Generate response',
        sections: [
          { type: 'system', content: 'Be brief' },
          { type: 'input', content: 'User query' },
          { type: 'output', content: 'Answer' },
        ],
        inputTokens: 500,
        outputTokens: 200,
        cachedInputTokens: 50,
        provider: 'openai',
      },
    ]);
    expect(span!).toMatchObject({ traceId: session.traceId, parentSpanId: session.rootSpanId, name: 'Generate response', kind: 3, source: 'session-events' });
    expect(attr(span!, 'gen_ai.operation.name')).toBe('chat');
    expect(attr(span!, 'gen_ai.request.model')).toBe('gpt-4o');
    expect(attr(span!, 'gen_ai.agent.name')).toBe('researcher');
    expect(attr(span!, 'gen_ai.provider.name')).toBe('openai');
    expect(findAttribute(span!.attributes, 'gen_ai.usage.input_tokens')).toEqual({ type: 'int', value: 500n });
    expect(attr(span!, 'gen_ai.usage.output_tokens')).toBe(200);
    expect(attr(span!, 'gen_ai.usage.cache_read.input_tokens')).toBe(50);
    expect(attr(span!, 'gen_ai.conversation.id')).toBe('thread-9');
    expect(attr(span!, 'session.id')).toBe('sess-1');
    expect(JSON.parse(attr(span!, 'gen_ai.input.messages') as string)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'User query' }] },
    ]);
    expect(JSON.parse(attr(span!, 'gen_ai.output.messages') as string)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'Answer' }] }]);
    // The originals are kept, typed.
    expect(attr(span!, 'session.event.id')).toBe('evt-1');
    expect(attr(span!, 'session.event.inputTokens')).toBe(500);
    expect(attr(span!, 'session.event.sections')).toEqual([
      { type: 'system', content: 'Be brief' },
      { type: 'input', content: 'User query' },
      { type: 'output', content: 'Answer' },
    ]);
    const semantic = toSemanticSpan(span!);
    expect(semantic).toMatchObject({ operation: 'chat', model: 'gpt-4o', agentName: 'researcher', inputTokens: 500, outputTokens: 200, cachedInputTokens: 50, conversationId: 'thread-9' });
  });

  it('a tool_call becomes execute_tool with its name, arguments and result', () => {
    const [fromSections, fromFields] = convert([
      { type: 'tool_call', label: 'Search API', sections: [{ type: 'input', content: '{"query":"x"}' }, { type: 'output', content: '{"results":[]}' }] },
      { id: 'call-7', type: 'tool_call', toolName: 'read_file', toolArguments: { path: '/a' }, toolResult: 'contents', agentName: 'coder' },
    ]);
    expect(toSemanticSpan(fromSections!)).toMatchObject({ operation: 'execute_tool', toolName: 'Search API', toolArguments: '{"query":"x"}', toolResult: '{"results":[]}' });
    expect(fromSections!.name).toBe('Search API');
    expect(toSemanticSpan(fromFields!)).toMatchObject({ operation: 'execute_tool', toolName: 'read_file', toolArguments: '{"path":"/a"}', toolResult: 'contents', agentName: 'coder' });
    expect(fromFields!.name).toBe('execute_tool read_file');
    expect(attr(fromFields!, 'gen_ai.tool.call.id')).toBe('call-7');
    // No model on a tool call, even though the session's agent has one.
    expect(attr(fromFields!, 'gen_ai.request.model')).toBeUndefined();
  });

  it('maps every event type to its operation', () => {
    const types = ['llm_call', 'ai_call', 'summarization', 'embedding', 'retrieval', 'tool_call', 'guardrail', 'custom', 'span'];
    const spans = convert(types.map((type) => ({ type })));
    expect(spans.map((s) => toSemanticSpan(s).operation)).toEqual(['chat', 'chat', 'chat', 'embeddings', 'retrieval', 'execute_tool', 'invoke_agent', 'invoke_agent', 'invoke_agent']);
    expect(spans.map((s) => attr(s, 'session.event.type'))).toEqual(types);
    // guardrail, custom and span declare no GenAI operation; the mapper infers one (here: the agent's).
    expect(attr(spans[6]!, 'gen_ai.operation.name')).toBeUndefined();
  });

  it('times: explicit ones are kept to the nanosecond; missing ones follow the order sent', () => {
    const [explicit, withDuration, inferredA, inferredB] = convert([
      { type: 'custom', startedAt: '2025-01-15T10:00:00.123456789Z', endedAt: '2025-01-15T10:00:01Z' },
      { type: 'custom', timestamp: 1_736_935_200_000, durationMs: 1.5 },
      { type: 'custom' },
      { type: 'custom' },
    ]);
    expect(explicit!.startTimeUnixNano).toBe(1_736_935_200_123_456_789n);
    expect(explicit!.endTimeUnixNano).toBe(1_736_935_201_000_000_000n);
    expect(withDuration!.endTimeUnixNano - withDuration!.startTimeUnixNano).toBe(1_500_000n);
    expect(inferredA!.startTimeUnixNano).toBe(T0 + 2000n);
    expect(inferredB!.startTimeUnixNano).toBe(T0 + 3000n);
    expect(attr(inferredA!, 'session.event.time_inferred')).toBe(true);
    expect(attr(explicit!, 'session.event.time_inferred')).toBeUndefined();
    expect(() => convert([{ type: 'custom', startedAt: 10, endedAt: 5 }])).toThrow(/body\.events\.0\.endedAt: before the event start/);
  });

  it('status and errors become the OTLP status the detectors read', () => {
    const [failed, errored, ok] = convert([
      { type: 'tool_call', toolName: 'x', status: 'failed' },
      { type: 'tool_call', toolName: 'y', error: { message: 'ENOENT', type: 'FileNotFound' } },
      { type: 'llm_call', status: 'success' },
    ]);
    expect(failed!.status).toEqual({ code: 2, message: 'status failed' });
    expect(errored!.status).toEqual({ code: 2, message: 'ENOENT' });
    expect(attr(errored!, 'error.type')).toBe('FileNotFound');
    expect(toSemanticSpan(errored!)).toMatchObject({ isError: true, errorMessage: 'ENOENT' });
    expect(ok!.status.code).toBe(1);
    expect(statusOf(undefined, undefined)).toEqual({ code: 0, message: '' });
  });

  it("an event's own attributes are set as they are and win over derived ones; unknown fields are kept", () => {
    const [span] = convert([{ type: 'llm_call', model: 'a', attributes: { 'gen_ai.request.model': 'b', 'app.user': 'u1' }, customThing: { deep: [1] } }]);
    expect(attr(span!, 'gen_ai.request.model')).toBe('b');
    expect(attr(span!, 'app.user')).toBe('u1');
    expect(attr(span!, 'session.event.customThing')).toEqual({ deep: [1] });
    expect(span!.attributes.filter((kv) => kv.key === 'gen_ai.request.model')).toHaveLength(1);
  });
});

describe('the session root span', () => {
  it('is invoke_agent for the agent, with every session field kept', () => {
    const root = sessionRootSpan(
      { ...session, fields: { ...session.fields, summary: { totalInputTokens: 5 }, status: 'failed' } },
      { startNs: T0, endNs: T0 + 3_000_000_000n, state: 'ended', mode: 'batch', status: 'failed', eventCount: 2, receivedAtMs: 1 },
    );
    expect(root).toMatchObject({ spanId: session.rootSpanId, parentSpanId: '', name: 'invoke_agent researcher', status: { code: 2 } });
    expect(toSemanticSpan(root)).toMatchObject({ operation: 'invoke_agent', agentName: 'researcher', conversationId: 'thread-9' });
    expect(attr(root, 'session.summary')).toEqual({ totalInputTokens: 5 });
    expect(attr(root, 'session.event_count')).toBe(2);
    expect(attr(root, 'session.sessionId')).toBeUndefined();
    expect(findAttribute(root.resource.attributes, 'service.name')).toEqual({ type: 'string', value: 'researcher' });
    // Token totals stay in the summary: on the root they would be counted twice.
    expect(attr(root, 'gen_ai.usage.input_tokens')).toBeUndefined();
  });
});

describe('request schemas', () => {
  const issuePaths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
    result.error?.issues.map((i) => i.path.map(String).join('.')) ?? [];

  it('name the field of each problem', () => {
    expect(issuePaths(batchSchema.safeParse({ events: [{ type: 'llm_call', inputTokens: 1.5 }] }))).toEqual(['sessionId', 'events.0.inputTokens']);
    expect(issuePaths(batchSchema.safeParse({ sessionId: 's', startedAt: 'soon', events: [] }))).toEqual(['startedAt']);
    expect(issuePaths(eventsSchema.safeParse({}))).toEqual(['event']);
    expect(issuePaths(eventsSchema.safeParse({ events: [] }))).toEqual(['events']);
  });

  it('accept the seed example with fields they do not interpret', () => {
    const parsed = batchSchema.parse({ sessionId: 's', source: 'custom', somethingNew: 1, events: [{ type: 'retrieval', extra: true }] });
    expect((parsed as Record<string, unknown>).somethingNew).toBe(1);
    expect((parsed.events[0] as SessionEvent & { extra?: boolean }).extra).toBe(true);
  });
});
