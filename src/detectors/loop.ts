/**
 * Loop: the same tool called again and again with the same arguments. An agent that
 * repeats an identical call expects a different answer from the same input, which is the
 * commonest way agent runs burn tokens without progress.
 *
 * Calls whose arguments were not recorded are not compared (v2): nothing says they were
 * identical, and counting them as such made every run of an uninstrumented tool a loop.
 *
 * Blind spots: calls whose arguments differ only in a counter or timestamp are not
 * identical and are not caught here; repeated calls that are legitimately idempotent
 * polls (waiting for a job) look the same as a loop; a loop of calls whose arguments the
 * producer does not record is not seen.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { clamp01 } from './detector.js';

const configSchema = z.object({
  /** Identical calls needed to call it a loop. */
  minRepeats: z.number().int().min(2).max(1000),
});
type LoopConfig = z.infer<typeof configSchema>;

/** Arguments compared after parsing JSON so key order and spacing do not matter. */
function canonicalArguments(text: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text.trim();
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export const loopDetector: DetectorModule<LoopConfig> = {
  id: 'loop',
  version: 2,
  configSchema,
  defaults: { minRepeats: 3 },
  live: { relevant: (span) => span.operation === 'execute_tool' && span.toolName !== null && span.toolArguments !== null },
  create(config) {
    return (trace) => {
      const groups = new Map<string, SemanticSpan[]>();
      for (const span of trace.spans) {
        // Unrecorded arguments are unknown, not equal: such calls are not compared.
        if (span.operation !== 'execute_tool' || span.toolName === null || span.toolArguments === null) continue;
        const key = `${span.toolName}\u0000${canonicalArguments(span.toolArguments)}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, [span]);
        else group.push(span);
      }
      const findings: Finding[] = [];
      for (const [key, calls] of groups) {
        if (calls.length < config.minRepeats) continue;
        const first = calls[0]!;
        const spanIds = calls.map((c) => c.spanId);
        const agents = [...new Set(calls.map((c) => c.agentName).filter((a): a is string => a !== null))];
        const excess = calls.length - config.minRepeats;
        findings.push({
          detectionType: 'loop',
          title: `Tool "${first.toolName}" called ${calls.length} times with identical arguments`,
          description:
            `The run called ${first.toolName} ${calls.length} times with the same arguments. ` +
            'Repeating an identical call rarely produces new information and usually means the agent is stuck.',
          confidence: clamp01(0.7 + 0.05 * excess),
          severity: calls.length >= config.minRepeats * 2 ? 'high' : 'medium',
          evidence: [
            {
              description: `${calls.length} identical calls to ${first.toolName}`,
              spanIds,
              data: { tool: first.toolName, arguments: first.toolArguments, repeats: calls.length },
            },
          ],
          affectedSpanIds: spanIds,
          agent: agents.length === 1 ? agents[0]! : (agents[0] ?? null),
          suggestedFix:
            'Give the agent a stop condition for repeated tool calls (cache results, cap identical calls, ' +
            'or feed the previous result back into its context so it can change course).',
          fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};
