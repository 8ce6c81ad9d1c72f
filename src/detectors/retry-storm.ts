/**
 * Retry storm: the same tool failing again and again in a row. An agent that keeps calling
 * a tool that keeps erroring is retrying blindly instead of changing its input, backing
 * off or giving up.
 *
 * Signals: execute_tool spans of one tool name in start order; a run of consecutive errored
 * calls (no successful call of that tool in between) of at least `minConsecutiveFailures`.
 * One finding per run, keyed by the tool and the run's first span so a live finding and the
 * final one share an id.
 *
 * Thresholds: 3 consecutive failures by default; severity medium, high from twice that
 * unless the run handled the storm's last failure (recovery.ts: a later success of the tool,
 * another route on the same object, or a reply telling the user, v2): a storm the run got
 * past wasted calls, but the run can still succeed.
 *
 * Blind spots: failures reported inside a successful result (an "error" field in the
 * output) are not errors here; retries that switch between tool names (search, then
 * search_v2) are separate runs; calls of other tools in between do not break a run.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf, clamp01 } from './detector.js';
import { describeHandling, handledErrors, type Handling } from './recovery.js';

const configSchema = z.object({
  /** Consecutive errored calls of one tool needed to call it a storm. */
  minConsecutiveFailures: z.number().int().min(2).max(1000),
});
type RetryStormConfig = z.infer<typeof configSchema>;

/** The most frequent agent of the run, ties to the first seen. */
function mainAgent(agents: readonly (string | null)[]): string | null {
  const counts = new Map<string, number>();
  for (const a of agents) if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best: string | null = null;
  for (const [agent, n] of counts) if (best === null || n > counts.get(best)!) best = agent;
  return best;
}

export const retryStormDetector: DetectorModule<RetryStormConfig> = {
  id: 'retry_storm',
  version: 2,
  configSchema,
  defaults: { minConsecutiveFailures: 3 },
  // Successful calls matter too: they end a run of failures.
  live: { relevant: (span) => span.operation === 'execute_tool' },
  create(config) {
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const runs: { tool: string; calls: SemanticSpan[] }[] = [];
      const open = new Map<string, SemanticSpan[]>();
      const close = (tool: string) => {
        const calls = open.get(tool);
        if (calls !== undefined && calls.length >= config.minConsecutiveFailures) runs.push({ tool, calls });
        open.delete(tool);
      };
      for (const span of trace.spans) {
        if (span.operation !== 'execute_tool' || span.toolName === null) continue;
        if (!span.isError) {
          close(span.toolName);
          continue;
        }
        const calls = open.get(span.toolName);
        if (calls === undefined) open.set(span.toolName, [span]);
        else calls.push(span);
      }
      for (const tool of [...open.keys()]) close(tool);
      runs.sort((a, b) => trace.spans.indexOf(a.calls[0]!) - trace.spans.indexOf(b.calls[0]!));
      const handled = runs.length === 0 ? new Map<string, Handling>() : handledErrors(trace.spans, byId);
      return runs.map(({ tool, calls }): Finding => {
        const handling = handled.get(calls[calls.length - 1]!.spanId);
        const spanIds = calls.map((c) => c.spanId);
        const messages = [...new Set(calls.map((c) => c.errorMessage).filter((m): m is string => m !== null))];
        const excess = calls.length - config.minConsecutiveFailures;
        return {
          detectionType: 'retry_storm',
          title: `Tool "${tool}" failed ${calls.length} times in a row`,
          description:
            `The run called ${tool} ${calls.length} times in a row and every call failed` +
            (messages.length > 0 ? ` (${messages.slice(0, 3).join('; ')})` : '') +
            '. Retrying without changing the input or waiting rarely succeeds.',
          confidence: clamp01(Math.min(0.97, 0.8 + 0.05 * excess)),
          severity: calls.length >= config.minConsecutiveFailures * 2 && handling === undefined ? 'high' : 'medium',
          evidence: [
            {
              description: `${calls.length} consecutive failed calls to ${tool}`,
              spanIds,
              data: { tool, failures: calls.length, errors: messages, arguments: calls.map((c) => c.toolArguments) },
            },
            ...(handling === undefined
              ? []
              : [{ description: `handled: ${describeHandling(handling)}`, spanIds: [handling.spanId], data: { handling: handling.kind, spanId: handling.spanId } }]),
          ],
          affectedSpanIds: spanIds,
          agent: mainAgent(calls.map((c) => agentOf(c, byId))),
          suggestedFix:
            'Cap retries per tool, back off between attempts, and feed the error back to the agent so it changes ' +
            'its input or gives up; fix the tool or its credentials if the error is on its side.',
          fingerprint: `${tool}@${spanIds[0]!}`,
        };
      });
    };
  },
};
