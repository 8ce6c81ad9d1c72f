/**
 * agent-strace's event stream: the NDJSON lines `agent-strace watch --stream-to URL`
 * POSTs (one TraceEvent a line: event_type, timestamp in seconds, event_id, session_id,
 * parent_id, duration_ms, data), as flat spans for tracefold's flat-span pipeline.
 *
 * Ids follow agent-strace's own OTLP export (otlp.py), so a session streamed as NDJSON and
 * one exported or streamed as OTLP land in the same trace: trace id = SHA-256(session_id)[:32],
 * root span = SHA-256("root-" + session_id)[:16], event span = SHA-256(event_id)[:16].
 *
 * A tool result or LLM response whose call is in the same batch is folded into the call's
 * span, as agent-strace's own OTLP export pairs them (end time, status, output tokens), so a
 * call counts once. One whose call came in an earlier batch becomes a child span of the
 * call's id (`result/<tool>`, `llm_response`), carrying its duration; such a response's
 * output tokens then make it count as a second model call. The session's root span is
 * sent with session_end (start = end - duration when the event says it), which also closes
 * the trace's window at once; until then, the streamed spans wait under the root's id.
 */
import { createHash } from 'node:crypto';

export class StraceEventError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export const straceTraceId = (sessionId: string) => sha(sessionId).slice(0, 32);
export const straceRootSpanId = (sessionId: string) => sha(`root-${sessionId}`).slice(0, 16);
export const straceSpanId = (eventId: string) => sha(eventId).slice(0, 16);

export interface StraceBatch {
  /** Flat span objects (src/ingest/flat/spans.ts). */
  readonly spans: Json[];
  /** Trace ids whose session ended in this batch: their windows close now. */
  readonly endedTraceIds: string[];
}

const EVENT_TYPES = new Set([
  'session_start',
  'session_end',
  'tool_call',
  'tool_result',
  'llm_request',
  'llm_response',
  'file_read',
  'file_write',
  'decision',
  'error',
  'user_prompt',
  'assistant_response',
  'subagent_start',
  'subagent_stop',
]);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses the NDJSON body: one JSON object a line, blank lines skipped; errors name the line. */
export function parseNdjson(text: string): Json[] {
  const out: Json[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new StraceEventError(`body.line ${i + 1}`, `invalid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!isObject(value)) throw new StraceEventError(`body.line ${i + 1}`, 'expected a JSON object (an agent-strace event)');
    out.push(value);
  });
  if (out.length === 0) throw new StraceEventError('body', 'expected NDJSON: one agent-strace event (a JSON object) a line');
  return out;
}

export function straceEventsToSpans(events: readonly Json[]): StraceBatch {
  const spans: Json[] = [];
  const endedTraceIds: string[] = [];
  /** Call spans of this batch by event id, open for their result or response. */
  const calls = new Map<string, Json>();
  events.forEach((event, i) => {
    const path = `body.line ${i + 1}`;
    const type = str(event.event_type);
    if (type === undefined) throw new StraceEventError(`${path}.event_type`, 'missing');
    if (!EVENT_TYPES.has(type)) throw new StraceEventError(`${path}.event_type`, `"${type}" is not an agent-strace event type (${[...EVENT_TYPES].join(', ')})`);
    const sessionId = str(event.session_id);
    if (sessionId === undefined) throw new StraceEventError(`${path}.session_id`, 'missing');
    const eventId = str(event.event_id);
    if (eventId === undefined) throw new StraceEventError(`${path}.event_id`, 'missing');
    const timestamp = num(event.timestamp);
    if (timestamp === undefined) throw new StraceEventError(`${path}.timestamp`, 'expected seconds since the Unix epoch (a number)');
    const durationMs = num(event.duration_ms);
    const data = isObject(event.data) ? event.data : {};
    const traceId = straceTraceId(sessionId);
    const root = straceRootSpanId(sessionId);
    const parentEvent = str(event.parent_id);
    const endMs = timestamp * 1000;
    const startMs = durationMs === undefined ? endMs : endMs - durationMs;
    const attributes: Json = {
      'agent_strace.event_type': type,
      'agent_strace.event_id': eventId,
      'agent_strace.session_id': sessionId,
      'session.id': sessionId,
      ...(Object.keys(data).length === 0 ? {} : { 'agent_strace.data': data }),
    };
    const span: Json = {
      trace_id: traceId,
      span_id: type === 'session_end' ? root : straceSpanId(eventId),
      parent_id: type === 'session_end' ? null : parentEvent === undefined ? root : straceSpanId(parentEvent),
      name: type,
      span_kind: 'SPAN_KIND_INTERNAL',
      start_time: startMs,
      end_time: endMs,
      attributes,
    };
    const error = str(data.error) ?? (data.is_error === true ? 'tool call failed' : undefined);
    // A response without parent_id pairs with the oldest open request, as agent-strace's export does.
    const callId =
      parentEvent ?? (type === 'llm_response' ? [...calls].find(([, c]) => c.name === 'gen_ai.client.operation')?.[0] : undefined);
    const call = callId === undefined ? undefined : calls.get(callId);
    if ((type === 'tool_result' || type === 'llm_response') && call !== undefined) {
      calls.delete(callId!);
      call.end_time = endMs;
      const callAttributes = call.attributes as Json;
      if (type === 'llm_response') {
        if (num(data.output_tokens) !== undefined) callAttributes['gen_ai.usage.output_tokens'] = data.output_tokens;
        if (str(data.model) !== undefined) callAttributes['gen_ai.response.model'] = data.model;
      } else if (Object.keys(data).length > 0) callAttributes['agent_strace.result'] = data;
      if (error !== undefined) Object.assign(call, { status_code: 'STATUS_CODE_ERROR', status_message: error });
      return;
    }
    switch (type) {
      case 'session_start':
        Object.assign(attributes, { 'gen_ai.agent.name': str(data.agent_name) ?? str(data.agent) ?? 'agent', 'gen_ai.agent.id': sessionId });
        break;
      case 'session_end': {
        const total = durationMs ?? num(data.total_duration_ms) ?? num(data.duration_ms);
        Object.assign(span, { name: 'agent_session', start_time: total === undefined ? endMs : endMs - total });
        Object.assign(attributes, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': sessionId });
        if (str(data.agent_name) !== undefined) attributes['gen_ai.agent.name'] = data.agent_name;
        endedTraceIds.push(traceId);
        break;
      }
      case 'tool_call': {
        const tool = str(data.tool_name) ?? 'tool';
        Object.assign(span, { name: `tool/${tool}` });
        Object.assign(attributes, {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': tool,
          'gen_ai.tool.call.id': eventId,
          ...(data.arguments === undefined ? {} : { 'gen_ai.tool.call.arguments': JSON.stringify(data.arguments) }),
        });
        calls.set(eventId, span);
        break;
      }
      case 'tool_result':
        Object.assign(span, { name: `result/${str(data.tool_name) ?? 'tool'}` });
        break;
      case 'file_read':
      case 'file_write': {
        const tool = type === 'file_write' ? 'write_file' : 'read_file';
        Object.assign(span, { name: `tool/${tool}` });
        Object.assign(attributes, {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': tool,
          'gen_ai.tool.call.arguments': JSON.stringify({ path: data.path ?? data.file_path ?? '' }),
        });
        break;
      }
      case 'llm_request':
        Object.assign(span, { name: 'gen_ai.client.operation', span_kind: 'SPAN_KIND_CLIENT' });
        Object.assign(attributes, {
          'gen_ai.operation.name': 'chat',
          ...(str(data.model) === undefined ? {} : { 'gen_ai.request.model': data.model }),
          ...(num(data.input_tokens) === undefined ? {} : { 'gen_ai.usage.input_tokens': data.input_tokens }),
        });
        calls.set(eventId, span);
        break;
      case 'llm_response':
        Object.assign(attributes, num(data.output_tokens) === undefined ? {} : { 'gen_ai.usage.output_tokens': data.output_tokens });
        break;
      default:
        break;
    }
    if (type === 'error' || (error !== undefined && (type === 'tool_result' || type === 'error'))) {
      Object.assign(span, { status_code: 'STATUS_CODE_ERROR', status_message: error ?? str(data.message) ?? 'error' });
    }
    spans.push(span);
  });
  return { spans, endedTraceIds };
}
