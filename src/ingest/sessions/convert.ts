/**
 * Session events → canonical spans (source 'session-events').
 *
 * A session becomes one trace: a root span for the session itself (operation
 * invoke_agent, the agent's name, the session and thread ids, the producer's status) and
 * one span per event, a child of the root unless the event names its own parent.
 *
 * Attributes use the OTel GenAI names the semantic mapper reads, so detectors see session
 * events exactly as they see OTLP spans:
 *
 *   event type                         gen_ai.operation.name   also
 *   llm_call, ai_call, summarization   chat                    gen_ai.request.model, gen_ai.provider.name,
 *                                                              gen_ai.input.messages / gen_ai.output.messages
 *   embedding                          embeddings              gen_ai.request.model
 *   retrieval                          retrieval               gen_ai.input.messages / gen_ai.output.messages
 *   tool_call                          execute_tool            gen_ai.tool.name, gen_ai.tool.call.id,
 *                                                              gen_ai.tool.call.arguments / .result
 *   guardrail, custom, span            (none: no GenAI operation fits; the mapper infers from the rest)
 *
 * and on every event: gen_ai.agent.name (the event's agent, else the session's),
 * gen_ai.usage.input_tokens / output_tokens / cache_read.input_tokens, gen_ai.conversation.id
 * (the thread id, else the session id) and session.id. Messages follow the GenAI JSON shape
 * ([{"role": "user", "parts": [{"type": "text", "content": "..."}]}]), built from the event's
 * input / system / output sections (or its `input` / `output` fields).
 *
 * Nothing the producer sent is dropped: every top-level field of an event is also kept as
 * `session.event.<field>` (typed: objects become kvlists), every session-level field as
 * `session.<field>` on the root span, and an event's own `attributes` are set as they are,
 * winning over the derived ones.
 *
 * Identity is deterministic so that re-sending de-duplicates:
 * - trace id: the producer's traceId, else the first 32 hex characters of
 *   SHA-256(UTF-8 session id);
 * - root span id: the producer's rootSpanId, else the first 16 hex characters of
 *   SHA-256(session id, NUL, "session");
 * - event span id: the event's spanId, else 16 hex characters of SHA-256(session id, NUL,
 *   "event:" id | "seq:" sequence | "index:" position). Events that should survive a retry
 *   of a streaming request unchanged carry an id (or a sequence).
 *
 * Times: an event without startedAt / timestamp is placed at the session start (batch) or
 * the time its request arrived (stream) plus its ordinal in microseconds, so the order sent
 * is the order detectors see, and is marked `session.event.time_inferred`.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, CanonicalSpan, InstrumentationScope, KeyValue, Resource, SpanStatus } from '../../model/span.js';
import { normalizeSpanId, normalizeTraceId } from '../otlp/ids.js';
import { OtlpValueError } from '../otlp/value-error.js';
import { toUnixNano } from '../flat/time.js';
import { boolAttr, intAttr, jsonToAnyValue, stringAttr, textOf } from '../flat/values.js';
import type { EventType, Section, SessionEvent } from './schema.js';

/** A problem with one field of the request, rejected with its path (`body.events.2.traceId`). */
export class SessionInputError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'SessionInputError';
  }
}

export const SCOPE: InstrumentationScope = Object.freeze({
  name: 'tracefold.session-events',
  version: '1',
  attributes: [],
  droppedAttributesCount: 0,
  schemaUrl: '',
});

/** What every span of a session shares. */
export interface SessionIdentity {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly traceId: string;
  readonly rootSpanId: string;
  /** Session-level fields as sent (agent, threadId, metadata, ...), without events. */
  readonly fields: Readonly<Record<string, unknown>>;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The trace id of a session sent without one: SHA-256 of the session id, 32 hex characters. */
export function deriveTraceId(sessionId: string): string {
  return sha256Hex(sessionId).slice(0, 32);
}

/** A span id derived from the session id and a key within the session: 16 hex characters. */
export function deriveSpanId(sessionId: string, key: string): string {
  return sha256Hex(`${sessionId}\u0000${key}`).slice(0, 16);
}

function normalized(path: string, value: string | undefined, normalize: (v: unknown) => string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const id = normalize(value);
    return id === '' ? undefined : id;
  } catch (error) {
    if (error instanceof OtlpValueError) throw new SessionInputError(path, error.reason);
    throw error;
  }
}

/** The session's trace id: the producer's (normalised as OTLP ids are), else derived. */
export function sessionTraceId(sessionId: string, given: string | undefined, path = 'body.traceId'): string {
  return normalized(path, given, normalizeTraceId) ?? deriveTraceId(sessionId);
}

export function sessionRootSpanId(sessionId: string, given: string | undefined, path = 'body.rootSpanId'): string {
  return normalized(path, given, normalizeSpanId) ?? deriveSpanId(sessionId, 'session');
}

/** The key an event's span id is derived from when the event carries no spanId. */
export function eventKey(event: SessionEvent, ordinal: number): string {
  if (event.id !== undefined) return `event:${event.id}`;
  if (event.sequence !== undefined) return `seq:${event.sequence}`;
  return `index:${ordinal}`;
}

const FAILED = new Set(['failed', 'failure', 'error', 'errored', 'crashed', 'timeout', 'timed_out', 'cancelled', 'canceled', 'aborted']);
const SUCCEEDED = new Set(['completed', 'complete', 'success', 'succeeded', 'ok', 'done', 'finished']);

/** The producer's status word (and error) as an OTLP status. */
export function statusOf(status: string | undefined, error: SessionEvent['error'] | undefined): SpanStatus {
  const word = status?.toLowerCase();
  if (error !== undefined) {
    const message = typeof error === 'string' ? error : (error.message ?? error.type ?? String(error.code ?? ''));
    return { code: 2, message: message || (status ?? 'error') };
  }
  if (word !== undefined && FAILED.has(word)) return { code: 2, message: `status ${status}` };
  if (word !== undefined && SUCCEEDED.has(word)) return { code: 1, message: '' };
  return { code: 0, message: '' };
}

const OPERATION: Readonly<Record<EventType, string | null>> = {
  llm_call: 'chat',
  ai_call: 'chat',
  summarization: 'chat',
  embedding: 'embeddings',
  retrieval: 'retrieval',
  tool_call: 'execute_tool',
  guardrail: null,
  custom: null,
  span: null,
};

/** OTLP span kind: model and retrieval calls leave the process (CLIENT); the rest is INTERNAL. */
function kindOf(operation: string | null): number {
  return operation === 'chat' || operation === 'embeddings' || operation === 'retrieval' ? 3 : 1;
}

/** Attributes by key: a later set of the same key replaces the earlier one, in place. */
class AttributeList {
  private readonly byKey = new Map<string, AnyValue>();
  set(key: string, value: AnyValue | undefined): void {
    if (value !== undefined) this.byKey.set(key, value);
  }
  text(key: string, value: string | undefined | null): void {
    if (value !== undefined && value !== null && value !== '') this.set(key, { type: 'string', value });
  }
  int(key: string, value: number | undefined): void {
    if (value !== undefined) this.set(key, intAttr(key, value).value);
  }
  toList(): KeyValue[] {
    return [...this.byKey].map(([key, value]) => ({ key, value }));
  }
}

function sectionsOf(event: SessionEvent): Section[] {
  const sections = [...(event.sections ?? [])];
  if (event.input !== undefined) sections.push({ type: 'input', content: event.input });
  if (event.output !== undefined) sections.push({ type: 'output', content: event.output });
  return sections;
}

const INPUT_SECTIONS = new Set(['input', 'system', 'prompt']);
const OUTPUT_SECTIONS = new Set(['output', 'completion', 'response']);

/** GenAI messages JSON of the sections of one side, or null when there are none. */
function messagesOf(sections: readonly Section[], side: 'input' | 'output'): string | null {
  const chosen = sections.filter((s) => (side === 'input' ? INPUT_SECTIONS : OUTPUT_SECTIONS).has(s.type.toLowerCase()));
  if (chosen.length === 0) return null;
  const messages = chosen.map((s) => ({
    role: s.role ?? (s.type.toLowerCase() === 'system' ? 'system' : side === 'input' ? 'user' : 'assistant'),
    parts: [{ type: 'text', content: textOf(s.content ?? '') }],
    ...(s.name !== undefined ? { name: s.name } : {}),
  }));
  return JSON.stringify(messages);
}

/** The content of one side as plain text (one section) or a JSON list (several). */
function contentOf(sections: readonly Section[], side: 'input' | 'output'): string | null {
  const chosen = sections.filter((s) => s.type.toLowerCase() === side);
  if (chosen.length === 0) return null;
  if (chosen.length === 1) return textOf(chosen[0]!.content ?? '');
  return JSON.stringify(chosen.map((s) => s.content ?? null));
}

function agentObject(fields: Readonly<Record<string, unknown>>): { name?: string; id?: string; model?: string; version?: string } {
  const agent = fields.agent;
  if (typeof agent !== 'object' || agent === null || Array.isArray(agent)) return {};
  const text = (key: string) => {
    const value = (agent as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { name: text('name'), id: text('id'), model: text('model'), version: text('version') };
}

/** Resource shared by the session's spans: the agent as the service. */
export function sessionResource(session: SessionIdentity): Resource {
  const agent = agentObject(session.fields);
  const attributes: KeyValue[] = [];
  if (agent.name !== undefined) attributes.push(stringAttr('service.name', agent.name));
  if (agent.version !== undefined) attributes.push(stringAttr('service.version', agent.version));
  return { attributes, droppedAttributesCount: 0, schemaUrl: '' };
}

function conversationId(session: SessionIdentity): string {
  const thread = session.fields.threadId;
  return typeof thread === 'string' && thread !== '' ? thread : session.sessionId;
}

function time(path: string, value: string | number | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  try {
    return toUnixNano(value);
  } catch (error) {
    throw new SessionInputError(path, (error as Error).message);
  }
}

export interface EventPlacement {
  /** Position of the event in its session (batch: index in the list; stream: events before it). */
  readonly ordinal: number;
  /** Where an event without a time is placed, before its ordinal offset. */
  readonly baseNs: bigint;
  readonly receivedAtMs: number;
  /** Path of the event in the request, for errors (`body.events.2`). */
  readonly path: string;
}

/** One event → its span. */
export function eventToSpan(session: SessionIdentity, event: SessionEvent, placement: EventPlacement, resource: Resource): CanonicalSpan {
  const { path } = placement;
  if (event.traceId !== undefined) {
    const traceId = sessionTraceId(session.sessionId, event.traceId, `${path}.traceId`);
    if (traceId !== session.traceId) {
      throw new SessionInputError(`${path}.traceId`, `${event.traceId} differs from the session's trace id ${session.traceId}; a session is one trace`);
    }
  }
  const spanId = normalized(`${path}.spanId`, event.spanId, normalizeSpanId) ?? deriveSpanId(session.sessionId, eventKey(event, placement.ordinal));
  const parentSpanId = normalized(`${path}.parentSpanId`, event.parentSpanId, normalizeSpanId) ?? (spanId === session.rootSpanId ? '' : session.rootSpanId);

  const explicitStart = time(`${path}.startedAt`, event.startedAt) ?? time(`${path}.timestamp`, event.timestamp);
  const ordinal = BigInt(event.sequence ?? placement.ordinal);
  const startNs = explicitStart ?? placement.baseNs + ordinal * 1000n;
  const explicitEnd = time(`${path}.endedAt`, event.endedAt);
  const endNs = explicitEnd ?? (event.durationMs !== undefined ? startNs + BigInt(Math.round(event.durationMs * 1e6)) : startNs);
  if (endNs < startNs) throw new SessionInputError(`${path}.endedAt`, 'before the event start');

  const operation = OPERATION[event.type];
  const sections = sectionsOf(event);
  const agent = agentObject(session.fields);
  const agentName = event.agentName ?? event.agent?.name ?? agent.name;
  const isModelCall = operation === 'chat' || operation === 'embeddings';
  const model = event.model ?? (isModelCall ? agent.model : undefined);

  const attrs = new AttributeList();
  attrs.text('gen_ai.operation.name', operation);
  attrs.text('gen_ai.agent.name', agentName);
  attrs.text('gen_ai.agent.id', event.agent?.id ?? agent.id);
  attrs.text('gen_ai.request.model', model);
  attrs.text('gen_ai.provider.name', event.provider);
  attrs.int('gen_ai.usage.input_tokens', event.inputTokens);
  attrs.int('gen_ai.usage.output_tokens', event.outputTokens);
  attrs.int('gen_ai.usage.cache_read.input_tokens', event.cachedInputTokens);
  attrs.text('gen_ai.conversation.id', conversationId(session));
  attrs.text('session.id', session.sessionId);
  let name: string;
  if (operation === 'execute_tool') {
    const toolName = event.toolName ?? event.name ?? event.label ?? 'tool';
    const args = event.toolArguments ?? event.arguments;
    attrs.text('gen_ai.tool.name', toolName);
    attrs.text('gen_ai.tool.call.id', event.toolCallId ?? event.id);
    attrs.text('gen_ai.tool.call.arguments', args !== undefined ? textOf(args) : contentOf(sections, 'input'));
    attrs.text('gen_ai.tool.call.result', event.toolResult !== undefined ? textOf(event.toolResult) : contentOf(sections, 'output'));
    name = event.label ?? `execute_tool ${toolName}`;
  } else {
    attrs.text('gen_ai.input.messages', messagesOf(sections, 'input'));
    attrs.text('gen_ai.output.messages', messagesOf(sections, 'output'));
    name = event.label ?? event.name ?? (operation === null ? event.type : model !== undefined ? `${operation} ${model}` : operation);
  }
  const status = statusOf(event.status, event.error);
  if (status.code === 2) {
    attrs.text('error.type', typeof event.error === 'object' ? (event.error.type ?? String(event.error.code ?? 'error')) : 'error');
  }
  for (const [key, value] of Object.entries(event.attributes ?? {})) attrs.set(key, jsonToAnyValue(value));
  for (const [key, value] of Object.entries(event)) if (value !== undefined) attrs.set(`session.event.${key}`, jsonToAnyValue(value));
  attrs.int('session.event.ordinal', placement.ordinal);
  if (explicitStart === undefined) attrs.set('session.event.time_inferred', boolAttr('', true).value);

  return {
    tenantId: session.tenantId,
    traceId: session.traceId,
    spanId,
    parentSpanId,
    traceState: '',
    flags: 0,
    name,
    kind: kindOf(operation),
    startTimeUnixNano: startNs,
    endTimeUnixNano: endNs,
    attributes: attrs.toList(),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status,
    resource,
    scope: SCOPE,
    source: 'session-events',
    receivedAtMs: placement.receivedAtMs,
  };
}

/**
 * The events of one request → spans, first ordinal `firstOrdinal`. Two events of one
 * request with the same span identity are refused: one would silently replace the other.
 */
export function eventsToSpans(
  session: SessionIdentity,
  events: readonly SessionEvent[],
  options: { firstOrdinal: number; baseNs: bigint; receivedAtMs: number; path: string; single?: boolean },
): CanonicalSpan[] {
  const resource = sessionResource(session);
  const seen = new Map<string, number>();
  return events.map((event, i) => {
    const path = options.single === true ? options.path : `${options.path}.${i}`;
    const span = eventToSpan(session, event, { ordinal: options.firstOrdinal + i, baseNs: options.baseNs, receivedAtMs: options.receivedAtMs, path }, resource);
    const earlier = seen.get(span.spanId);
    if (earlier !== undefined) {
      throw new SessionInputError(path, `has the same identity (span ${span.spanId}) as ${options.path}.${earlier}; give events distinct ids`);
    }
    if (span.spanId === session.rootSpanId) throw new SessionInputError(`${path}.spanId`, `is the session's root span id`);
    seen.set(span.spanId, i);
    return span;
  });
}

export interface RootSpanState {
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly state: 'open' | 'ended';
  readonly mode: 'batch' | 'stream';
  /** The producer's status word. */
  readonly status: string;
  readonly eventCount: number;
  readonly receivedAtMs: number;
  /** Fields of the end request (status, summary, ...), kept as session.end.<field>. */
  readonly endFields?: Readonly<Record<string, unknown>>;
}

/** The session's own span: the root of its trace. */
export function sessionRootSpan(session: SessionIdentity, state: RootSpanState): CanonicalSpan {
  const agent = agentObject(session.fields);
  const attrs = new AttributeList();
  attrs.text('gen_ai.operation.name', 'invoke_agent');
  attrs.text('gen_ai.agent.name', agent.name);
  attrs.text('gen_ai.agent.id', agent.id);
  attrs.text('gen_ai.conversation.id', conversationId(session));
  attrs.text('session.id', session.sessionId);
  for (const [key, value] of Object.entries(session.fields)) {
    if (key !== 'sessionId' && key !== 'events' && value !== undefined) attrs.set(`session.${key}`, jsonToAnyValue(value));
  }
  for (const [key, value] of Object.entries(state.endFields ?? {})) if (value !== undefined) attrs.set(`session.end.${key}`, jsonToAnyValue(value));
  attrs.text('session.state', state.state);
  attrs.text('session.mode', state.mode);
  attrs.text('session.status', state.status);
  attrs.int('session.event_count', state.eventCount);
  return {
    tenantId: session.tenantId,
    traceId: session.traceId,
    spanId: session.rootSpanId,
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: agent.name !== undefined ? `invoke_agent ${agent.name}` : `session ${session.sessionId}`,
    kind: 1,
    startTimeUnixNano: state.startNs,
    endTimeUnixNano: state.endNs < state.startNs ? state.startNs : state.endNs,
    attributes: attrs.toList(),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: statusOf(state.status, undefined),
    resource: sessionResource(session),
    scope: SCOPE,
    source: 'session-events',
    receivedAtMs: state.receivedAtMs,
  };
}

/** Session-level times as nanoseconds; throws SessionInputError naming the field. */
export function sessionTime(path: string, value: string | number | undefined): bigint | undefined {
  return time(path, value);
}
