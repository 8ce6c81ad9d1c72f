/**
 * Per-trace metrics computed from the semantic trace. Pure (no I/O, no clock): the price
 * table is passed in; the trace stage adds ids and the pipeline version.
 *
 * Definitions (spans are those of the semantic trace, in start order, then span id):
 * - duration: earliest span start to latest span end. Critical path: see critical-path.ts.
 * - counts: spans; LLM calls (operation chat); tool calls (operation execute_tool);
 *   agents (distinct agent names).
 * - tokens: input, output and cached input, summed over every span that reports them;
 *   a missing count is zero. Input tokens are taken to include the cached ones, as the
 *   OpenTelemetry GenAI conventions define gen_ai.usage.input_tokens.
 * - cost (USD): per span reporting any token usage, (input − cached) × input price +
 *   cached × cached-input price + output × output price, prices per 1M tokens from the
 *   table (model looked up as prices.ts describes). When any such span's model is not in
 *   the table, or names no model (listed as UNNAMED_MODEL), the trace's cost is null and
 *   the models are listed in unpricedModels: never a silent default. No usage → 0.
 *   Rounded to 1e-9 USD.
 * - error rate: errored spans / spans; tool error rate: errored tool calls / tool calls
 *   (0 when there is nothing to divide by).
 * - retry rate: tool calls taken in start order and grouped by agent name (spans without
 *   one form their own group); a tool call is a retry when the previous tool call of the
 *   same group called the same tool (by name; calls without a tool name are never
 *   retries). Other spans in between (LLM calls) do not break the sequence. Retries /
 *   tool calls, 0 without tool calls.
 * - blast radius: the number of distinct files written by tools (blast-radius.ts), which
 *   filesWritten lists.
 * - agents, models: distinct names, sorted (models as reported, not normalised).
 */
import type { TraceMeasures } from '../model/outputs.js';
import type { SemanticSpan, SemanticTrace } from '../semantic/semantic-span.js';
import { filesWritten } from './blast-radius.js';
import { criticalPath } from './critical-path.js';
import { PRICE_TABLE, priceOf, type PriceTable } from './prices.js';

export { PRICE_TABLE, type PriceTable } from './prices.js';

/** How a span with token usage but no model name appears in unpricedModels. */
export const UNNAMED_MODEL = '(unnamed)';

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** Retries as defined above, over tool-call spans in start order. */
export function countRetries(toolCalls: readonly SemanticSpan[]): number {
  const previous = new Map<string | null, string | null>();
  let retries = 0;
  for (const span of toolCalls) {
    const last = previous.get(span.agentName);
    if (span.toolName !== null && last !== undefined && last === span.toolName) retries++;
    previous.set(span.agentName, span.toolName);
  }
  return retries;
}

interface Cost {
  readonly usd: number | null;
  readonly unpriced: readonly string[];
}

function traceCost(spans: readonly SemanticSpan[], prices: PriceTable): Cost {
  let usd = 0;
  const unpriced = new Set<string>();
  for (const span of spans) {
    const input = span.inputTokens ?? 0;
    const output = span.outputTokens ?? 0;
    const cached = span.cachedInputTokens ?? 0;
    if (input === 0 && output === 0 && cached === 0) continue;
    const price = span.model === null ? null : priceOf(prices, span.model);
    if (price === null) {
      unpriced.add(span.model ?? UNNAMED_MODEL);
      continue;
    }
    usd += (Math.max(0, input - cached) * price.input + cached * price.cachedInput + output * price.output) / 1e6;
  }
  return unpriced.size > 0 ? { usd: null, unpriced: [...unpriced].sort() } : { usd: Math.round(usd * 1e9) / 1e9, unpriced: [] };
}

export function measureTrace(trace: SemanticTrace, prices: PriceTable = PRICE_TABLE): TraceMeasures {
  const spans = [...trace.spans].sort((a, b) =>
    a.startNs !== b.startNs ? (a.startNs < b.startNs ? -1 : 1) : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0,
  );
  let start: bigint | null = null;
  let end: bigint | null = null;
  let errorCount = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  let llmCallCount = 0;
  const toolCalls: SemanticSpan[] = [];
  let toolErrorCount = 0;
  const agents = new Set<string>();
  const models = new Set<string>();
  for (const span of spans) {
    if (start === null || span.startNs < start) start = span.startNs;
    if (end === null || span.endNs > end) end = span.endNs;
    if (span.isError) errorCount++;
    inputTokens += span.inputTokens ?? 0;
    outputTokens += span.outputTokens ?? 0;
    cachedInputTokens += span.cachedInputTokens ?? 0;
    if (span.operation === 'chat') llmCallCount++;
    if (span.operation === 'execute_tool') {
      toolCalls.push(span);
      if (span.isError) toolErrorCount++;
    }
    if (span.agentName !== null) agents.add(span.agentName);
    if (span.model !== null) models.add(span.model);
  }
  const path = criticalPath(spans);
  const retryCount = countRetries(toolCalls);
  const cost = traceCost(spans, prices);
  const files = filesWritten(spans);
  return {
    startTimeUnixNano: start ?? 0n,
    durationMs: start === null || end === null || end < start ? 0 : nsToMs(end - start),
    criticalPathMs: nsToMs(path.durationNs),
    criticalPathSpanIds: path.spanIds,
    spanCount: spans.length,
    llmCallCount,
    toolCallCount: toolCalls.length,
    agentCount: agents.size,
    inputTokens,
    outputTokens,
    cachedInputTokens,
    costUsd: cost.usd,
    unpricedModels: cost.unpriced,
    priceTable: prices.taken,
    errorCount,
    errorRate: ratio(errorCount, spans.length),
    toolErrorCount,
    toolErrorRate: ratio(toolErrorCount, toolCalls.length),
    retryCount,
    retryRate: ratio(retryCount, toolCalls.length),
    blastRadius: files.length,
    filesWritten: files,
    agents: [...agents].sort(),
    models: [...models].sort(),
  };
}
