/**
 * Whether the run handled an error. An agent that retries a failed call and succeeds, takes
 * another route to the same object, or tells the user what failed has done its job: the
 * error is part of a run that can still succeed. An error the agent never answers, by a
 * successful action or a word to the user, is one the run likely failed on. span_errors and
 * premature_termination share this reading, so "handled" means the same to both.
 *
 * Scope: the agent of the failing span (its own, else its nearest ancestor's); spans
 * without any agent form one scope. Order: span start order, so "later" is a span that
 * started after the error (the trace's order).
 *
 * - retried: a later successful span of the same step in the scope: the same tool (any
 *   arguments: the same call succeeding, or a corrected one), a model call after a failed
 *   model call, else the same operation and span name.
 * - another route: a later successful call of another tool in the scope that acts on the
 *   same object: it shares an argument value (a string of at least three characters or a
 *   number, at any depth of the JSON arguments) with the failed call; when the failed call's
 *   arguments are unknown or hold no such value, any later successful call of another tool.
 * - explained: the scope's next reply (the first model output after the error whose text
 *   parts, tool calls aside, hold prose) relays the failure: it shares two content terms
 *   with the error message, or one and a word of failure (cannot, unable, unfortunately,
 *   not enough, …). Only tool errors are explained; a failed model call has no reply.
 *
 * Linear in the trace: one backward pass for retries and routes, one forward pass for replies.
 */
import type { SemanticSpan } from '../semantic/semantic-span.js';
import { agentOf } from './detector.js';
import { tokenize } from './lexical.js';

export type Handling =
  | { readonly kind: 'retried'; readonly spanId: string }
  | { readonly kind: 'another_route'; readonly spanId: string; readonly tool: string }
  | { readonly kind: 'explained'; readonly spanId: string };

const NO_AGENT = '\u0000';

function scopeOf(span: SemanticSpan, byId: ReadonlyMap<string, SemanticSpan>): string {
  return agentOf(span, byId) ?? NO_AGENT;
}

/** The step a span performs, for "the same step succeeded later". */
export function stepKey(span: SemanticSpan): string {
  if (span.operation === 'execute_tool' && span.toolName !== null) return `tool\u0000${span.toolName}`;
  if (span.operation === 'chat') return 'chat';
  return span.toolName !== null ? `tool\u0000${span.toolName}` : `${span.operation}\u0000${span.name}`;
}

/** Argument values that name an object: strings of three characters or more, and numbers. */
function argumentValues(text: string | null): string[] | null {
  if (text === null) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.trim().length >= 3) out.push(`s:${v.trim().toLowerCase()}`);
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      out.push(`n:${v}`);
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(doc);
  return out.length > 0 ? [...new Set(out)] : null;
}

const FAILURE_WORDS =
  /\b(?:unable|cannot|can't|can not|could not|couldn't|failed|fails|error|issue|problem|unfortunately|sorry|apologi[sz]e|insufficient|not (?:available|possible|allowed|permitted|eligible|enough|found|valid|work))\b/i;

/**
 * The text an agent says in a completion: text parts of a message list (GenAI parts,
 * OpenAI-style content), not its tool calls and their arguments; plain text as is.
 */
export function replyText(completion: string): string {
  const t = completion.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return completion;
  let doc: unknown;
  try {
    doc = JSON.parse(t);
  } catch {
    return completion;
  }
  const out: string[] = [];
  const walk = (v: unknown, textual: boolean): void => {
    if (typeof v === 'string') {
      if (textual && v.trim() !== '') out.push(v);
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item, textual);
    } else if (v !== null && typeof v === 'object') {
      const record = v as Record<string, unknown>;
      if (typeof record.type === 'string' && record.type !== 'text') return;
      for (const key of ['content', 'text', 'parts', 'message', 'messages', 'choices']) if (key in record) walk(record[key], key === 'content' || key === 'text');
    }
  };
  walk(doc, true);
  return out.join('\n');
}

/** Whether a reply relays an error: shared terms with the error message, or one and a word of failure. */
function relays(reply: string, replyTerms: ReadonlySet<string>, error: string | null): boolean {
  const errorTerms = new Set(tokenize(error ?? '').filter((t) => t !== 'error'));
  let shared = 0;
  for (const t of errorTerms) if (replyTerms.has(t)) shared++;
  return shared >= 2 || (shared >= 1 && FAILURE_WORDS.test(reply)) || (errorTerms.size === 0 && FAILURE_WORDS.test(reply));
}

/** How each errored span of the trace was handled; errors missing from the map were not. */
export function handledErrors(spans: readonly SemanticSpan[], byId: ReadonlyMap<string, SemanticSpan>): Map<string, Handling> {
  const handled = new Map<string, Handling>();
  if (!spans.some((s) => s.isError)) return handled;
  const scopes = spans.map((s) => scopeOf(s, byId));

  // Backward: what succeeded later in each scope.
  const laterStep = new Map<string, string>(); // scope + step → earliest later successful span
  const laterTools = new Map<string, Map<string, string>>(); // scope → tool → earliest later successful call
  const laterByValue = new Map<string, Map<string, string>>(); // scope + value → tool → span
  for (let i = spans.length - 1; i >= 0; i--) {
    const span = spans[i]!;
    const scope = scopes[i]!;
    if (span.isError) {
      const retry = laterStep.get(`${scope}\u0001${stepKey(span)}`);
      if (retry !== undefined) {
        handled.set(span.spanId, { kind: 'retried', spanId: retry });
      } else if (span.operation === 'execute_tool' && span.toolName !== null) {
        const route = routeOf(span, scope, laterTools, laterByValue);
        if (route !== null) handled.set(span.spanId, route);
      }
      continue;
    }
    laterStep.set(`${scope}\u0001${stepKey(span)}`, span.spanId);
    if (span.operation === 'execute_tool' && span.toolName !== null) {
      let tools = laterTools.get(scope);
      if (tools === undefined) laterTools.set(scope, (tools = new Map<string, string>()));
      tools.set(span.toolName, span.spanId);
      for (const value of argumentValues(span.toolArguments) ?? []) {
        const key = `${scope}\u0001${value}`;
        let byTool = laterByValue.get(key);
        if (byTool === undefined) laterByValue.set(key, (byTool = new Map<string, string>()));
        byTool.set(span.toolName, span.spanId);
      }
    }
  }

  // Forward: the scope's next reply after each tool error not handled otherwise.
  const pending = new Map<string, SemanticSpan[]>();
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    const scope = scopes[i]!;
    if (span.isError && span.operation === 'execute_tool' && !handled.has(span.spanId)) {
      const list = pending.get(scope);
      if (list === undefined) pending.set(scope, [span]);
      else list.push(span);
      continue;
    }
    if (span.operation !== 'chat' || span.isError || span.completion === null) continue;
    const waiting = pending.get(scope);
    if (waiting === undefined || waiting.length === 0) continue;
    const reply = replyText(span.completion);
    if (!/[a-z]{3,}/i.test(reply)) continue;
    const terms = new Set(tokenize(reply));
    // An error still running when the reply started cannot be in it; it waits for the next.
    const running = (e: SemanticSpan): boolean => e.endNs >= e.startNs && e.endNs > span.startNs;
    for (const error of waiting) {
      if (!running(error) && relays(reply, terms, error.errorMessage)) handled.set(error.spanId, { kind: 'explained', spanId: span.spanId });
    }
    pending.set(scope, waiting.filter(running));
  }
  return handled;
}

function routeOf(
  error: SemanticSpan,
  scope: string,
  laterTools: ReadonlyMap<string, ReadonlyMap<string, string>>,
  laterByValue: ReadonlyMap<string, ReadonlyMap<string, string>>,
): Handling | null {
  const tool = error.toolName!;
  const values = argumentValues(error.toolArguments);
  if (values === null) {
    for (const [other, spanId] of laterTools.get(scope) ?? []) if (other !== tool) return { kind: 'another_route', spanId, tool: other };
    return null;
  }
  for (const value of values) {
    for (const [other, spanId] of laterByValue.get(`${scope}\u0001${value}`) ?? []) {
      if (other !== tool) return { kind: 'another_route', spanId, tool: other };
    }
  }
  return null;
}

/** Words for a handling, for titles and descriptions. */
export function describeHandling(h: Handling): string {
  switch (h.kind) {
    case 'retried':
      return 'a later call of the same step succeeded';
    case 'another_route':
      return `the agent took another route that succeeded (${h.tool} on the same object)`;
    case 'explained':
      return 'the agent told the user what failed in its next reply';
  }
}
