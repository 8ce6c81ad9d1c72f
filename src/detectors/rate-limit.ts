/**
 * Rate-limit and service errors: calls rejected because the provider throttled the run
 * (429, quota exhausted) or was unavailable (overloaded, 502/503/504/529, timeouts). These
 * failures are not the agent's reasoning going wrong; they call for backoff, quotas or
 * fallbacks rather than prompt changes.
 *
 * Signals: errored spans whose error text (status message, else the exception event's
 * message or type, else error.type) matches a rate-limit or service-error pattern. Only the
 * error's headline is read (error-text.ts): the exception line of a traceback, the first
 * line of another stack trace, with exception type names split into words
 * (`ServiceUnavailableError`), so a word in a frame's source line (`fut.result(timeout)`)
 * does not classify the error (v2). One finding per kind and target (model, else tool, else
 * span name), typed rate_limit or service_error.
 *
 * Thresholds: one matching error is a finding (`minOccurrences`); severity high from
 * `highSeverityAt` occurrences (3), medium below.
 *
 * Blind spots: only the error text is read (HTTP status attributes are not on the semantic
 * span); a bare number such as 503 in an unrelated message matches; throttling that the
 * client retried successfully without recording an error is invisible; a traceback whose
 * exception line hides the cause (a generic wrapper exception) is not classified.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf, clamp01 } from './detector.js';
import { classifiableError, errorHeadline } from './error-text.js';

const configSchema = z.object({
  /** Matching errors of one kind and target needed for a finding. */
  minOccurrences: z.number().int().min(1).max(1000),
  /** Occurrences from which the finding is high severity. */
  highSeverityAt: z.number().int().min(1).max(1000),
});
type RateLimitConfig = z.infer<typeof configSchema>;

type Kind = 'rate_limit' | 'service_error';

const PATTERNS: readonly { readonly kind: Kind; readonly pattern: RegExp }[] = [
  { kind: 'rate_limit', pattern: /\b429\b|rate[ _-]?limit|too many requests|quota|resource[ _]?exhausted|throttl/i },
  {
    kind: 'service_error',
    pattern:
      /\b(?:502|503|504|529)\b|overloaded|service unavailable|bad gateway|gateway timeout|timed? ?out|deadline exceeded|ETIMEDOUT|ECONNRESET|capacity/i,
  },
];

/** The kind of an error text, read from its headline (never from a stack trace's frames). */
export function classifyError(message: string): Kind | null {
  const text = classifiableError(message);
  for (const { kind, pattern } of PATTERNS) if (pattern.test(text)) return kind;
  return null;
}

export const rateLimitDetector: DetectorModule<RateLimitConfig> = {
  id: 'rate_limit',
  version: 2,
  configSchema,
  defaults: { minOccurrences: 1, highSeverityAt: 3 },
  live: { relevant: (span) => span.isError && span.errorMessage !== null },
  create(config) {
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const groups = new Map<string, { kind: Kind; target: string; spans: SemanticSpan[] }>();
      for (const span of trace.spans) {
        if (!span.isError || span.errorMessage === null) continue;
        const kind = classifyError(span.errorMessage);
        if (kind === null) continue;
        const target = span.model ?? span.toolName ?? span.name;
        const key = `${kind}\u0000${target}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, { kind, target, spans: [span] });
        else group.spans.push(span);
      }
      const findings: Finding[] = [];
      for (const [key, { kind, target, spans }] of groups) {
        if (spans.length < config.minOccurrences) continue;
        const spanIds = spans.map((s) => s.spanId);
        const messages = [...new Set(spans.map((s) => errorHeadline(s.errorMessage!)))];
        const agents = spans.map((s) => agentOf(s, byId)).filter((a): a is string => a !== null);
        const limited = kind === 'rate_limit';
        findings.push({
          detectionType: kind,
          title: `${limited ? 'Rate limited' : 'Service error'} on ${target}${spans.length > 1 ? ` (${spans.length} times)` : ''}`,
          description:
            `${spans.length} call${spans.length === 1 ? '' : 's'} to ${target} ${limited ? 'were throttled by the provider' : 'failed because the service was unavailable or too slow'}: ` +
            `${messages.slice(0, 3).join('; ')}.`,
          confidence: clamp01(Math.min(0.95, 0.85 + 0.02 * (spans.length - 1))),
          severity: spans.length >= config.highSeverityAt ? 'high' : 'medium',
          evidence: [{ description: `${kind.replace('_', ' ')} errors on ${target}`, spanIds, data: { kind, target, errors: messages, count: spans.length } }],
          affectedSpanIds: spanIds,
          agent: agents[0] ?? null,
          suggestedFix: limited
            ? 'Retry with exponential backoff and jitter honouring Retry-After, limit concurrent calls, and raise the quota or spread load across keys or models.'
            : 'Retry with backoff and a deadline, and fall back to another model or region when the service stays unavailable.',
          fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};
