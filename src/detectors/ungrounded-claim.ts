/**
 * Ungrounded claim: an agent states figures that nothing before it supplied. A number in an
 * agent's prose answer that no earlier input, tool result or message of the run contains was
 * recalled or made up by the model, not read from a source; when it is a price, a count or a
 * measurement the task depends on, it is the commonest form of hallucination, and every
 * agent after it builds on it.
 *
 * Signals: walking the spans in start order, the grounding is every number recorded on a
 * span that ended no later than the output was produced (prompts, tool arguments and
 * results, retrieved text, earlier outputs) plus the output's own prompt. Each prose output
 * (a span with a completion other than a tool call or retrieval, at least `minProseShare` function words) has its claimed
 * numbers read outside code (fenced and inline code and URLs are skipped: code computes, it
 * does not assert). A claimed number is grounded when a grounding number equals it at the
 * claim's precision (49.6 grounds "50", 3.14159 grounds "3.14", 949,600 grounds the rounded
 * "950,000": trailing zeros of an integer are read as rounding). Integers below `minValue`
 * (list numbering, small counts) and, unless `judgeYears`, four-digit years are not claims.
 * An output with `minUngrounded` ungrounded numbers or more is reported. The output's numbers
 * join the grounding afterwards either way, so a later turn repeating them is not reported
 * again: the first output that brings a figure in is where the error enters.
 *
 * One finding per trace, at the first such output (its agent is the one named); later
 * outputs with new ungrounded figures are listed in the evidence. Severity medium with
 * `mediumSeverityAt` ungrounded figures or more, else low: a figure may still be right
 * (recalled knowledge and mental arithmetic look the same), and one figure alone is weak
 * evidence. Confidence grows with the number of ungrounded figures.
 *
 * Blind spots: numbers only, not names or other entities; a figure derived by arithmetic
 * from grounded numbers (a sum, a difference) is reported as ungrounded; a wrong figure that
 * happens to appear somewhere earlier is not seen; figures written in words ("three
 * million") are not read; a run whose tool results are not captured looks ungrounded
 * throughout.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import { agentOf, clamp01 } from './detector.js';
import type { DetectorModule, Finding } from './detector.js';
import { outputSpans, plainText, proseShare } from './lexical.js';

const configSchema = z.object({
  /** Ungrounded numbers one output needs before it is reported. */
  minUngrounded: z.number().int().min(1).max(1000),
  /** Ungrounded numbers in the first such output for severity medium; fewer is low (one figure may be mental arithmetic). */
  mediumSeverityAt: z.number().int().min(1).max(1000),
  /** Integers below this are not claims (list numbering, small counts). */
  minValue: z.number().min(0),
  /** Also judge four-digit years (1000–2199); off by default, dates are often common knowledge. */
  judgeYears: z.boolean(),
  /** Outputs with fewer function words than this share are code, logs or tables and are not judged. */
  minProseShare: z.number().min(0).max(1),
});
type UngroundedClaimConfig = z.infer<typeof configSchema>;

interface Num {
  readonly value: number;
  /** Decimal places as written. */
  readonly decimals: number;
  readonly text: string;
}

// A number not glued to a word or to another number: "$1,250.50", "42%", "3.5"; not "gpt-4o", "v2", "3.1.2".
const NUMBER = /(?<![\w.,-])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.]\d)|(?<![\w.,-])\d+(?:\.\d+)?(?![\w]|\.\d)/g;

function numbersIn(text: string): Num[] {
  const out: Num[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const raw = m[0].replace(/,/g, '');
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const dot = raw.indexOf('.');
    out.push({ value, decimals: dot < 0 ? 0 : raw.length - dot - 1, text: m[0] });
  }
  return out;
}

/** Prose with code, inline code and URLs removed: what an output asserts rather than computes. */
function claimText(text: string): string {
  return text
    .replace(/```[\s\S]*?(?:```|$)/g, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/\b(?:https?|ftp):\/\/\S+|\bwww\.\S+/g, ' ');
}

function isClaim(n: Num, config: UngroundedClaimConfig): boolean {
  if (n.decimals === 0 && n.value < config.minValue) return false;
  if (!config.judgeYears && n.decimals === 0 && n.value >= 1000 && n.value < 2200 && !n.text.includes(',')) return false;
  return true;
}

/** Half a unit of the claim's last significant digit: "3.14" ±0.005, "950,000" ±5,000 (a rounded figure). */
function toleranceOf(claim: Num): number {
  if (claim.decimals > 0) return 0.5 * 10 ** -claim.decimals + 1e-9;
  const zeros = /0*$/.exec(String(claim.value))![0].length;
  return zeros === 0 ? 1e-9 : 0.5 * 10 ** zeros;
}

/** Grounding numbers, keyed by integer part so an exact claim is checked against a few candidates only. */
class Grounding {
  private readonly byInt = new Map<number, number[]>();
  private readonly all: number[] = [];
  add(text: string | null): void {
    if (text === null) return;
    for (const n of numbersIn(text)) {
      const key = Math.floor(n.value);
      const list = this.byInt.get(key);
      if (list === undefined) this.byInt.set(key, [n.value]);
      else list.push(n.value);
      this.all.push(n.value);
    }
  }
  /** A grounding number equal to the claim at the claim's precision. */
  grounds(claim: Num): boolean {
    const tolerance = toleranceOf(claim);
    if (tolerance > 1) return this.all.some((v) => Math.abs(v - claim.value) <= tolerance);
    for (const key of [Math.floor(claim.value) - 1, Math.floor(claim.value), Math.floor(claim.value) + 1]) {
      for (const v of this.byInt.get(key) ?? []) if (Math.abs(v - claim.value) <= tolerance) return true;
    }
    return false;
  }
}

interface Ungrounded {
  readonly span: SemanticSpan;
  readonly agent: string | null;
  readonly numbers: readonly string[];
}

export const ungroundedClaimDetector: DetectorModule<UngroundedClaimConfig> = {
  id: 'ungrounded_claim',
  version: 1,
  configSchema,
  defaults: { minUngrounded: 1, mediumSeverityAt: 2, minValue: 10, judgeYears: false, minProseShare: 0.2 },
  create(config) {
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const outputs = new Set(outputSpans(trace.spans));
      // A retrieval's output is what the source returned: grounding, not a claim.
      const judged = trace.spans.filter((s) => outputs.has(s) && s.operation !== 'retrieval' && s.operation !== 'embeddings');
      if (judged.length === 0) return [];
      // Everything a span recorded becomes grounding once it has ended.
      const byEnd = [...trace.spans].sort((a, b) => (a.endNs < b.endNs ? -1 : a.endNs > b.endNs ? 1 : 0));
      const grounding = new Grounding();
      const added = new Set<string>();
      const addSpan = (s: SemanticSpan): void => {
        if (added.has(s.spanId)) return;
        added.add(s.spanId);
        for (const t of [s.prompt, s.toolArguments, s.toolResult, s.completion, s.state]) grounding.add(t);
      };
      let next = 0;
      const found: Ungrounded[] = [];
      for (const span of judged) {
        // Spans that ended before this output was produced (at its end) could have informed it.
        while (next < byEnd.length && byEnd[next]!.endNs <= span.endNs) {
          if (byEnd[next] !== span) addSpan(byEnd[next]!);
          next++;
        }
        grounding.add(span.prompt);
        const text = plainText(span.completion!);
        if (proseShare(text) >= config.minProseShare) {
          const seen = new Set<string>();
          const numbers: string[] = [];
          for (const n of numbersIn(claimText(text))) {
            if (!isClaim(n, config) || grounding.grounds(n) || seen.has(n.text)) continue;
            seen.add(n.text);
            numbers.push(n.text);
          }
          if (numbers.length >= config.minUngrounded) found.push({ span, agent: agentOf(span, byId), numbers });
        }
        addSpan(span);
      }
      if (found.length === 0) return [];
      const first = found[0]!;
      const finding: Finding = {
        detectionType: 'ungrounded_claim',
        title: `${first.agent ?? 'An agent'} stated ${first.numbers.length === 1 ? 'a figure' : `${first.numbers.length} figures`} no input or tool result supplied`,
        description:
          `An output of ${first.agent ?? 'an agent'} asserts ${first.numbers.slice(0, 5).join(', ')}${first.numbers.length > 5 ? ', …' : ''}, ` +
          'which appear in no prompt, tool result or message before it. Figures that do not come from a source are recalled or ' +
          'invented by the model, and the agents after it build on them.' +
          (found.length > 1 ? ` ${found.length - 1} later output(s) bring in further ungrounded figures.` : ''),
        confidence: Number(clamp01(0.4 + 0.05 * Math.min(6, first.numbers.length - 1)).toFixed(3)),
        severity: first.numbers.length >= config.mediumSeverityAt ? 'medium' : 'low',
        evidence: found.map((u) => ({
          description: `${u.numbers.length} figure(s) not found in any earlier input, tool result or message`,
          spanIds: [u.span.spanId],
          data: { agent: u.agent, numbers: u.numbers.slice(0, 20) },
        })),
        affectedSpanIds: found.map((u) => u.span.spanId),
        agent: first.agent,
        suggestedFix:
          `Make ${first.agent ?? 'the agent'} fetch figures with a tool (search, retrieval, code) and cite the result, ` +
          'or have a verifier reject figures that no tool output contains.',
        fingerprint: createHash('sha256').update(`ungrounded\u0000${first.span.spanId}`).digest('hex').slice(0, 16),
      };
      return [finding];
    };
  },
};
