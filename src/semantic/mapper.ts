/**
 * Maps canonical spans to their semantic view, reading the current OpenTelemetry GenAI
 * conventions first, then their legacy names, then what popular producers send instead:
 * OpenInference (Arize; `openinference.span.kind`, `input.value`, LangChain's `metadata`),
 * OpenLLMetry / traceloop (`traceloop.span.kind`, `traceloop.entity.*`), the Vercel AI
 * SDK (`ai.*`), Agenta (`ag.*`, flat or nested), and framework attributes. The README's
 * compatibility matrix lists what each producer gets. The mapper is versioned with the
 * detectors: bump MAPPER_VERSION whenever a mapping changes what detectors see.
 */
import type { AnyValue, CanonicalSpan, KeyValue } from '../model/span.js';
import { toPlain } from '../model/span.js';
import { eventCompletion, eventModelCalls, eventPrompt } from './genai-events.js';
import type { Operation, SemanticSpan, SemanticTrace } from './semantic-span.js';

export const MAPPER_VERSION = 6;

/** Token counts above this are treated as absent. */
const MAX_TOKEN_COUNT = 1_000_000_000;

/** Attribute names in order of preference, newest convention first. */
const KEYS = {
  operation: ['gen_ai.operation.name'],
  // Span kinds of other conventions, each read through OPERATION_ALIASES.
  spanKind: ['openinference.span.kind', 'traceloop.span.kind', 'ag.type.span'],
  vercelOperation: ['ai.operationId'],
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
  model: ['gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name', 'ai.model.id'],
  provider: ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'ai.model.provider'],
  inputTokens: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.inputTokens', 'ai.usage.promptTokens'],
  outputTokens: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion', 'ai.usage.outputTokens', 'ai.usage.completionTokens'],
  cachedInputTokens: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cached_tokens',
    'llm.token_count.prompt_details.cache_read',
  ],
  toolName: ['gen_ai.tool.name', 'tool.name', 'tool_call.function.name', 'ai.toolCall.name'],
  // The arguments of this call, never a schema: not OpenInference's tool.parameters (the
  // tool's parameter schema, the same on every call; its calls' arguments are input.value).
  // Flattened argument objects (gen_ai.tool.input.<name>) are read after these: toolArgumentsOf.
  toolArguments: [
    'gen_ai.tool.call.arguments',
    'tool_call.function.arguments',
    'ai.toolCall.args',
    'ai.toolCall.input',
    'input.value',
    'traceloop.entity.input',
    'ag.data.inputs',
  ],
  toolResult: ['gen_ai.tool.call.result', 'ai.toolCall.result', 'ai.toolCall.output', 'output.value', 'traceloop.entity.output', 'ag.data.outputs'],
  state: ['gen_ai.state', 'langgraph.state', 'crewai.state', 'openclaw.session.state', 'agent.state'],
  prompt: ['gen_ai.input.messages', 'gen_ai.prompt', 'gen_ai.content.prompt', 'llm.input_messages', 'ai.prompt.messages', 'ai.prompt', 'input.value', 'traceloop.entity.input', 'ag.data.inputs'],
  completion: ['gen_ai.output.messages', 'gen_ai.completion', 'gen_ai.content.completion', 'llm.output_messages', 'ai.response.text', 'output.value', 'traceloop.entity.output', 'ag.data.outputs'],
  conversationId: ['gen_ai.conversation.id', 'session.id', 'gen_ai.session.id', 'ag.session.id'],
  // LangChain run metadata (OpenInference's LangChain instrumentation), JSON: langgraph_node names the graph node.
  langchainMetadata: ['metadata'],
} as const;

/** Prefixes of argument objects some producers flatten into one attribute per argument (agent-strace, OpenLLMetry). */
const FLATTENED_ARGUMENTS = ['gen_ai.tool.input.', 'tool.input.', 'gen_ai.tool.call.arguments.', 'ag.data.inputs.'] as const;

/** LangGraph's own nodes, which are not agents. */
const LANGGRAPH_INTERNAL_NODES = new Set(['__start__', '__end__']);

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
  retrieval: 'retrieval',
  retriever: 'retrieval',
  embeddings: 'embeddings',
  embedding: 'embeddings',
  handoff: 'handoff',
  // traceloop.span.kind: a workflow is the run's root, driven by the code around it.
  workflow: 'invoke_agent',
  task: 'other',
  // ag.type.span (Agenta)
  chat_completion: 'chat',
  query: 'retrieval',
  rerank: 'retrieval',
  // OpenInference CHAIN: a composed sequence of calls (a prompt template, a parser, a
  // graph edge), not an agent; a LangGraph node's own CHAIN span is one (operationOf).
  chain: 'other',
};

/** Vercel AI SDK operations (`ai.operationId`): the call that drives steps, a model call, a tool call. */
function vercelOperation(operationId: string): Operation | null {
  if (operationId === 'ai.toolCall') return 'execute_tool';
  if (/\.do(Generate|Stream)$/.test(operationId)) return 'chat';
  if (/\.doEmbed$/.test(operationId)) return 'embeddings';
  if (/^ai\.(generate|stream)(Text|Object)$/.test(operationId)) return 'invoke_agent';
  return null;
}

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
        const value = lookup(this.layers[layer]!, key);
        if (value !== undefined && value.type !== 'empty') return { key, value, layer };
      }
    }
    return undefined;
  }
  /**
   * An object from the keys under `prefix` (`gen_ai.tool.input.city` → {city}) in the most
   * specific layer that has any, keys sorted; null when there are none.
   */
  flattened(prefix: string): Record<string, unknown> | null {
    for (const layer of this.layers) {
      const found: [string, unknown][] = [];
      for (const [key, value] of layer) if (key.startsWith(prefix) && key.length > prefix.length && value.type !== 'empty') found.push([key.slice(prefix.length), toPlain(value)]);
      if (found.length > 0) return Object.fromEntries(found.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    }
    return null;
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

/**
 * A dotted key, as sent or nested: `ag.type.span` is found flat, or as `span` inside the
 * kvlist `ag.type`, or inside `type` inside `ag` (producers that send JSON objects as
 * attributes, such as Agenta's nested form).
 */
function lookup(layer: ReadonlyMap<string, AnyValue>, key: string): AnyValue | undefined {
  const direct = layer.get(key);
  if (direct !== undefined) return direct;
  for (let dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
    const head = layer.get(key.slice(0, dot));
    if (head?.type === 'kvlist') return lookup(new Map(head.values.map((kv) => [kv.key, kv.value])), key.slice(dot + 1));
  }
  return undefined;
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

/** The graph node a LangChain run belongs to (OpenInference's `metadata` JSON), unless it is one of LangGraph's own. */
function langgraphNodeOf(attrs: AttributeIndex): string | null {
  const raw = attrs.first(KEYS.langchainMetadata);
  if (raw === undefined) return null;
  const metadata = parseMaybeJson(toPlain(raw));
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  const node = (metadata as Record<string, unknown>).langgraph_node;
  return typeof node === 'string' && node !== '' && !LANGGRAPH_INTERNAL_NODES.has(node) ? node : null;
}

function operationOf(attrs: AttributeIndex, span: CanonicalSpan, toolName: string | null): Operation {
  const declared = attrs.text(KEYS.operation) ?? attrs.text(KEYS.spanKind);
  if (declared !== null) {
    const op = OPERATION_ALIASES[declared.toLowerCase()];
    // A LangGraph node runs as a CHAIN span named after the node: that one is the agent step.
    if (op === 'other' && declared.toLowerCase() === 'chain' && langgraphNodeOf(attrs) === span.name) return 'invoke_agent';
    if (op !== undefined) return op;
  }
  const vercel = attrs.text(KEYS.vercelOperation);
  if (vercel !== null) {
    const op = vercelOperation(vercel);
    if (op !== null) return op;
  }
  if (toolName !== null) return 'execute_tool';
  if (attrs.first(KEYS.inputTokens) !== undefined || attrs.first(KEYS.outputTokens) !== undefined) return 'chat';
  if (attrs.first(KEYS.model) !== undefined) return 'chat';
  if (attrs.first(KEYS.agentName) !== undefined) return 'invoke_agent';
  return span.name.toLowerCase().startsWith('tool') ? 'execute_tool' : 'other';
}

/**
 * The span's agent: a named agent attribute; else the LangGraph node the run belongs to;
 * else, on an agent span of a convention that names agents by the span (OpenInference's
 * AGENT spans, traceloop's agent spans, the Vercel AI SDK's telemetry function id), that name.
 */
function agentNameOf(attrs: AttributeIndex, span: CanonicalSpan, operation: Operation): string | null {
  const named = attrs.text(KEYS.agentName) ?? langgraphNodeOf(attrs);
  if (named !== null || operation !== 'invoke_agent') return named;
  const kind = attrs.text(KEYS.spanKind)?.toLowerCase();
  if (kind === 'agent') return attrs.text(['traceloop.entity.name']) ?? span.name;
  if (attrs.text(KEYS.vercelOperation) !== null) return attrs.text(['ai.telemetry.functionId']);
  return null;
}

/** The call's arguments: an arguments attribute, else an object flattened into one attribute per argument; null when the producer sent none. */
function toolArgumentsOf(attrs: AttributeIndex): string | null {
  const whole = attrs.text(KEYS.toolArguments);
  if (whole !== null) return whole;
  for (const prefix of FLATTENED_ARGUMENTS) {
    const args = attrs.flattened(prefix);
    if (args !== null) return JSON.stringify(args);
  }
  return null;
}

/** The most characters of an error message kept: what a detection's description can show. */
const MAX_ERROR_CHARS = 500;

/** The line of a Python traceback that names the exception: its last `Type: message` line. */
const TRACEBACK_START = /Traceback \(most recent call last\):/;
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Timeout|Cancelled\w*)|[A-Za-z_][\w.]*\.[A-Z]\w*)(?::\s?(.*))?$/;

/**
 * An error text as detectors read it: the exception's type and message, without the
 * traceback around them (whose source lines, `fut.result(timeout)`, say nothing about
 * what failed), shortened to MAX_ERROR_CHARS.
 */
export function errorText(raw: string): string {
  let text = raw.trim();
  if (TRACEBACK_START.test(text)) {
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const named = [...lines].reverse().find((l) => EXCEPTION_LINE.test(l));
    text = named ?? lines[lines.length - 1] ?? text;
  }
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

function errorOf(span: CanonicalSpan, attrs: AttributeIndex): { isError: boolean; message: string | null } {
  const exception = span.events.find((e) => e.name === 'exception');
  let exceptionMessage: string | null = null;
  if (exception !== undefined) {
    const fields = new AttributeIndex(exception.attributes);
    const type = fields.text(['exception.type']);
    const message = fields.text(['exception.message']);
    exceptionMessage = message !== null && message !== '' ? (type !== null && !message.startsWith(type) ? `${type}: ${message}` : message) : type;
  }
  const status = span.status.message;
  // A status message that is a whole traceback gives way to the exception event, which names the same exception plainly.
  const statusText = status === '' ? null : TRACEBACK_START.test(status) && exceptionMessage !== null ? exceptionMessage : status;
  const shorten = (m: string | null) => (m === null ? null : errorText(m));
  if (span.status.code === 2) {
    return { isError: true, message: shorten(statusText ?? exceptionMessage ?? attrs.text(['error.type'])) };
  }
  if (exception !== undefined) return { isError: true, message: shorten(exceptionMessage) };
  const errorType = attrs.text(['error.type']);
  return errorType !== null ? { isError: true, message: shorten(errorType) } : { isError: false, message: null };
}

/** A tool span's tool: its tool attribute, else the span's name. */
function toolNameOf(span: CanonicalSpan, attributeName: string | null, isTool: boolean): string | null {
  return isTool ? (attributeName ?? span.name) : attributeName;
}

function attributeIndexOf(span: CanonicalSpan): AttributeIndex {
  return new AttributeIndex(span.attributes, span.scope.attributes, span.resource.attributes);
}

/** A Vercel AI SDK call whose usage is its model calls' (ai.generateText over ai.generateText.doGenerate). */
function drivesModelCalls(attrs: AttributeIndex, operation: Operation): boolean {
  return operation === 'invoke_agent' && attrs.text(KEYS.vercelOperation) !== null;
}

/** A tool span's tool from a convention that names it elsewhere: traceloop's entity name. */
function toolAttributeOf(attrs: AttributeIndex): string | null {
  const named = attrs.text(KEYS.toolName);
  if (named !== null) return named;
  return attrs.text(['traceloop.span.kind'])?.toLowerCase() === 'tool' ? attrs.text(['traceloop.entity.name']) : null;
}

export function toSemanticSpan(span: CanonicalSpan): SemanticSpan {
  const attrs = attributeIndexOf(span);
  const toolName = toolAttributeOf(attrs);
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
    agentName: agentNameOf(attrs, span, operation),
    agentId: attrs.text(KEYS.agentId),
    agentRole: agentRoleOf(attrs),
    model: attrs.text(KEYS.model),
    provider: attrs.text(KEYS.provider),
    // The Vercel AI SDK repeats its model calls' usage, summed, on the call that drives them.
    inputTokens: drivesModelCalls(attrs, operation) ? null : attrs.count(KEYS.inputTokens),
    outputTokens: drivesModelCalls(attrs, operation) ? null : attrs.count(KEYS.outputTokens),
    cachedInputTokens: attrs.count(KEYS.cachedInputTokens),
    declaredTools: declaredToolsOf(attrs),
    toolName: toolNameOf(span, toolName, isTool),
    toolArguments: isTool ? toolArgumentsOf(attrs) : null,
    toolResult: isTool ? attrs.text(KEYS.toolResult) : null,
    state: attrs.text(KEYS.state),
    // Else from GenAI events: span events, or log records folded into the span (genai-events.ts).
    prompt: isTool ? null : (attrs.text(KEYS.prompt) ?? eventPrompt(span)),
    completion: isTool ? null : (attrs.text(KEYS.completion) ?? eventCompletion(span)),
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
  const mapped: SemanticSpan[] = [];
  let synthesized = false;
  for (const span of sorted) {
    const semantic = mapSpan(span);
    mapped.push(semantic);
    // Model calls some producers record as events of a session span (genai-events.ts).
    for (const call of eventModelCalls(span, semantic)) {
      mapped.push(call);
      synthesized = true;
    }
  }
  if (synthesized) mapped.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
  return {
    tenantId,
    traceId,
    serviceName: root === undefined ? 'unknown_service' : serviceNameOf(root),
    spans: mapped,
  };
}
