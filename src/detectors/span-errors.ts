/**
 * Errored tool and LLM spans: a tool call or model call whose status is ERROR, or that
 * recorded an exception event. One finding per failing span, typed tool_failure or
 * llm_failure, attributed to the agent that made the call.
 *
 * A failed tool call also names its likely cause: the model call that decided it, i.e.
 * produced the tool's input. That is the tool span's parent when the parent is a chat
 * span, else the latest chat span of the same agent that started before the tool span
 * (and, when its end time is known, ended no later than the tool started). It comes first
 * in the affected spans and has its own evidence entry; the fingerprint stays the failing
 * span, so the detection id does not depend on it.
 *
 * Blind spots: a tool that reports failure inside a successful result (an "error" field
 * in its output) is not seen; spans of other operations are left to later detectors. The
 * cause is inferred from structure and time, not from the call id: with parallel model
 * calls of one agent it may name the wrong one. Live (open-window) findings see only
 * errored spans, so they name the failing span alone; the closed window adds the cause
 * under the same detection id.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf } from './detector.js';

const configSchema = z.object({
  /** Also report errored spans whose operation could not be classified. */
  includeUnclassified: z.boolean(),
});
type SpanErrorsConfig = z.infer<typeof configSchema>;

interface Cause {
  readonly span: SemanticSpan;
  readonly relation: 'parent' | 'previous_model_call';
}

/** The model call that produced a tool call's input, or null when none can be told. */
function causeOf(tool: SemanticSpan, spans: readonly SemanticSpan[], byId: ReadonlyMap<string, SemanticSpan>): Cause | null {
  const parent = byId.get(tool.parentSpanId);
  if (parent !== undefined && parent.operation === 'chat') return { span: parent, relation: 'parent' };
  const agent = agentOf(tool, byId);
  // Without an agent any earlier model call would do, which says nothing about the cause.
  if (agent === null) return null;
  let best: SemanticSpan | null = null;
  for (const s of spans) {
    if (s.operation !== 'chat' || s.spanId === tool.spanId || s.startNs >= tool.startNs) continue;
    // A call still running when the tool started did not decide it (when its end is known).
    if (s.endNs >= s.startNs && s.endNs > tool.startNs) continue;
    if (agentOf(s, byId) !== agent) continue;
    if (best === null || s.startNs >= best.startNs) best = s;
  }
  return best === null ? null : { span: best, relation: 'previous_model_call' };
}

export const spanErrorsDetector: DetectorModule<SpanErrorsConfig> = {
  id: 'span_errors',
  version: 2,
  configSchema,
  defaults: { includeUnclassified: false },
  // One failing span is the whole evidence; the cause is added when the window closes.
  live: { relevant: (span) => span.isError, perSpan: true },
  create(config) {
    return (trace) => {
      const findings: Finding[] = [];
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      for (const span of trace.spans) {
        if (!span.isError) continue;
        const isTool = span.operation === 'execute_tool';
        const isLlm = span.operation === 'chat' || span.operation === 'embeddings';
        if (!isTool && !isLlm && !config.includeUnclassified) continue;
        const what = isTool ? `tool "${span.toolName ?? span.name}"` : isLlm ? `model call "${span.name}"` : `step "${span.name}"`;
        const cause = isTool ? causeOf(span, trace.spans, byId) : null;
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
        findings.push({
          detectionType: isTool ? 'tool_failure' : isLlm ? 'llm_failure' : 'step_failure',
          title: `${isTool ? 'Tool' : isLlm ? 'LLM call' : 'Step'} failed: ${span.toolName ?? span.name}`,
          description: `The ${what} ended with an error${span.errorMessage ? `: ${span.errorMessage}` : ''}.`,
          confidence: 0.95,
          severity: 'high',
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
