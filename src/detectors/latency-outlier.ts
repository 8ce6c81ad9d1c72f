/**
 * Latency outliers and timeouts. A span is an outlier when it is far slower than its
 * siblings of the same kind in the trace (same operation and tool, else same operation
 * and model, else same operation and name): more than `ratio` times the group median and
 * longer than `minDurationMs`, in groups of at least `minGroupSize` spans. A timeout is a
 * span whose error headline (error-text.ts: the exception line of a traceback, the first
 * line of another stack trace, type names split into words) mentions a timeout or an
 * exceeded deadline: `TimeoutError`, `ReadTimeout`, "timed out", `DEADLINE_EXCEEDED`. A
 * word in a traceback's frames (`fut.result(timeout)`) is not read (v2).
 *
 * Severity: medium for timeouts, low for slow spans (medium from 3× the ratio).
 * Confidence: 0.9 for timeouts; 0.6 for outliers, growing with how far over the ratio.
 *
 * Blind spots: a step that is slow every time has no faster sibling and is not an
 * outlier; the first call of a group may be slow for warm-up reasons and is reported all
 * the same; a timeout reported without those words is only a plain error.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { clamp01 } from './detector.js';
import { classifiableError, errorHeadline } from './error-text.js';

const configSchema = z.object({
  /** A span must take more than this many times the median of its group. */
  ratio: z.number().gt(1).max(1000),
  /** And longer than this, in milliseconds. */
  minDurationMs: z.number().int().min(0),
  /** Spans of the same kind needed (the outlier included) to compare. */
  minGroupSize: z.number().int().min(3).max(10_000),
  /** Report spans whose error mentions a timeout or deadline. */
  reportTimeouts: z.boolean(),
});
type LatencyOutlierConfig = z.infer<typeof configSchema>;

const TIMEOUT = /\b(time[ds]?[\s_-]?outs?|timed[\s_-]out|deadline[\s_]exceeded|DEADLINE_EXCEEDED|ETIMEDOUT|ESOCKETTIMEDOUT|504 gateway)\b/i;

/** Whether an error text reports a timeout, judged by its headline. */
export function isTimeout(message: string): boolean {
  return TIMEOUT.test(classifiableError(message));
}

function durationMs(span: SemanticSpan): number {
  return span.endNs > span.startNs ? Number(span.endNs - span.startNs) / 1e6 : 0;
}

function groupKey(span: SemanticSpan): string {
  const what = span.toolName ?? span.model ?? span.name;
  return `${span.operation}\u0000${what}`;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const latencyOutlierDetector: DetectorModule<LatencyOutlierConfig> = {
  id: 'latency_outlier',
  version: 2,
  configSchema,
  defaults: { ratio: 5, minDurationMs: 10_000, minGroupSize: 3, reportTimeouts: true },
  create(config) {
    return (trace) => {
      const findings: Finding[] = [];
      const groups = new Map<string, SemanticSpan[]>();
      for (const span of trace.spans) {
        const list = groups.get(groupKey(span));
        if (list === undefined) groups.set(groupKey(span), [span]);
        else list.push(span);
      }
      for (const spans of groups.values()) {
        if (spans.length < config.minGroupSize) continue;
        const med = median(spans.map(durationMs).sort((a, b) => a - b));
        for (const span of spans) {
          const ms = durationMs(span);
          if (ms <= config.minDurationMs || ms <= config.ratio * med) continue;
          const times = med > 0 ? ms / med : Infinity;
          const what = span.toolName ?? span.model ?? span.name;
          findings.push({
            detectionType: 'latency_outlier',
            title: `Slow ${span.operation} "${what}": ${Math.round(ms)} ms`,
            description:
              `This span took ${Math.round(ms)} ms, ${Number.isFinite(times) ? `${times.toFixed(1)}×` : 'far above'} the median ` +
              `${Math.round(med)} ms of the ${spans.length} ${span.operation} spans of "${what}" in this run.`,
            confidence: clamp01(0.6 + (Number.isFinite(times) ? 0.05 * Math.log2(times / config.ratio) : 0.3)),
            severity: times >= 3 * config.ratio ? 'medium' : 'low',
            evidence: [
              {
                description: `${Math.round(ms)} ms against a group median of ${Math.round(med)} ms`,
                spanIds: [span.spanId],
                data: { durationMs: ms, medianMs: med, groupSize: spans.length, operation: span.operation, what },
              },
            ],
            affectedSpanIds: [span.spanId],
            agent: span.agentName ?? span.agentId,
            suggestedFix:
              'Set a timeout on this call, check the dependency it waits on (provider load, large input, slow tool backend), ' +
              'and consider caching or streaming.',
            fingerprint: `slow:${span.spanId}`,
          });
        }
      }
      if (config.reportTimeouts) {
        for (const span of trace.spans) {
          if (span.errorMessage === null || !isTimeout(span.errorMessage)) continue;
          const what = span.toolName ?? span.model ?? span.name;
          const headline = errorHeadline(span.errorMessage);
          findings.push({
            detectionType: 'timeout',
            title: `Timeout in ${span.operation} "${what}"`,
            description: `The span ended with a timeout after ${Math.round(durationMs(span))} ms: ${headline}.`,
            confidence: 0.9,
            severity: 'medium',
            evidence: [
              {
                description: headline,
                spanIds: [span.spanId],
                data: { durationMs: durationMs(span), operation: span.operation, what, error: span.errorMessage },
              },
            ],
            affectedSpanIds: [span.spanId],
            agent: span.agentName ?? span.agentId,
            suggestedFix:
              'Find what the call waited on; raise the deadline only if the work is legitimately long, otherwise add a bounded retry with backoff or a fallback.',
            fingerprint: `timeout:${span.spanId}`,
          });
        }
      }
      return findings;
    };
  },
};
