/**
 * Errored tool and LLM spans: a tool call or model call whose status is ERROR, or that
 * recorded an exception event. One finding per failing span, typed tool_failure or
 * llm_failure, attributed to the agent that made the call.
 *
 * Blind spots: a tool that reports failure inside a successful result (an "error" field
 * in its output) is not seen; spans of other operations are left to later detectors.
 */
import { z } from 'zod';
import type { DetectorModule, Finding } from './detector.js';

const configSchema = z.object({
  /** Also report errored spans whose operation could not be classified. */
  includeUnclassified: z.boolean(),
});
type SpanErrorsConfig = z.infer<typeof configSchema>;

export const spanErrorsDetector: DetectorModule<SpanErrorsConfig> = {
  id: 'span_errors',
  version: 1,
  configSchema,
  defaults: { includeUnclassified: false },
  // One failing span is the whole evidence.
  live: { relevant: (span) => span.isError },
  create(config) {
    return (trace) => {
      const findings: Finding[] = [];
      for (const span of trace.spans) {
        if (!span.isError) continue;
        const isTool = span.operation === 'execute_tool';
        const isLlm = span.operation === 'chat' || span.operation === 'embeddings';
        if (!isTool && !isLlm && !config.includeUnclassified) continue;
        const what = isTool ? `tool "${span.toolName ?? span.name}"` : isLlm ? `model call "${span.name}"` : `step "${span.name}"`;
        findings.push({
          detectionType: isTool ? 'tool_failure' : isLlm ? 'llm_failure' : 'step_failure',
          title: `${isTool ? 'Tool' : isLlm ? 'LLM call' : 'Step'} failed: ${span.toolName ?? span.name}`,
          description: `The ${what} ended with an error${span.errorMessage ? `: ${span.errorMessage}` : ''}.`,
          confidence: 0.95,
          severity: 'high',
          evidence: [
            {
              description: span.errorMessage ?? 'span status is ERROR',
              spanIds: [span.spanId],
              data: { operation: span.operation, tool: span.toolName, model: span.model, error: span.errorMessage },
            },
          ],
          affectedSpanIds: [span.spanId],
          agent: span.agentName,
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
