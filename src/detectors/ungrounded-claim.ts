/**
 * Ungrounded claim: an agent states figures that nothing before it supplied. A number in an
 * agent's prose answer that no earlier input, tool result or message of the run contains was
 * recalled or made up by the model, not read from a source; when it is a price, a count or a
 * measurement the task depends on, it is the commonest form of hallucination, and every
 * agent after it builds on it.
 *
 * Signals: walking the spans in start order, the grounding is every number recorded on a
 * span that ended no later than the output was produced (prompts, tool arguments and
 * results, retrieved text, earlier outputs) plus the output's own prompt; negative numbers
 * count by their magnitude (a refund recorded as -16.63 grounds "$16.63"), the digits of
 * identifiers count (certificate_7504069), and an ISO date grounds its day written after its
 * month's name (2024-05-19 grounds "May 19"). Each prose output
 * (a span with a completion other than a tool call or retrieval, at least `minProseShare`
 * function words) has its claimed numbers read outside code (fenced and inline code and URLs
 * are skipped: code computes, it does not assert). A claimed number is grounded when a
 * grounding number equals it at the claim's precision (49.6 grounds "50", 3.14159 grounds
 * "3.14", 949,600 grounds the rounded "950,000": trailing zeros of an integer are read as
 * rounding), or, for a figure of at least `minDerivedDigits` significant digits, when
 * arithmetic over sourced numbers gives it (see Derivations: sums of the values under one
 * key of a recent JSON source or of the numbers stated before it in the output, sums and
 * differences of two amounts, products by a count, percentages written as such). Integers
 * below `minValue` (list numbering, small counts) and, unless `judgeYears`, four-digit years
 * are not claims. An output with `minUngrounded` ungrounded numbers or more is reported. The
 * output's numbers join the grounding afterwards either way, so a later turn repeating them
 * is not reported again: the first output that brings a figure in is where the error enters.
 *
 * One finding per trace, at the first such output (its agent is the one named); later
 * outputs with new ungrounded figures are listed in the evidence. Severity medium with
 * `mediumSeverityAt` ungrounded figures or more, else low: a figure may still be right
 * (recalled knowledge and mental arithmetic look the same), and one figure alone is weak
 * evidence. Confidence grows with the number of ungrounded figures.
 *
 * Blind spots: numbers only, not names or other entities; arithmetic of more than one step
 * (a sum of products), over numbers older than the last few sources, or giving a figure of
 * fewer than `minDerivedDigits` significant digits is reported as ungrounded, and a wrong
 * figure that some arithmetic over recent numbers happens to give is not; a wrong figure
 * that happens to appear somewhere earlier is not seen; figures written in words ("three
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
  /**
   * Significant digits a figure needs before arithmetic over sourced numbers can ground it;
   * smaller figures ("20", "30,000") are a sum or product of almost any two numbers of a run.
   */
  minDerivedDigits: z.number().int().min(1).max(20),
});
type UngroundedClaimConfig = z.infer<typeof configSchema>;

interface Num {
  /** Signed, as written. */
  readonly value: number;
  /** The month (1–12) when the number is the day of a date written with its month's name ("May 19"). */
  readonly month?: number;
  /** Decimal places as written. */
  readonly decimals: number;
  readonly text: string;
  /** Written as a percentage ("8%", "8 percent"). */
  readonly percent: boolean;
}

// A number not glued to a word or to another number: "$1,250.50", "42%", "3.5", "-16.63"; not
// "gpt-4o", "v2", "3.1.2", nor the "-05" of "2024-05-15". A minus sign counts when nothing is
// glued to it either (v2: a negative amount in a tool result is a source like any other).
const NUMBER =
  /(?<![\w.,\-\u2212])[-\u2212]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.]\d)|(?<![\w.,\-\u2212])[-\u2212]?\d+(?:\.\d+)?(?![\w]|\.\d)/g;

const PERCENT_AFTER = /^\s?(?:%|percent\b|per cent\b)/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** A month's name right before a number: "May 19", "Sept. 3". */
const MONTH_BEFORE = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+$/i;

function numbersIn(text: string): Num[] {
  const out: Num[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const raw = m[0].replace(/,/g, '').replace('\u2212', '-');
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const dot = raw.indexOf('.');
    const end = m.index + m[0].length;
    const percent = PERCENT_AFTER.test(text.slice(end, end + 9));
    const month = Number.isInteger(value) && value >= 1 && value <= 31 ? MONTH_BEFORE.exec(text.slice(Math.max(0, m.index - 12), m.index)) : null;
    out.push({
      value,
      decimals: dot < 0 ? 0 : raw.length - dot - 1,
      text: m[0],
      percent,
      ...(month === null ? {} : { month: MONTHS.indexOf(month[1]!.toLowerCase()) + 1 }),
    });
  }
  return out;
}

const ISO_DATE = /\b\d{4}-(\d{2})-(\d{2})\b/g;
/** Digit runs glued to an identifier: the 7504069 of certificate_7504069, the 4421486 of credit_card_4421486. */
const ID_DIGITS = /(?<=[A-Za-z_])\d{3,}|\d{3,}(?=[A-Za-z_])/g;

/**
 * What a source text supplies beyond its numbers: the digits of identifiers ("certificate
 * 7504069" quotes certificate_7504069) and the month and day of ISO dates (2024-05-19 is
 * "May 19"), as month × 100 + day.
 */
function sourceParts(text: string): { idNumbers: number[]; dates: number[] } {
  const idNumbers = [...text.matchAll(ID_DIGITS)].map((m) => Number(m[0]));
  const dates: number[] = [];
  for (const m of text.matchAll(ISO_DATE)) {
    const month = Number(m[1]);
    const day = Number(m[2]);
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31) dates.push(month * 100 + day);
  }
  return { idNumbers, dates };
}

/** Prose with code, inline code and URLs removed: what an output asserts rather than computes. */
function claimText(text: string): string {
  return text
    .replace(/```[\s\S]*?(?:```|$)/g, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/\b(?:https?|ftp):\/\/\S+|\bwww\.\S+/g, ' ');
}

function isClaim(n: Num, config: UngroundedClaimConfig): boolean {
  const size = Math.abs(n.value);
  if (n.decimals === 0 && size < config.minValue) return false;
  if (!config.judgeYears && n.decimals === 0 && n.value >= 1000 && n.value < 2200 && !n.text.includes(',')) return false;
  return true;
}

/** Significant digits as written, trailing zeros aside: "754.39" 5, "1,203" 4, "20.00" 1, "30,000" 1. */
function significantDigits(n: Num): number {
  return n.text.replace(/\D/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
}

/** Half a unit of the claim's last significant digit: "3.14" ±0.005, "950,000" ±5,000 (a rounded figure). */
function toleranceOf(claim: Num): number {
  if (claim.decimals > 0) return 0.5 * 10 ** -claim.decimals + 1e-9;
  const zeros = /0*$/.exec(String(Math.abs(claim.value)))![0].length;
  return zeros === 0 ? 1e-9 : 0.5 * 10 ** zeros;
}

/**
 * Tolerance of a claim checked as the result of arithmetic: the claim's precision as written,
 * trailing zeros of an integer taken as exact ($1,200 is 3 × $400, not "about" it).
 */
function arithmeticToleranceOf(claim: Num): number {
  return (claim.decimals > 0 ? 0.5 * 10 ** -claim.decimals : 0.5) + 1e-9 * Math.abs(claim.value);
}

/** Bucket widths of the grounding index: a claim's tolerance picks the finest that keeps its range to a few buckets. */
const BUCKET_WIDTHS = [1, 1e3, 1e6, 1e9, 1e12] as const;

/**
 * Grounding numbers by magnitude, in buckets of several widths, so a claim is checked
 * against the few candidates near it: an exact one in the buckets of width 1, a rounded one
 * ("950,000" ± 5,000) in wider ones, never against every number of the trace.
 */
class Grounding {
  private readonly buckets = BUCKET_WIDTHS.map(() => new Map<number, number[]>());
  private readonly beyond: number[] = [];
  /** Month × 100 + day of the ISO dates seen. */
  private readonly dates = new Set<number>();
  addDates(dates: readonly number[]): void {
    for (const d of dates) this.dates.add(d);
  }
  add(values: readonly number[]): void {
    for (const value of values) {
      const v = Math.abs(value);
      if (!Number.isFinite(v) || v >= 1e15) {
        this.beyond.push(v);
        continue;
      }
      BUCKET_WIDTHS.forEach((width, i) => {
        const key = Math.floor(v / width);
        const map = this.buckets[i]!;
        const list = map.get(key);
        if (list === undefined) map.set(key, [v]);
        else list.push(v);
      });
    }
  }
  /** A grounding number equal to the claim at the claim's precision (signs aside: a refund of -16.63 grounds "$16.63"). */
  grounds(claim: Num): boolean {
    // "May 19" rewrites a 2024-05-19 of a source.
    if (claim.month !== undefined && this.dates.has(claim.month * 100 + claim.value)) return true;
    const tolerance = toleranceOf(claim);
    const value = Math.abs(claim.value);
    const near = (v: number): boolean => Math.abs(v - value) <= tolerance;
    if (value - tolerance >= 1e15 || !Number.isFinite(value)) return this.beyond.some(near);
    const fits = BUCKET_WIDTHS.findIndex((w) => (2 * tolerance) / w <= 4);
    const i = fits < 0 ? BUCKET_WIDTHS.length - 1 : fits;
    const width = BUCKET_WIDTHS[i]!;
    const map = this.buckets[i]!;
    for (let key = Math.floor((value - tolerance) / width); key <= Math.floor((value + tolerance) / width); key++) {
      for (const v of map.get(key) ?? []) if (near(v)) return true;
    }
    return value + tolerance >= 1e15 && this.beyond.some(near);
  }
}

/** Sources whose numbers a figure may be computed from: the latest ones, and the output itself. */
const RECENT_SOURCES = 8;
/** Numbers of the recent sources used as operands, the latest first. */
const MAX_OPERANDS = 64;
/** A group of at most this many numbers has all its subset sums checked (2^8 sums); a larger one its total only. */
const MAX_ADDENDS = 8;
/** Counts a product may take: price × count. */
const MAX_COUNT = 1000;

function sortedDistinct(values: Iterable<number>): Float64Array {
  return Float64Array.from(new Set(values)).sort();
}

/** Sums of every subset of two or more of `values`, or only their total when there are more than MAX_ADDENDS. */
function sumsOf(values: readonly number[], out: number[]): void {
  const n = values.length;
  if (n < 2) return;
  if (n > MAX_ADDENDS) {
    out.push(values.reduce((a, b) => a + b, 0));
    return;
  }
  const sums = new Float64Array(1 << n);
  for (let mask = 1; mask < 1 << n; mask++) {
    const low = mask & -mask;
    sums[mask] = sums[mask ^ low]! + values[31 - Math.clz32(low)]!;
    if ((mask & (mask - 1)) !== 0) out.push(sums[mask]!);
  }
}

/**
 * The values a JSON document holds under each key, as magnitudes (every "price" of an
 * order's items is one group); none for other text, whose numbers need not be alike.
 */
function keyedGroups(text: string): number[][] {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(t);
  } catch {
    return [];
  }
  const groups = new Map<string, number[]>();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string' && /^-?\d+(?:\.\d+)?$/.test(v.trim())) v = Number(v.trim());
    if (typeof v === 'number' && Number.isFinite(v) && v !== 0) {
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [Math.abs(v)]);
      else list.push(Math.abs(v));
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item, key);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, k);
    }
  };
  walk(doc, '');
  return [...groups.values()];
}

function containsNear(sorted: Float64Array, x: number, tolerance: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x - tolerance) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! <= x + tolerance;
}

/** A recent source: its numbers, and the sums of its keyed groups, computed only when a claim needs them. */
class Source {
  /** Magnitudes, in order. */
  readonly numbers: readonly number[];
  readonly percents: readonly number[];
  private cachedSums: Float64Array | null = null;
  constructor(
    private readonly text: string,
    numbers: readonly Num[],
  ) {
    this.numbers = numbers.map((n) => Math.abs(n.value));
    this.percents = numbers.filter((n) => n.percent).map((n) => Math.abs(n.value));
  }
  /** Sums of the amounts of each keyed group (counts are not added up), sorted. */
  sums(isAmount: (v: number) => boolean): Float64Array {
    if (this.cachedSums === null) {
      const sums: number[] = [];
      for (const group of keyedGroups(this.text)) sumsOf(group.filter(isAmount), sums);
      this.cachedSums = sortedDistinct(sums);
    }
    return this.cachedSums;
  }
}

/**
 * What a figure may be computed from: the numbers of the latest sources (tool results,
 * messages, earlier outputs) and the grounded numbers stated earlier in the output itself.
 * A figure is derived when it is a sum of several amounts under one key of a JSON source
 * (the prices of an order's items) or of the numbers stated before it, or one step from
 * such a value or a number: a sum or difference of two amounts, a product by a count (price
 * × count), a percentage of one, or one plus or minus a percentage (tax, fees, a discount).
 * Small integers (below `minValue`) are counts: they multiply, they are not added to
 * amounts; a percentage must be written as one. Only recent numbers take part, so the work
 * per claim is bounded whatever the trace's length.
 */
class Derivations {
  private readonly recent: Source[] = [];
  /** Views of the recent sources, rebuilt when a claim needs them after a source came in. */
  private cached: { values: Float64Array; amounts: Float64Array; sums: Float64Array[]; operands: number[]; percents: number[] } | null = null;
  /** Views of the numbers stated so far in the output being judged, by the list and its length. */
  private own: { stated: readonly Num[]; length: number; values: Float64Array; amounts: Float64Array; sums: Float64Array } | null = null;
  constructor(private readonly minValue: number) {}

  add(text: string, numbers: readonly Num[]): void {
    if (numbers.length === 0) return;
    this.recent.push(new Source(text, numbers));
    if (this.recent.length > RECENT_SOURCES) this.recent.shift();
    this.cached = null;
  }

  private readonly isAmount = (v: number): boolean => !Number.isInteger(v) || v >= this.minValue;

  private views(): NonNullable<Derivations['cached']> {
    if (this.cached === null) {
      const all = this.recent.flatMap((s) => s.numbers);
      const operands: number[] = [];
      for (let i = all.length - 1; i >= 0 && operands.length < MAX_OPERANDS; i--) operands.push(all[i]!);
      this.cached = {
        values: sortedDistinct(all),
        amounts: sortedDistinct(all.filter(this.isAmount)),
        sums: this.recent.map((s) => s.sums(this.isAmount)).filter((a) => a.length > 0),
        operands,
        percents: [...new Set(this.recent.flatMap((s) => s.percents))],
      };
    }
    return this.cached;
  }

  private ownViews(stated: readonly Num[]): NonNullable<Derivations['own']> {
    if (this.own === null || this.own.stated !== stated || this.own.length !== stated.length) {
      const own = stated.map((n) => Math.abs(n.value));
      const sums: number[] = [];
      sumsOf(own.slice(-MAX_ADDENDS).filter(this.isAmount), sums);
      this.own = { stated, length: stated.length, values: sortedDistinct(own), amounts: sortedDistinct(own.filter(this.isAmount)), sums: sortedDistinct(sums) };
    }
    return this.own;
  }

  /** Whether `claim` follows by arithmetic from the recent sources and `stated`, the grounded numbers before it in its output. */
  derives(claim: Num, stated: readonly Num[]): boolean {
    const c = Math.abs(claim.value);
    const tolerance = arithmeticToleranceOf(claim);
    const { values, amounts, sums, operands: recentOperands, percents } = this.views();
    const own = this.ownViews(stated);
    const isSum = (x: number, tol: number): boolean => containsNear(own.sums, x, tol) || sums.some((s) => containsNear(s, x, tol));
    const isValue = (x: number, tol: number): boolean => x > 0 && (containsNear(values, x, tol) || containsNear(own.values, x, tol) || isSum(x, tol));
    const isAmount = (x: number, tol: number): boolean =>
      x > 0 && (containsNear(amounts, x, tol) || containsNear(own.amounts, x, tol) || isSum(x, tol));

    if (isSum(c, tolerance)) return true;
    const operands = new Set<number>();
    for (let i = stated.length - 1; i >= 0 && operands.size < MAX_OPERANDS; i--) operands.add(Math.abs(stated[i]!.value));
    for (const a of recentOperands) {
      if (operands.size >= MAX_OPERANDS) break;
      operands.add(a);
    }
    for (const a of operands) {
      // a + b, b − a, a − b, both amounts
      if (this.isAmount(a) && (isAmount(c - a, tolerance) || isAmount(c + a, tolerance) || isAmount(a - c, tolerance))) return true;
      // b × a, a count
      if (Number.isInteger(a) && a >= 2 && a <= MAX_COUNT && isValue(c / a, tolerance / a)) return true;
    }
    for (const pct of [...percents, ...stated.filter((n) => n.percent).map((n) => Math.abs(n.value))]) {
      const p = pct / 100;
      if (p <= 0) continue;
      // p% of b, b plus p%, b less p%
      if (isValue(c / p, tolerance / p) || isValue(c / (1 + p), tolerance / (1 + p)) || (p < 1 && isValue(c / (1 - p), tolerance / (1 - p)))) return true;
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
  version: 2,
  configSchema,
  defaults: { minUngrounded: 1, mediumSeverityAt: 2, minValue: 10, judgeYears: false, minProseShare: 0.2, minDerivedDigits: 3 },
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
      const derivations = new Derivations(config.minValue);
      const addText = (t: string | null): void => {
        if (t === null) return;
        const numbers = numbersIn(t);
        const { idNumbers, dates } = sourceParts(t);
        grounding.add([...numbers.map((n) => n.value), ...idNumbers]);
        grounding.addDates(dates);
        derivations.add(t, numbers);
      };
      const added = new Set<string>();
      const addSpan = (s: SemanticSpan): void => {
        if (added.has(s.spanId)) return;
        added.add(s.spanId);
        for (const t of [s.prompt, s.toolArguments, s.toolResult, s.completion, s.state]) addText(t);
      };
      let next = 0;
      const found: Ungrounded[] = [];
      for (const span of judged) {
        // Spans that ended before this output was produced (at its end) could have informed it.
        while (next < byEnd.length && byEnd[next]!.endNs <= span.endNs) {
          if (byEnd[next] !== span) addSpan(byEnd[next]!);
          next++;
        }
        addText(span.prompt);
        const text = plainText(span.completion!);
        if (proseShare(text) >= config.minProseShare) {
          const seen = new Set<string>();
          const numbers: string[] = [];
          // The numbers stated so far in this output: operands of the figures after them.
          const stated: Num[] = [];
          for (const n of numbersIn(claimText(text))) {
            const ungrounded =
              isClaim(n, config) &&
              !grounding.grounds(n) &&
              !(significantDigits(n) >= config.minDerivedDigits && derivations.derives(n, stated));
            // An ungrounded figure grounds nothing computed from it; the others are operands of what follows.
            if (!ungrounded) stated.push(n);
            if (!ungrounded || seen.has(n.text)) continue;
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
