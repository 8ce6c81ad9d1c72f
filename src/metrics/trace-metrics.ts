/**
 * Per-trace metrics computed from the semantic trace. Pure; the trace stage adds ids and
 * the pipeline version.
 */
import type { TraceMeasures } from '../model/outputs.js';
import type { SemanticTrace } from '../semantic/semantic-span.js';

export function measureTrace(trace: SemanticTrace): TraceMeasures {
  let start: bigint | null = null;
  let end: bigint | null = null;
  let errorCount = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let llmCallCount = 0;
  let toolCallCount = 0;
  const agents = new Set<string>();
  const models = new Set<string>();
  for (const span of trace.spans) {
    if (start === null || span.startNs < start) start = span.startNs;
    if (end === null || span.endNs > end) end = span.endNs;
    if (span.isError) errorCount++;
    inputTokens += span.inputTokens ?? 0;
    outputTokens += span.outputTokens ?? 0;
    if (span.operation === 'chat') llmCallCount++;
    if (span.operation === 'execute_tool') toolCallCount++;
    if (span.agentName !== null) agents.add(span.agentName);
    if (span.model !== null) models.add(span.model);
  }
  return {
    startTimeUnixNano: start ?? 0n,
    durationMs: start === null || end === null ? 0 : Number(end - start) / 1e6,
    spanCount: trace.spans.length,
    errorCount,
    inputTokens,
    outputTokens,
    llmCallCount,
    toolCallCount,
    agents: [...agents].sort(),
    models: [...models].sort(),
  };
}
