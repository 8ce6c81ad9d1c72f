/**
 * Premature termination: the run ends claiming success while errors are still
 * unresolved. The claim is read from the last span (by end time) that carries a completion
 * or a state: success words in the completion or state text (done, completed, success,
 * finished, "task complete", accomplished), not negated ("not done", "failed to
 * complete"), or a final state whose status field is complete/done/finished/success. An
 * error is unresolved when no later span of the same step (same tool, else same operation
 * and name) succeeded.
 *
 * Thresholds: `minUnresolvedErrors` errors before the claim is judged premature.
 * Severity high; confidence grows with the number of unresolved errors.
 *
 * Blind spots: an agent that recovers from an error by another route (a different tool)
 * is still reported; a claim phrased without the listed words is not seen; errors the
 * producer did not mark on spans are invisible.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule } from './detector.js';
import { clamp01 } from './detector.js';

const configSchema = z.object({
  /** Unresolved errors needed before a success claim is called premature. */
  minUnresolvedErrors: z.number().int().min(1).max(1000),
});
type PrematureTerminationConfig = z.infer<typeof configSchema>;

const SUCCESS = /\b(task (?:is )?complete(?:d)?|all done|done|completed?|success(?:ful(?:ly)?)?|succeeded|finished|accomplished)\b/i;
const NEGATED =
  /\b(not|never|n't|unable to|failed to|could not|cannot|can't|couldn't|incomplete|unsuccessful(?:ly)?)\b[\w\s,]{0,20}\b(complete(?:d)?|done|finish(?:ed)?|success(?:ful(?:ly)?)?|succeed(?:ed)?|accomplish(?:ed)?)\b/i;
const DONE_STATUS = new Set(['complete', 'completed', 'done', 'finished', 'success', 'succeeded']);

function statusSaysDone(state: string): string | null {
  try {
    const parsed: unknown = JSON.parse(state);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    for (const key of ['status', 'phase', 'stage']) {
      const v = (parsed as Record<string, unknown>)[key];
      if (typeof v === 'string' && DONE_STATUS.has(v.trim().toLowerCase())) return `${key}: ${v}`;
    }
  } catch {
    // Not JSON: read as text below.
  }
  return null;
}

function textClaimsSuccess(text: string): string | null {
  if (NEGATED.test(text)) return null;
  const m = SUCCESS.exec(text);
  return m === null ? null : m[0];
}

/** The success claim of the final span, or null. */
function claimOf(span: SemanticSpan): string | null {
  if (span.state !== null) {
    const status = statusSaysDone(span.state);
    if (status !== null) return status;
  }
  if (span.completion !== null) return textClaimsSuccess(span.completion);
  return null;
}

function stepKey(span: SemanticSpan): string {
  return span.toolName !== null ? `tool\u0000${span.toolName}` : `${span.operation}\u0000${span.name}`;
}

export const prematureTerminationDetector: DetectorModule<PrematureTerminationConfig> = {
  id: 'premature_termination',
  version: 1,
  configSchema,
  defaults: { minUnresolvedErrors: 1 },
  create(config) {
    return (trace) => {
      const spans = trace.spans;
      let last: SemanticSpan | null = null;
      for (const span of spans) {
        if (span.completion === null && span.state === null) continue;
        if (last === null || span.endNs >= last.endNs) last = span;
      }
      if (last === null) return [];
      const claim = claimOf(last);
      if (claim === null) return [];
      const unresolved = spans.filter(
        (e, i) =>
          e.isError &&
          e.spanId !== last.spanId &&
          !spans.some((s, j) => j > i && !s.isError && s.startNs >= e.startNs && stepKey(s) === stepKey(e)),
      );
      if (unresolved.length < config.minUnresolvedErrors) return [];
      const errorIds = unresolved.map((e) => e.spanId);
      return [
        {
          detectionType: 'premature_termination',
          title: `Run claims success ("${claim}") with ${unresolved.length} unresolved error(s)`,
          description:
            `The final output claims the task succeeded, but ${unresolved.length} step(s) failed and were never retried successfully ` +
            `(${unresolved.slice(0, 3).map((e) => e.toolName ?? e.name).join(', ')}${unresolved.length > 3 ? ', …' : ''}). ` +
            'The result is likely incomplete or wrong.',
          confidence: clamp01(0.65 + 0.05 * (unresolved.length - 1)),
          severity: 'high',
          evidence: [
            { description: `final span claims success: ${claim}`, spanIds: [last.spanId], data: { claim } },
            {
              description: 'errors with no later successful retry of the same step',
              spanIds: errorIds,
              data: { errors: unresolved.map((e) => ({ spanId: e.spanId, step: e.toolName ?? e.name, error: e.errorMessage })) },
            },
          ],
          affectedSpanIds: [...errorIds, last.spanId],
          agent: last.agentName ?? last.agentId,
          suggestedFix:
            'Make the agent check for unresolved errors before it reports completion: retry or surface failed steps, ' +
            'and require evidence of success (tool results) for a final "done".',
          fingerprint: createHash('sha256').update(`premature\u0000${last.spanId}`).digest('hex').slice(0, 16),
        },
      ];
    };
  },
};
