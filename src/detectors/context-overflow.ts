/**
 * Context overflow: a model call whose prompt fills (or exceeds) the model's context
 * window. Near the limit the provider truncates or rejects the request, and the agent
 * loses the instructions or history it depends on.
 *
 * Signals: chat spans with input (prompt) tokens and a model name found in the maintained
 * table data/context-windows.json (dated; OpenAI, Anthropic and Google models) or in the
 * `extraWindows` setting. Names match exactly after lower-casing and dropping a provider
 * prefix (openai/, models/, anthropic.); a dated or versioned name (gpt-4o-2024-08-06,
 * claude-3-5-sonnet-20241022) matches its base name. An unknown model yields no
 * detection, never a guess. One finding per agent and model, over all its calls at or
 * above `threshold` of the window.
 *
 * Thresholds: 90% of the window by default; severity high when a prompt reaches the whole
 * window, medium otherwise.
 *
 * Blind spots: windows changed by a provider after the table's date, fine-tuned or
 * self-hosted models under custom names (add them with `extraWindows`), and models whose
 * window the request itself raised (beta long-context headers) are judged by the table.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { agentOf, clamp01 } from './detector.js';
import table from './data/context-windows.json' with { type: 'json' };

const configSchema = z.object({
  /** Fraction of the context window at which a prompt counts as overflowing. */
  threshold: z.number().gt(0).max(1),
  /** Extra or corrected windows in tokens, by lower-case model name; these win over the table. */
  extraWindows: z.record(z.string(), z.number().int().positive()),
});
type ContextOverflowConfig = z.infer<typeof configSchema>;

const TABLE: Readonly<Record<string, number>> = table.models;
export const CONTEXT_WINDOWS_UPDATED: string = table.updated;

/** A suffix that only dates or versions a model: -2024-08-06, -20241022, -002, -latest, -v1:0. */
const VERSION_SUFFIX = /^[-@](\d{3,8}|latest|preview|exp)([-:@.].*)?$/;

export function normaliseModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^.*\//, '')
    .replace(/^(?:[a-z]{2}\.)?(?:openai|anthropic|google|vertex_ai|azure)\./, '');
}

/** The context window of a model and the table key that matched, or null when unknown. */
export function contextWindow(model: string, extra: Readonly<Record<string, number>> = {}): { key: string; tokens: number } | null {
  const name = normaliseModel(model);
  const windows: Record<string, number> = { ...TABLE, ...extra };
  const exact = windows[name];
  if (exact !== undefined) return { key: name, tokens: exact };
  let best: string | null = null;
  for (const key of Object.keys(windows)) {
    if (name.startsWith(key) && VERSION_SUFFIX.test(name.slice(key.length)) && (best === null || key.length > best.length)) best = key;
  }
  return best === null ? null : { key: best, tokens: windows[best]! };
}

interface Hit {
  readonly span: SemanticSpan;
  readonly ratio: number;
}

export const contextOverflowDetector: DetectorModule<ContextOverflowConfig> = {
  id: 'context_overflow',
  version: 1,
  configSchema,
  defaults: { threshold: 0.9, extraWindows: {} },
  create(config) {
    const extra = Object.fromEntries(Object.entries(config.extraWindows).map(([k, v]) => [normaliseModel(k), v]));
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const groups = new Map<string, { agent: string | null; model: string; window: { key: string; tokens: number }; hits: Hit[] }>();
      for (const span of trace.spans) {
        if (span.operation !== 'chat' || span.model === null || span.inputTokens === null) continue;
        const window = contextWindow(span.model, extra);
        if (window === null) continue;
        const ratio = span.inputTokens / window.tokens;
        if (ratio < config.threshold) continue;
        const agent = agentOf(span, byId);
        const key = `${agent ?? ''}\u0000${window.key}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, { agent, model: span.model, window, hits: [{ span, ratio }] });
        else group.hits.push({ span, ratio });
      }
      const findings: Finding[] = [];
      for (const [key, { agent, model, window, hits }] of groups) {
        const peak = hits.reduce((a, b) => (b.ratio > a.ratio ? b : a));
        const spanIds = hits.map((h) => h.span.spanId);
        const over = peak.ratio >= 1;
        const percent = Math.round(peak.ratio * 100);
        findings.push({
          detectionType: 'context_overflow',
          title: over ? `Prompt exceeded the context window of ${model}` : `Prompt filled ${percent}% of the context window of ${model}`,
          description:
            `${hits.length} call${hits.length === 1 ? '' : 's'} to ${model}${agent !== null ? ` by ${agent}` : ''} sent ` +
            `up to ${peak.span.inputTokens} prompt tokens against a window of ${window.tokens} (${percent}%). ` +
            'Near the limit the provider truncates or rejects the request and the agent loses context.',
          confidence: clamp01(over ? 0.95 : 0.75 + 0.5 * (peak.ratio - config.threshold)),
          severity: over ? 'high' : 'medium',
          evidence: [
            {
              description: `prompt tokens at or above ${Math.round(config.threshold * 100)}% of ${window.tokens}`,
              spanIds,
              data: {
                model,
                tableKey: window.key,
                contextWindow: window.tokens,
                tableUpdated: CONTEXT_WINDOWS_UPDATED,
                calls: hits.map((h) => ({ spanId: h.span.spanId, inputTokens: h.span.inputTokens, ratio: Math.round(h.ratio * 1000) / 1000 })),
              },
            },
          ],
          affectedSpanIds: spanIds,
          agent,
          suggestedFix:
            'Trim what the agent sends: summarise or window the conversation history, shorten tool results before ' +
            'they enter the prompt, or move to a model with a larger context window.',
          fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};
