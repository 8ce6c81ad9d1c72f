/**
 * Premature termination: the run ends claiming success while errors are still
 * unresolved. The claim is read from the last span (by end time) that carries a completion
 * or a state: success words in the completion or state text (done, completed, success,
 * finished, "task complete", accomplished), not negated ("not done", "failed to
 * complete"), or a final state whose status field is complete/done/finished/success. An
 * error is unresolved when the run never handled it (recovery.ts, v2): no later success of
 * the same step (same tool, else same operation and name), no later successful call of
 * another tool on the same object (another route: the exchange failed, the return of the
 * same order succeeded), and no reply of the agent telling the user what failed.
 *
 * Thresholds: `minUnresolvedErrors` errors before the claim is judged premature.
 * Severity high (a run that claims success over an unanswered error likely failed);
 * confidence grows with the number of unresolved errors.
 *
 * Blind spots: another route is recognised by a shared argument value, so a lookup of the
 * same user after a failed booking counts as one; a claim phrased without the listed words
 * is not seen; errors the producer did not mark on spans are invisible.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule } from './detector.js';
import { agentOf, clamp01 } from './detector.js';
import { handledErrors } from './recovery.js';

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

export const prematureTerminationDetector: DetectorModule<PrematureTerminationConfig> = {
  id: 'premature_termination',
  version: 2,
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
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const handled = handledErrors(spans, byId);
      const unresolved = spans.filter((e) => e.isError && e.spanId !== last.spanId && !handled.has(e.spanId));
      if (unresolved.length < config.minUnresolvedErrors) return [];
      const errorIds = unresolved.map((e) => e.spanId);
      return [
        {
          detectionType: 'premature_termination',
          title: `Run claims success ("${claim}") with ${unresolved.length} unresolved error(s)`,
          description:
            `The final output claims the task succeeded, but ${unresolved.length} step(s) failed and the run never answered them ` +
            '(no successful retry, no other route on the same object, no word to the user) ' +
            `(${unresolved.slice(0, 3).map((e) => e.toolName ?? e.name).join(', ')}${unresolved.length > 3 ? ', …' : ''}). ` +
            'The result is likely incomplete or wrong.',
          confidence: clamp01(0.65 + 0.05 * (unresolved.length - 1)),
          severity: 'high',
          evidence: [
            { description: `final span claims success: ${claim}`, spanIds: [last.spanId], data: { claim } },
            {
              description: 'errors the run never handled: no successful retry or other route, not told to the user',
              spanIds: errorIds,
              data: { errors: unresolved.map((e) => ({ spanId: e.spanId, step: e.toolName ?? e.name, error: e.errorMessage })) },
            },
          ],
          affectedSpanIds: [...errorIds, last.spanId],
          // The claiming span's agent, else its nearest ancestor's (v2), else its agent id.
          agent: agentOf(last, byId) ?? last.agentId,
          suggestedFix:
            'Make the agent check for unresolved errors before it reports completion: retry or surface failed steps, ' +
            'and require evidence of success (tool results) for a final "done".',
          fingerprint: createHash('sha256').update(`premature\u0000${last.spanId}`).digest('hex').slice(0, 16),
        },
      ];
    };
  },
};
