/**
 * Empty or truncated LLM output, per model call (operation chat). Signals:
 * - empty: the completion was captured and is empty or whitespace (or an empty JSON
 *   string, array or object);
 * - no tokens: output tokens 0 while input tokens > 0;
 * - truncated: the completion text records a finish reason of length / max_tokens, or it
 *   ends mid-sentence while the output token count sits exactly on a round cap
 *   (`tokenCaps`, by default 256, 512, 1024, 2048, 4096, 8192).
 *
 * Severity high for empty output, medium for truncation. Confidence 0.9 for empty text and
 * a recorded finish reason, 0.85 for zero output tokens, 0.65 for the cap heuristic.
 *
 * Blind spots: a call whose completion is not captured and whose token counts are absent
 * is not judged; truncation at a cap not in the list, or ending on punctuation by chance,
 * is missed; a tool-call-only response recorded as an empty completion looks empty.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';

const configSchema = z.object({
  /** Output token counts that are typical max_tokens caps. */
  tokenCaps: z.array(z.number().int().positive()).max(100),
  /** Also report completions that look truncated (not only empty ones). */
  reportTruncated: z.boolean(),
});
type EmptyOutputConfig = z.infer<typeof configSchema>;

const FINISH_LENGTH = /\b(finish_reason|finishReason|stop_reason|stopReason)\b["']?\s*[:=]\s*["']?(length|max_tokens|max_output_tokens)\b/i;
/** A completion that ends like a finished sentence, list, code block or JSON value. */
const ENDS_CLEANLY = /[.!?。！？:;)\]}>"'`*…\d]\s*$/;

interface Problem {
  readonly kind: 'empty' | 'no_tokens' | 'truncated';
  readonly reason: string;
  readonly confidence: number;
}

function problemOf(span: SemanticSpan, config: EmptyOutputConfig): Problem | null {
  const text = span.completion;
  if (text !== null) {
    const t = text.trim();
    if (t === '' || t === '""' || t === '[]' || t === '{}') return { kind: 'empty', reason: 'the completion is empty', confidence: 0.9 };
  }
  if (span.outputTokens === 0 && span.inputTokens !== null && span.inputTokens > 0) {
    return { kind: 'no_tokens', reason: `0 output tokens for ${span.inputTokens} input tokens`, confidence: 0.85 };
  }
  if (!config.reportTruncated || text === null) return null;
  const finish = FINISH_LENGTH.exec(text);
  if (finish !== null) return { kind: 'truncated', reason: `finish reason "${finish[2]!}"`, confidence: 0.9 };
  if (span.outputTokens !== null && config.tokenCaps.includes(span.outputTokens) && !ENDS_CLEANLY.test(text)) {
    return { kind: 'truncated', reason: `ends mid-sentence at ${span.outputTokens} output tokens, a common max_tokens cap`, confidence: 0.65 };
  }
  return null;
}

export const emptyOutputDetector: DetectorModule<EmptyOutputConfig> = {
  id: 'empty_output',
  version: 1,
  configSchema,
  defaults: { tokenCaps: [256, 512, 1024, 2048, 4096, 8192], reportTruncated: true },
  live: { relevant: (span) => span.operation === 'chat' && !span.isError, perSpan: true },
  create(config) {
    return (trace) => {
      const findings: Finding[] = [];
      for (const span of trace.spans) {
        if (span.operation !== 'chat' || span.isError) continue;
        const problem = problemOf(span, config);
        if (problem === null) continue;
        const truncated = problem.kind === 'truncated';
        const model = span.model ?? span.name;
        findings.push({
          detectionType: truncated ? 'truncated_output' : 'empty_output',
          title: truncated ? `LLM output truncated: ${model}` : `LLM returned empty output: ${model}`,
          description: truncated
            ? `The model call stopped before finishing its answer (${problem.reason}). Later steps act on a partial answer.`
            : `The model call produced no content (${problem.reason}). Later steps act on nothing.`,
          confidence: problem.confidence,
          severity: truncated ? 'medium' : 'high',
          evidence: [
            {
              description: problem.reason,
              spanIds: [span.spanId],
              data: {
                kind: problem.kind,
                model: span.model,
                inputTokens: span.inputTokens,
                outputTokens: span.outputTokens,
                completionTail: span.completion?.slice(-200) ?? null,
              },
            },
          ],
          affectedSpanIds: [span.spanId],
          agent: span.agentName ?? span.agentId,
          suggestedFix: truncated
            ? 'Raise max_tokens for this call or ask for shorter output, and check the finish reason before using a completion.'
            : 'Check the finish reason and content filters of the provider response, and retry or fail the step when the completion is empty.',
          fingerprint: span.spanId,
        });
      }
      return findings;
    };
  },
};
