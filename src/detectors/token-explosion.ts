/**
 * Token explosion: the prompt of each model call growing step after step until it nears the
 * model's context window, or a run's total tokens far beyond a budget. Prompts that grow
 * with every step usually mean the agent appends whole tool results or its own history
 * without trimming; they end in a context overflow.
 *
 * Every ReAct-style agent's prompt grows: each step appends the last tool result. That
 * alone is not a failure (v1 reported it, high from a sixfold growth, on runs whose largest
 * prompt was a fifth of the window). Growth is judged against the model's context window
 * and the run's own pace (v2):
 *
 * Signals: per agent, the input tokens of its successive chat calls in start order. A run of
 * at least `minCalls` strictly growing calls whose last prompt is at least `growthFactor`
 * times its first, and reaches `windowShare` of its model's context window (the table
 * context_overflow reads, plus `extraWindows`), is a finding. Severity high when, at the
 * run's own recent pace (the mean growth per call over its last `minCalls` calls), the next
 * `minCalls` calls would pass the window: the run is about to overflow; medium otherwise.
 * Separately, when `tokenBudget` is set, the trace's total input + output tokens above it is
 * a finding (medium, high from twice the budget).
 *
 * Blind spots: a model whose window is unknown (not in the table nor in `extraWindows`)
 * yields no growth finding; growth interrupted by one smaller call (a summarisation step)
 * restarts the run; calls without token counts are skipped; cached input tokens count like
 * any other.
 */
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf, clamp01 } from './detector.js';
import { contextWindow, normaliseModel } from './context-overflow.js';

const configSchema = z.object({
  /** Successive growing calls needed to call it an explosion. */
  minCalls: z.number().int().min(2).max(1000),
  /** Last prompt over first prompt of the growing run. */
  growthFactor: z.number().gt(1).max(1_000_000),
  /** Share of the model's context window the growing run's last prompt must reach. */
  windowShare: z.number().gt(0).max(1),
  /** Extra or corrected context windows in tokens, by lower-case model name, as context_overflow's. */
  extraWindows: z.record(z.string(), z.number().int().positive()),
  /** Total input + output tokens of a trace above which it is a finding; null for none. */
  tokenBudget: z.number().int().positive().nullable(),
});
type TokenExplosionConfig = z.infer<typeof configSchema>;

type Call = SemanticSpan & { readonly inputTokens: number };

export const tokenExplosionDetector: DetectorModule<TokenExplosionConfig> = {
  id: 'token_explosion',
  version: 2,
  configSchema,
  defaults: { minCalls: 4, growthFactor: 3, windowShare: 0.5, extraWindows: {}, tokenBudget: null },
  create(config) {
    const extra = Object.fromEntries(Object.entries(config.extraWindows).map(([k, v]) => [normaliseModel(k), v]));
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const perAgent = new Map<string | null, Call[]>();
      for (const span of trace.spans) {
        if (span.operation !== 'chat' || span.inputTokens === null) continue;
        const agent = agentOf(span, byId);
        const calls = perAgent.get(agent);
        if (calls === undefined) perAgent.set(agent, [span as Call]);
        else calls.push(span as Call);
      }

      const findings: Finding[] = [];
      for (const [agent, calls] of perAgent) {
        let start = 0;
        for (let i = 1; i <= calls.length; i++) {
          if (i < calls.length && calls[i]!.inputTokens > calls[i - 1]!.inputTokens) continue;
          const run = calls.slice(start, i);
          start = i;
          if (run.length < config.minCalls) continue;
          const first = run[0]!.inputTokens;
          const last = run[run.length - 1]!.inputTokens;
          const factor = first === 0 ? Number.POSITIVE_INFINITY : last / first;
          if (factor < config.growthFactor) continue;
          // Judged against the window of the model the run ends on; unknown, no judgement.
          const lastCall = run[run.length - 1]!;
          const window = lastCall.model === null ? null : contextWindow(lastCall.model, extra);
          if (window === null) continue;
          const share = last / window.tokens;
          if (share < config.windowShare) continue;
          // The run's own recent pace: mean growth per call over its last minCalls calls.
          const recent = run.slice(-config.minCalls);
          const pace = (last - recent[0]!.inputTokens) / (recent.length - 1);
          const projected = last + pace * config.minCalls;
          const imminent = projected >= window.tokens;
          const spanIds = run.map((c) => c.spanId);
          const shown = Number.isFinite(factor) ? `${Math.round(factor * 10) / 10}x` : `from 0 to ${last} tokens`;
          const percent = Math.round(share * 100);
          findings.push({
            detectionType: 'token_explosion',
            title: `Prompt tokens grew ${shown} over ${run.length} model calls${agent !== null ? ` of ${agent}` : ''}, to ${percent}% of the context window`,
            description:
              `The prompt of each of ${run.length} successive model calls${agent !== null ? ` by ${agent}` : ''} was larger than the last, ` +
              `from ${first} to ${last} input tokens, ${percent}% of the ${window.tokens}-token window of ${lastCall.model}. ` +
              (imminent
                ? `At its recent pace (${Math.round(pace)} tokens per call) it passes the window within ${config.minCalls} more calls.`
                : `At its recent pace (${Math.round(pace)} tokens per call) it would reach about ${Math.round((projected / window.tokens) * 100)}% of the window in ${config.minCalls} more calls.`),
            confidence: clamp01(Math.min(0.9, 0.65 + 0.05 * (run.length - config.minCalls) + (imminent ? 0.1 : 0))),
            // Effect on the run: about to overflow the window, or not yet.
            severity: imminent ? 'high' : 'medium',
            evidence: [
              {
                description: `input tokens of ${run.length} successive calls`,
                spanIds,
                data: {
                  agent,
                  inputTokens: run.map((c) => c.inputTokens),
                  factor: Number.isFinite(factor) ? factor : null,
                  model: lastCall.model,
                  contextWindow: window.tokens,
                  windowShare: Math.round(share * 1000) / 1000,
                  tokensPerCall: Math.round(pace),
                },
              },
            ],
            affectedSpanIds: spanIds,
            agent,
            suggestedFix:
              'Bound what each step adds to the prompt: summarise history, keep only the last results, truncate ' +
              'tool outputs, and cap the number of steps.',
            fingerprint: `growth@${spanIds[0]!}`,
          });
        }
      }

      if (config.tokenBudget !== null) {
        const counted = trace.spans.filter((s) => s.inputTokens !== null || s.outputTokens !== null);
        const total = counted.reduce((sum, s) => sum + (s.inputTokens ?? 0) + (s.outputTokens ?? 0), 0);
        if (total > config.tokenBudget) {
          const spanIds = counted.map((s) => s.spanId);
          const perAgentTotal = new Map<string | null, number>();
          for (const s of counted) {
            const agent = agentOf(s, byId);
            perAgentTotal.set(agent, (perAgentTotal.get(agent) ?? 0) + (s.inputTokens ?? 0) + (s.outputTokens ?? 0));
          }
          let top: string | null = null;
          let topTokens = -1;
          for (const [agent, tokens] of perAgentTotal) {
            if (agent !== null && tokens > topTokens) [top, topTokens] = [agent, tokens];
          }
          const ratio = total / config.tokenBudget;
          findings.push({
            detectionType: 'token_explosion',
            title: `Run used ${total} tokens, ${Math.round(ratio * 10) / 10}x its budget of ${config.tokenBudget}`,
            description:
              `The model calls of this run used ${total} tokens in total against a budget of ${config.tokenBudget}` +
              (top !== null ? `; ${top} used the most (${topTokens})` : '') +
              '.',
            confidence: 0.9,
            severity: ratio >= 2 ? 'high' : 'medium',
            evidence: [
              {
                description: 'total input + output tokens of the run',
                spanIds,
                data: { total, budget: config.tokenBudget, perAgent: Object.fromEntries([...perAgentTotal].map(([a, t]) => [a ?? '', t])) },
              },
            ],
            affectedSpanIds: spanIds,
            agent: top,
            suggestedFix: 'Cap steps and tokens per run, trim prompts, and stop the run when it passes its budget.',
            fingerprint: 'budget',
          });
        }
      }
      return findings;
    };
  },
};
