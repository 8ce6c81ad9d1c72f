/**
 * Errored tool and LLM spans: a tool call or model call whose status is ERROR, or that
 * recorded an exception event. One finding per failing span, typed tool_failure or
 * llm_failure, attributed to the agent that made the call.
 *
 * Severity is the failure's effect on the run (v3, recovery.ts): high when the run never
 * answered it, low when it was handled: retried successfully, another route on the same
 * object succeeded, or (a tool error) the agent's next reply told the user what failed. An
 * answered error is part of a run that can still succeed; an unanswered one is where a run
 * likely fails. How it was handled is an evidence entry.
 *
 * A failed tool call also names its likely cause: the model call that decided it, i.e.
 * produced the tool's input. That is the tool span's parent when the parent is a chat
 * span, else the latest chat span that started before the tool span (and, when its end
 * time is known, ended no later than the tool started) of the same agent, or, when no
 * agent is named anywhere above the tool (OpenInference traces often name none), under the
 * tool's parent span (v3). It comes first in the affected spans and has its own evidence
 * entry; the fingerprint stays the failing span, so the detection id does not depend on it.
 *
 * Blind spots: a tool that reports failure inside a successful result (an "error" field
 * in its output) is not seen; spans of other operations are left to later detectors. The
 * cause is inferred from structure and time, not from the call id: with parallel model
 * calls of one agent (or under one parent) it may name the wrong one. Live (open-window)
 * findings see only errored spans, so they name the failing span alone, at severity high
 * (nothing has answered the error yet); the closed window adds the cause and lowers a
 * handled error, under the same detection id.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf } from './detector.js';
import { describeHandling, handledErrors } from './recovery.js';

const configSchema = z.object({
  /** Also report errored spans whose operation could not be classified. */
  includeUnclassified: z.boolean(),
});
type SpanErrorsConfig = z.infer<typeof configSchema>;

interface Cause {
  readonly span: SemanticSpan;
  readonly relation: 'parent' | 'previous_model_call';
}

/** Model calls looked at, latest first, before giving up on naming a cause. */
const MAX_CAUSE_CANDIDATES = 1000;

/** Whether `span` is `ancestorId` or lies under it. Safe against parent cycles. */
function within(span: SemanticSpan, ancestorId: string, byId: ReadonlyMap<string, SemanticSpan>): boolean {
  if (ancestorId === '') return true;
  const seen = new Set<string>();
  for (let s: SemanticSpan | undefined = span; s !== undefined && !seen.has(s.spanId); s = byId.get(s.parentSpanId)) {
    if (s.spanId === ancestorId || s.parentSpanId === ancestorId) return true;
    seen.add(s.spanId);
  }
  return false;
}

/** The model call that produced a tool call's input, or null when none can be told. */
function causeOf(tool: SemanticSpan, chats: readonly SemanticSpan[], byId: ReadonlyMap<string, SemanticSpan>): Cause | null {
  const parent = byId.get(tool.parentSpanId);
  if (parent !== undefined && parent.operation === 'chat') return { span: parent, relation: 'parent' };
  const agent = agentOf(tool, byId);
  // The latest chat that started before the tool: chats are in start order.
  let lo = 0;
  let hi = chats.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (chats[mid]!.startNs < tool.startNs) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1, looked = 0; i >= 0 && looked < MAX_CAUSE_CANDIDATES; i--, looked++) {
    const s = chats[i]!;
    if (s.spanId === tool.spanId) continue;
    // A call still running when the tool started did not decide it (when its end is known).
    if (s.endNs >= s.startNs && s.endNs > tool.startNs) continue;
    // The same agent; without one anywhere above the tool, a model call under the same parent.
    if (agent !== null ? agentOf(s, byId) !== agent : agentOf(s, byId) !== null || !within(s, tool.parentSpanId, byId)) continue;
    return { span: s, relation: 'previous_model_call' };
  }
  return null;
}

export const spanErrorsDetector: DetectorModule<SpanErrorsConfig> = {
  id: 'span_errors',
  version: 3,
  configSchema,
  defaults: { includeUnclassified: false },
  // One failing span is the whole evidence; the cause is added when the window closes.
  live: { relevant: (span) => span.isError, perSpan: true },
  create(config) {
    return (trace) => {
      const findings: Finding[] = [];
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const chats = trace.spans.filter((s) => s.operation === 'chat');
      const handled = handledErrors(trace.spans, byId);
      for (const span of trace.spans) {
        if (!span.isError) continue;
        const isTool = span.operation === 'execute_tool';
        const isLlm = span.operation === 'chat' || span.operation === 'embeddings';
        if (!isTool && !isLlm && !config.includeUnclassified) continue;
        const what = isTool ? `tool "${span.toolName ?? span.name}"` : isLlm ? `model call "${span.name}"` : `step "${span.name}"`;
        const cause = isTool ? causeOf(span, chats, byId) : null;
        const handling = handled.get(span.spanId);
        const evidence: Finding['evidence'][number][] = [
          {
            description: span.errorMessage ?? 'span status is ERROR',
            spanIds: [span.spanId],
            data: { operation: span.operation, tool: span.toolName, model: span.model, error: span.errorMessage },
          },
        ];
        if (cause !== null) {
          evidence.push({
            description:
              cause.relation === 'parent'
                ? 'the failing input came from this model call (the tool call’s parent)'
                : 'the failing input came from this model call (the agent’s last model call before the tool ran)',
            spanIds: [cause.span.spanId],
            data: { relation: cause.relation, spanId: cause.span.spanId, name: cause.span.name, model: cause.span.model, arguments: span.toolArguments },
          });
        }
        if (handling !== undefined) {
          evidence.push({
            description: `handled: ${describeHandling(handling)}`,
            spanIds: [handling.spanId],
            data: { handling: handling.kind, spanId: handling.spanId, ...(handling.kind === 'another_route' ? { tool: handling.tool } : {}) },
          });
        }
        findings.push({
          detectionType: isTool ? 'tool_failure' : isLlm ? 'llm_failure' : 'step_failure',
          title: `${isTool ? 'Tool' : isLlm ? 'LLM call' : 'Step'} failed${handling !== undefined ? ' (handled)' : ''}: ${span.toolName ?? span.name}`,
          description:
            `The ${what} ended with an error${span.errorMessage ? `: ${span.errorMessage}` : ''}.` +
            (handling !== undefined ? ` The run handled it: ${describeHandling(handling)}.` : ' Nothing later in the run answered it.'),
          confidence: 0.95,
          // The failure's effect on the run: an unanswered error is where runs fail.
          severity: handling !== undefined ? 'low' : 'high',
          evidence,
          // The cause first: that is where a fix of the input starts.
          affectedSpanIds: cause === null ? [span.spanId] : [cause.span.spanId, span.spanId],
          agent: span.agentName ?? (isTool ? agentOf(span, byId) : null),
          suggestedFix: isTool
            ? 'Check the tool input the agent produced and the tool itself; handle the error in the agent so it can recover or stop cleanly.'
            : 'Check the provider error (rate limit, context size, credentials) and add a bounded retry with backoff.',
          fingerprint: span.spanId,
        });
      }
      return findings;
    };
  },
};
