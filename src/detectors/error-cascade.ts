/**
 * Error cascade: an error that propagates up the span tree, each parent failing because its
 * child did. The finding names the origin (the deepest, earliest errored span of the chain)
 * and attributes the failure to the origin's agent, not to the agent at the top that only
 * passed the error on.
 *
 * Signals: errored spans whose errored ancestors, walked parent by parent without a
 * non-errored span in between, reach at least `minLevels` levels above the origin. One
 * finding per topmost errored span of a chain.
 *
 * Thresholds: 2 errored levels above the origin by default; severity critical when the
 * chain reaches a root span (the whole run failed), high otherwise.
 *
 * Blind spots: propagation across traces or through links is not followed; a parent that
 * fails for its own reason after a child failed looks like a cascade; errors swallowed
 * by a parent (status left OK) stop the chain.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf, clamp01 } from './detector.js';

const configSchema = z.object({
  /** Errored ancestors, above the origin, needed to call it a cascade. */
  minLevels: z.number().int().min(1).max(100),
});
type ErrorCascadeConfig = z.infer<typeof configSchema>;

export const errorCascadeDetector: DetectorModule<ErrorCascadeConfig> = {
  id: 'error_cascade',
  version: 1,
  configSchema,
  defaults: { minLevels: 2 },
  create(config) {
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const hasErroredChild = new Set<string>();
      for (const span of trace.spans) if (span.isError && byId.get(span.parentSpanId)?.isError === true) hasErroredChild.add(span.parentSpanId);

      // Origins are errored spans with no errored child; spans come in start order, so the
      // first origin found for a top is the earliest, and deeper chains win over shallower.
      const byTop = new Map<string, SemanticSpan[]>();
      for (const origin of trace.spans) {
        if (!origin.isError || hasErroredChild.has(origin.spanId)) continue;
        const chain = [origin];
        const seen = new Set([origin.spanId]);
        for (let p = byId.get(origin.parentSpanId); p !== undefined && p.isError && !seen.has(p.spanId); p = byId.get(p.parentSpanId)) {
          chain.push(p);
          seen.add(p.spanId);
        }
        if (chain.length - 1 < config.minLevels) continue;
        const top = chain[chain.length - 1]!;
        const current = byTop.get(top.spanId);
        if (current === undefined || chain.length > current.length) byTop.set(top.spanId, chain);
      }

      const findings: Finding[] = [];
      for (const chain of byTop.values()) {
        const origin = chain[0]!;
        const top = chain[chain.length - 1]!;
        const levels = chain.length - 1;
        const reachesRoot = !byId.has(top.parentSpanId);
        const spanIds = chain.map((s) => s.spanId);
        const originAgent = agentOf(origin, byId);
        const what = origin.toolName ?? origin.name;
        findings.push({
          detectionType: 'error_cascade',
          title: `Error in "${what}" propagated up ${levels} levels`,
          description:
            `The error in ${what}${origin.errorMessage !== null ? ` (${origin.errorMessage})` : ''} ` +
            `propagated through ${levels} enclosing spans up to "${top.name}"` +
            (reachesRoot ? ', failing the whole run.' : '.'),
          confidence: clamp01(Math.min(0.95, 0.8 + 0.05 * (levels - config.minLevels))),
          severity: reachesRoot ? 'critical' : 'high',
          evidence: [
            {
              description: `errored chain from the origin ${origin.spanId} up to ${top.spanId}`,
              spanIds,
              data: {
                origin: { spanId: origin.spanId, name: origin.name, agent: originAgent, error: origin.errorMessage },
                chain: chain.map((s) => ({ spanId: s.spanId, name: s.name, agent: s.agentName, error: s.errorMessage })),
                levels,
              },
            },
          ],
          affectedSpanIds: spanIds,
          agent: originAgent,
          suggestedFix:
            `Handle the failure where it starts (${what}): catch it in the calling agent, retry or fall back there, ` +
            'so that one failed step does not fail every step above it.',
          // The origin, not the top: parents end (and fail) after their children, so the top
          // can still move up while the run is live.
          fingerprint: origin.spanId,
        });
      }
      return findings;
    };
  },
};
