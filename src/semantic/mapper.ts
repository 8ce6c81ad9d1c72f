/**
 * Maps canonical spans to their semantic view, reading the current OpenTelemetry GenAI
 * conventions first, then their legacy names, OpenInference, and framework attributes
 * (DESIGN.md, "Records and schemas"). The mapper is versioned with the detectors: bump
 * MAPPER_VERSION whenever a mapping changes what detectors see.
 */
import type { AnyValue, CanonicalSpan, KeyValue } from '../model/span.js';
import { toPlain } from '../model/span.js';
import type { Operation, SemanticSpan, SemanticTrace } from './semantic-span.js';

export const MAPPER_VERSION = 4;

/** Token counts above this are treated as absent. */
const MAX_TOKEN_COUNT = 1_000_000_000;

/** Attribute names in order of preference, newest convention first. */
const KEYS = {
  operation: ['gen_ai.operation.name'],
  openInferenceKind: ['openinference.span.kind'],
  agentName: [
    'gen_ai.agent.name',
    'agent.name',
    'langgraph.node.name',
    'langgraph.node',
    'crewai.agent.role',
    'crewai.agent.name',
    'autogen.agent.name',
    'openclaw.agent.name',
  ],
  agentId: ['gen_ai.agent.id', 'agent.id'],
  // crewai.agent.role is a short name ("Researcher") and stays an agent-name key above.
  agentRole: [
    'gen_ai.agent.description',
    'agent.role',
    'agent.description',
    'crewai.agent.goal',
    'crewai.agent.backstory',
    'gen_ai.system_instructions',
  ],
  declaredTools: ['gen_ai.tool.definitions', 'gen_ai.agent.tools', 'llm.tools'],
  model: ['gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name'],
  provider: ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system'],
  inputTokens: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt'],
  outputTokens: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion'],
  cachedInputTokens: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cached_tokens',
    'llm.token_count.prompt_details.cache_read',
  ],
  toolName: ['gen_ai.tool.name', 'tool.name', 'tool_call.function.name'],
  // Not OpenInference's tool.parameters: that is the tool's parameter schema, the same on
  // every call, not the arguments of this one (those are its input.value).
  toolArguments: ['gen_ai.tool.call.arguments', 'tool_call.function.arguments', 'input.value'],
  toolResult: ['gen_ai.tool.call.result', 'output.value'],
  state: ['gen_ai.state', 'langgraph.state', 'crewai.state', 'openclaw.session.state', 'agent.state'],
  prompt: ['gen_ai.input.messages', 'gen_ai.prompt', 'llm.input_messages', 'input.value'],
  completion: ['gen_ai.output.messages', 'gen_ai.completion', 'llm.output_messages', 'output.value'],
  conversationId: ['gen_ai.conversation.id', 'session.id', 'gen_ai.session.id'],
} as const;

const OPERATION_ALIASES: Readonly<Record<string, Operation>> = {
  chat: 'chat',
  text_completion: 'chat',
  generate_content: 'chat',
  completion: 'chat',
  llm: 'chat',
  execute_tool: 'execute_tool',
  tool: 'execute_tool',
  invoke_agent: 'invoke_agent',
  create_agent: 'invoke_agent',
  agent: 'invoke_agent',
  chain: 'invoke_agent',
  retrieval: 'retrieval',
  retriever: 'retrieval',
  embeddings: 'embeddings',
  embedding: 'embeddings',
  handoff: 'handoff',
};

/**
 * Attribute lookup across layers: span attributes first, then scope, then resource, so a
 * span's own value wins even when it uses another convention's name than the resource.
 */
class AttributeIndex {
  private readonly layers: Map<string, AnyValue>[];
  constructor(...mostSpecificFirst: (readonly KeyValue[])[]) {
    this.layers = mostSpecificFirst.map((list) => new Map(list.map((kv) => [kv.key, kv.value])));
  }
  first(keys: readonly string[]): AnyValue | undefined {
    return this.entry(keys)?.value;
  }
  /** The first present key and its value; `layer` is its index in the constructor's arguments. */
  entry(keys: readonly string[]): { key: string; value: AnyValue; layer: number } | undefined {
    for (let layer = 0; layer < this.layers.length; layer++) {
      for (const key of keys) {
        const value = this.layers[layer]!.get(key);
        if (value !== undefined && value.type !== 'empty') return { key, value, layer };
      }
    }
    return undefined;
  }
  /** Values of keys matching `pattern` in the most specific layer that has any, by the pattern's first group as a number. */
  indexed(pattern: RegExp): AnyValue[] {
    for (const layer of this.layers) {
      const found: [number, AnyValue][] = [];
      for (const [key, value] of layer) {
        const m = pattern.exec(key);
        if (m !== null && value.type !== 'empty') found.push([Number(m[1]), value]);
      }
      if (found.length > 0) return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    }
    return [];
  }
  text(keys: readonly string[]): string | null {
    const value = this.first(keys);
    return value === undefined ? null : textOfValue(value);
  }
  count(keys: readonly string[]): number | null {
    const value = this.first(keys);
    if (value === undefined) return null;
    let n: number;
    if (value.type === 'int') n = Number(value.value);
    else if (value.type === 'double') n = value.value;
    else if (value.type === 'string') n = Number(value.value);
    else return null;
    // No model call uses a billion tokens: larger values are producer bugs, and their sums
    // would pass the range of exact numbers.
    return Number.isFinite(n) && n >= 0 && n <= MAX_TOKEN_COUNT ? Math.round(n) : null;
  }
}

function textOfValue(value: AnyValue): string {
  if (value.type === 'string') return value.value;
  const plain = toPlain(value);
  return typeof plain === 'string' ? plain : JSON.stringify(plain);
}

/** Parses JSON text that looks like an object or array; anything else is returned as is. */
function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return value;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return value;
  }
}

/** Text parts of a message list (`[{type:"text",content}]`, `[{role,parts}]`, `[{role,content}]`), joined. */
function messageText(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.trim() !== '') out.push(value.trim());
  } else if (Array.isArray(value)) {
    for (const item of value) messageText(item, out);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Non-text parts (tool calls, images) carry no role text.
    if (typeof record.type === 'string' && record.type !== 'text') return out;
    for (const key of ['content', 'text', 'parts']) messageText(record[key], out);
  }
  return out;
}

function agentRoleOf(attrs: AttributeIndex): string | null {
  const found = attrs.entry(KEYS.agentRole);
  if (found === undefined) return null;
  const plain = toPlain(found.value);
  if (found.key !== 'gen_ai.system_instructions') {
    return typeof plain === 'string' ? plain : JSON.stringify(plain);
  }
  const parsed = parseMaybeJson(plain);
  if (typeof parsed === 'string') return parsed;
  const parts = messageText(parsed);
  return parts.length > 0 ? parts.join('\n') : null;
}

/**
 * A tool name from a declaration entry: a name, `{name}`, `{function:{name}}`, or an
 * OpenInference `{tool:{json_schema}}`. A JSON schema is a document, never a bare name.
 */
function declaredToolName(entry: unknown, bareNameAllowed = true): string | null {
  const value = parseMaybeJson(entry);
  if (typeof value === 'string') return bareNameAllowed && value.trim() !== '' ? value.trim() : null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.name === 'string') return record.name;
  for (const key of ['function', 'tool', 'json_schema']) {
    if (record[key] !== undefined) {
      const name = declaredToolName(record[key], key !== 'json_schema');
      if (name !== null) return name;
    }
  }
  return null;
}

/**
 * Declared tool names, in order, without repeats. An explicitly empty list declares no tools
 * ([]); entries none of which yield a name say nothing (null), so an unknown format never
 * makes every call look undeclared.
 */
function declaredToolsOf(attrs: AttributeIndex): string[] | null {
  const entries: unknown[] = [];
  let explicitlyEmpty = false;
  const found = attrs.first(KEYS.declaredTools);
  if (found !== undefined) {
    const list = parseMaybeJson(toPlain(found));
    if (Array.isArray(list)) {
      if (list.length === 0) explicitlyEmpty = true;
      entries.push(...(list as unknown[]));
    } else {
      entries.push(list);
    }
  }
  // OpenInference flattens the list: llm.tools.0.tool.json_schema, llm.tools.1.tool.json_schema, …
  const schemas = attrs.indexed(/^llm\.tools\.(\d+)\.tool\.json_schema$/).map((v) => ({ json_schema: toPlain(v) }));
  entries.push(...schemas);
  const names = [...new Set(entries.map((e) => declaredToolName(e)).filter((n): n is string => n !== null))];
  if (names.length > 0) return names;
  return explicitlyEmpty && entries.length === 0 ? [] : null;
}

function operationOf(attrs: AttributeIndex, span: CanonicalSpan, toolName: string | null): Operation {
  const declared = attrs.text(KEYS.operation) ?? attrs.text(KEYS.openInferenceKind);
  if (declared !== null) {
    const op = OPERATION_ALIASES[declared.toLowerCase()];
    if (op !== undefined) return op;
  }
  if (toolName !== null) return 'execute_tool';
  if (attrs.first(KEYS.inputTokens) !== undefined || attrs.first(KEYS.outputTokens) !== undefined) return 'chat';
  if (attrs.first(KEYS.model) !== undefined) return 'chat';
  if (attrs.first(KEYS.agentName) !== undefined) return 'invoke_agent';
  return span.name.toLowerCase().startsWith('tool') ? 'execute_tool' : 'other';
}

function errorOf(span: CanonicalSpan, attrs: AttributeIndex): { isError: boolean; message: string | null } {
  const exception = span.events.find((e) => e.name === 'exception');
  const exceptionMessage =
    exception === undefined ? null : new AttributeIndex(exception.attributes).text(['exception.message', 'exception.type']);
  if (span.status.code === 2) {
    return { isError: true, message: span.status.message || exceptionMessage || attrs.text(['error.type']) };
  }
  if (exception !== undefined) return { isError: true, message: exceptionMessage };
  const errorType = attrs.text(['error.type']);
  return errorType !== null ? { isError: true, message: errorType } : { isError: false, message: null };
}

/** A tool span's tool: its tool attribute, else the span's name. */
function toolNameOf(span: CanonicalSpan, attributeName: string | null, isTool: boolean): string | null {
  return isTool ? (attributeName ?? span.name) : attributeName;
}

function attributeIndexOf(span: CanonicalSpan): AttributeIndex {
  return new AttributeIndex(span.attributes, span.scope.attributes, span.resource.attributes);
}

export function toSemanticSpan(span: CanonicalSpan): SemanticSpan {
  const attrs = attributeIndexOf(span);
  const toolName = attrs.text(KEYS.toolName);
  const operation = operationOf(attrs, span, toolName);
  const error = errorOf(span, attrs);
  const isTool = operation === 'execute_tool';
  return {
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    startNs: span.startTimeUnixNano,
    endNs: span.endTimeUnixNano,
    operation,
    agentName: attrs.text(KEYS.agentName),
    agentId: attrs.text(KEYS.agentId),
    agentRole: agentRoleOf(attrs),
    model: attrs.text(KEYS.model),
    provider: attrs.text(KEYS.provider),
    inputTokens: attrs.count(KEYS.inputTokens),
    outputTokens: attrs.count(KEYS.outputTokens),
    cachedInputTokens: attrs.count(KEYS.cachedInputTokens),
    declaredTools: declaredToolsOf(attrs),
    toolName: toolNameOf(span, toolName, isTool),
    toolArguments: isTool ? attrs.text(KEYS.toolArguments) : null,
    toolResult: isTool ? attrs.text(KEYS.toolResult) : null,
    state: attrs.text(KEYS.state),
    prompt: isTool ? null : attrs.text(KEYS.prompt),
    completion: isTool ? null : attrs.text(KEYS.completion),
    conversationId: attrs.text(KEYS.conversationId),
    isError: error.isError,
    errorMessage: error.message,
  };
}

/** A name the mapper derives that views and baselines key by, and the field it came from. */
export interface DerivedKeyName {
  readonly part: 'serviceName' | 'agentName' | 'modelName' | 'toolName';
  /** `resource.attributes["service.name"]`, `attributes["langgraph.node.name"]`, or `name`. */
  readonly field: string;
  readonly value: string;
}

const LAYER_NAMES = ['attributes', 'scope.attributes', 'resource.attributes'] as const;

/**
 * The service, agent, model and tool names this span contributes, derived exactly as
 * toSemanticSpan and toSemanticTrace derive them, each with the field it was read from, so
 * ingest can bound what the views will key by whichever convention the producer follows.
 */
export function keyNamesOf(span: CanonicalSpan): DerivedKeyName[] {
  const attrs = attributeIndexOf(span);
  const names: DerivedKeyName[] = [];
  const fromAttribute = (part: DerivedKeyName['part'], keys: readonly string[]) => {
    const found = attrs.entry(keys);
    if (found !== undefined) names.push({ part, field: `${LAYER_NAMES[found.layer]}[${JSON.stringify(found.key)}]`, value: textOfValue(found.value) });
    return found;
  };
  const service = serviceNameOf(span);
  if (service !== 'unknown_service') names.push({ part: 'serviceName', field: 'resource.attributes["service.name"]', value: service });
  fromAttribute('agentName', KEYS.agentName);
  fromAttribute('modelName', KEYS.model);
  const tool = fromAttribute('toolName', KEYS.toolName);
  const isTool = operationOf(attrs, span, tool === undefined ? null : textOfValue(tool.value)) === 'execute_tool';
  if (isTool && tool === undefined) names.push({ part: 'toolName', field: 'name', value: span.name });
  return names;
}

export function serviceNameOf(span: CanonicalSpan): string {
  for (const kv of span.resource.attributes) {
    if (kv.key === 'service.name' && kv.value.type === 'string') return kv.value.value;
  }
  return 'unknown_service';
}

/** Builds the semantic trace: spans sorted by start time, then span id, for determinism. */
/** `mapSpan` may hand back a span's semantic view made earlier, so a span is mapped once. */
export function toSemanticTrace(
  tenantId: string,
  traceId: string,
  spans: readonly CanonicalSpan[],
  mapSpan: (span: CanonicalSpan) => SemanticSpan = toSemanticSpan,
): SemanticTrace {
  const sorted = [...spans].sort((a, b) =>
    a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : a.spanId < b.spanId ? -1 : 1,
  );
  const root = sorted.find((s) => s.parentSpanId === '') ?? sorted[0];
  return {
    tenantId,
    traceId,
    serviceName: root === undefined ? 'unknown_service' : serviceNameOf(root),
    spans: sorted.map((span) => mapSpan(span)),
  };
}
