/**
 * Lexical helpers shared by the text detectors (persona_drift, derailment): tokenising,
 * stopwords, light stemming, term vectors, TF-IDF and cosine similarity. Deliberately
 * simple and deterministic: no model and no external dictionary, so a detector's output
 * depends on the trace alone.
 */
import type { SemanticSpan } from '../semantic/semantic-span.js';

/** English function words plus words every agent message uses whatever its subject. */
const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing done down during each either else etc even ever every few for from further get gets got had has have ' +
    'having he her here hers herself him himself his how however i if in into is it its itself just let lets like may me might more most ' +
    'much must my myself need needs no nor not now of off on once only or other our ours ourselves out over own per please same shall she ' +
    'should since so some such than that the their theirs them themselves then there these they this those though through thus to too ' +
    'under until up upon us use used using very via was we well were what when where whether which while who whom whose why will with ' +
    'within without would yes yet you your yours yourself yourselves ' +
    // Conversational filler of agent messages, uninformative about their subject.
    'able already based below certain could currently following given going good great help here ok okay one provide provided ' +
    'really result results seems sure thank thanks two way make made next step steps first second third final finally ' +
    'let know see look looks new now may might want will'
  ).split(/\s+/),
);

/** The commonest English function words: frequent in prose, rare in code, logs and tables. */
const FUNCTION_WORDS = new Set(
  (
    'a an the of and or but to in on at by for from with as is are was were be been being it its this that these those ' +
    'there here which who what when where how i we you he she they them his her their our your my not no so if then than ' +
    'into about after before over under while because can could would should will may might must do does did has have had'
  ).split(' '),
);

/**
 * Share of a text's words that are function words: about 0.4 in English prose, under 0.15
 * in code, logs and tables. Tells an agent talking from a program's output.
 */
export function proseShare(text: string): number {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  if (words.length === 0) return 0;
  let n = 0;
  for (const w of words) if (FUNCTION_WORDS.has(w)) n++;
  return n / words.length;
}

/** Suffixes removed by `stem`, longest first; a stem keeps at least three letters. */
const SUFFIXES = ['ational', 'ication', 'ization', 'fulness', 'ations', 'ating', 'ation', 'ated', 'ates', 'ities', 'ments', 'ness', 'ment', 'ings', 'ing', 'ies', 'ers', 'ity', 'ate', 'ed', 'er', 'ly', 'es', 's'];

/**
 * A light suffix-stripping stem (not Porter): enough to make verify/verified/verification
 * and search/searches/searching meet, which is all vocabulary overlap needs.
 */
export function stem(word: string): string {
  let w = word;
  for (const suffix of SUFFIXES) {
    if (!w.endsWith(suffix)) continue;
    if (suffix === 's' && /(ss|us|is)$/.test(w)) break;
    const base = w.slice(0, -suffix.length);
    if (base.length < 3) continue;
    w = base;
    break;
  }
  // verif(y) / verifi(ed) / cod(e): a trailing vowel-ish letter is what the suffixes leave behind.
  if (w.length > 3) w = w.replace(/[iey]$/, '');
  // debugg(ing) / debug: a doubled final consonant left by a suffix.
  return w.length > 4 && /([b-df-hj-np-rtv-z])\1$/.test(w) && !/(ss|ll)$/.test(w) ? w.slice(0, -1) : w;
}

/**
 * Content terms of a text: identifiers split at camel case, underscores and dots, lower-cased,
 * stopwords, numbers, hex and one- or two-letter pieces dropped, then stemmed.
 */
export function tokenize(text: string, extraStopwords: ReadonlySet<string> = EMPTY): string[] {
  const out: string[] = [];
  const words = text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  for (const word of words) {
    if (word.length < 3 || word.length > 30 || /\d/.test(word) || STOPWORDS.has(word)) continue;
    const term = stem(word);
    if (term.length < 3 || STOPWORDS.has(term) || extraStopwords.has(term)) continue;
    out.push(term);
  }
  return out;
}
const EMPTY: ReadonlySet<string> = new Set();

const STRUCTURAL_KEYS = new Set(['role', 'type', 'id', 'name', 'finish_reason', 'tool_call_id', 'index']);

/**
 * The prose of a captured prompt or completion: for a JSON message list or object, its string
 * values other than structural fields (role, type, ids), so JSON keys are not read as words;
 * other text as is.
 */
export function plainText(text: string): string {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return text;
  let doc: unknown;
  try {
    doc = JSON.parse(t);
  } catch {
    return text;
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) if (!STRUCTURAL_KEYS.has(k)) walk(child);
    }
  };
  walk(doc);
  return out.join('\n');
}

export type TermVector = Map<string, number>;

export function termFrequencies(terms: readonly string[]): TermVector {
  const tf: TermVector = new Map();
  for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
}

/** Adds `b` into `a` (a rolling vocabulary). */
export function addInto(a: TermVector, b: ReadonlyMap<string, number>): void {
  for (const [t, n] of b) a.set(t, (a.get(t) ?? 0) + n);
}

export function cosine(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [t, w] of small) dot += w * (large.get(t) ?? 0);
  if (dot === 0) return 0;
  return dot / (norm(a) * norm(b));
}

function norm(v: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const w of v.values()) s += w * w;
  return Math.sqrt(s);
}

/** Document frequencies over a set of documents, for IDF weights. */
export class DocumentFrequencies {
  private readonly df = new Map<string, number>();
  private docs = 0;
  add(terms: Iterable<string>): void {
    this.docs++;
    for (const t of new Set(terms)) this.df.set(t, (this.df.get(t) ?? 0) + 1);
  }
  /** Smoothed IDF: a term in every document still weighs a little, an unseen one the most. */
  idf(term: string): number {
    return Math.log((this.docs + 1) / ((this.df.get(term) ?? 0) + 1)) + 1;
  }
  /** Sub-linear TF (1 + ln tf) times IDF, so one repeated word cannot dominate. */
  weigh(tf: ReadonlyMap<string, number>): TermVector {
    const out: TermVector = new Map();
    for (const [t, n] of tf) out.set(t, (1 + Math.log(n)) * this.idf(t));
    return out;
  }
}

/** Spans whose completion is the agent's own output: not tool calls, not wrappers of other outputs. */
export function outputSpans(spans: readonly SemanticSpan[]): SemanticSpan[] {
  const wrappers = new Set(spans.filter((s) => s.completion !== null && s.operation !== 'execute_tool').map((s) => s.parentSpanId));
  return spans.filter((s) => s.operation !== 'execute_tool' && s.completion !== null && s.completion.trim() !== '' && !wrappers.has(s.spanId));
}

/** The span that states the task: the root span with a prompt, else the first span with a prompt. */
export function taskSpanOf(spans: readonly SemanticSpan[]): SemanticSpan | null {
  return spans.find((s) => s.parentSpanId === '' && s.prompt !== null) ?? spans.find((s) => s.prompt !== null) ?? null;
}
