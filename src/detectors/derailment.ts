/**
 * Derailment: an agent's output unrelated to the task. An agent that wanders off (answers
 * another question, follows an irrelevant page, chats) spends the run's budget on nothing,
 * and the agents after it build on that.
 *
 * Signals: the task is the prompt of the root span (else of the first span with a prompt).
 * Walking the trace in order, a rolling context gathers the task, the prompts, tool
 * arguments and results, and the outputs judged on-topic so far. Each substantial prose
 * output (a non-tool span's completion with `minOutputTerms` content terms or more and at
 * least `minProseShare` function words, so code, logs and tables are left alone) is compared with
 * the task and with that context: TF-IDF cosine (IDF over every text of the trace) and the
 * IDF-weighted share of its terms seen before. An output below `maxSimilarity` against both
 * and below `maxSeenShare` is off-task; it does not join the context, so a second off-task
 * output on the same subject does not make the first look relevant. One finding per agent
 * with an off-task output; consecutive off-task outputs of that agent raise the severity.
 *
 * Blind spots: lexical only: an output on the task's words that goes nowhere (or a wrong
 * answer) is not derailment here, and an on-task output in words the run never used
 * (a translation, a very terse task) looks off-task; off-task code or program output is
 * never judged; a run whose task is not captured as a prompt is not judged; a whole team
 * working on the wrong task from the first turn is caught only at its first output, the
 * later ones building on it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import { agentOf, clamp01 } from './detector.js';
import type { DetectorModule, Finding } from './detector.js';
import { DocumentFrequencies, addInto, cosine, outputSpans, plainText, proseShare, taskSpanOf, termFrequencies, tokenize } from './lexical.js';
import type { TermVector } from './lexical.js';

const configSchema = z.object({
  /** Content terms an output needs before it is judged. */
  minOutputTerms: z.number().int().min(1).max(100_000),
  /** Distinct content terms the task needs before anything is judged. */
  minTaskTerms: z.number().int().min(1).max(10_000),
  /** Off-task below this TF-IDF cosine with the task and with the context. */
  maxSimilarity: z.number().min(0).max(1),
  /** Off-task below this IDF-weighted share of terms already seen in the task or context. */
  maxSeenShare: z.number().min(0).max(1),
  /**
   * Outputs with fewer function words than this share are program output, code or tables
   * (a terminal's log, a coder's script) and are not judged: they follow their inputs, not the task.
   */
  minProseShare: z.number().min(0).max(1),
  /** Consecutive off-task outputs of one agent for severity high. */
  highSeverityRun: z.number().int().min(1).max(1000),
});
type DerailmentConfig = z.infer<typeof configSchema>;

interface OffTask {
  readonly span: SemanticSpan;
  readonly taskSimilarity: number;
  readonly contextSimilarity: number;
  readonly seenShare: number;
}

const termsOf = (text: string | null): string[] => (text === null ? [] : tokenize(plainText(text)));

export const derailmentDetector: DetectorModule<DerailmentConfig> = {
  id: 'derailment',
  version: 1,
  configSchema,
  defaults: { minOutputTerms: 40, minTaskTerms: 3, maxSimilarity: 0.04, maxSeenShare: 0.2, minProseShare: 0.2, highSeverityRun: 3 },
  create(config) {
    return (trace) => {
      const taskSpan = taskSpanOf(trace.spans);
      if (taskSpan === null) return [];
      const taskTerms = termsOf(taskSpan.prompt);
      if (new Set(taskTerms).size < config.minTaskTerms) return [];
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const outputs = new Set(outputSpans(trace.spans));

      // Per span, the texts it adds to the context before (prompt, tool input) and after (tool result) its output.
      const df = new DocumentFrequencies();
      df.add(taskTerms);
      const texts = new Map<SemanticSpan, { before: string[]; output: string[] | null; prose: number; after: string[] }>();
      for (const span of trace.spans) {
        const entry = {
          before: span === taskSpan ? [] : [...termsOf(span.prompt), ...termsOf(span.toolArguments)],
          output: outputs.has(span) ? termsOf(span.completion) : null,
          prose: outputs.has(span) ? proseShare(plainText(span.completion!)) : 0,
          after: termsOf(span.toolResult),
        };
        texts.set(span, entry);
        for (const part of [entry.before, entry.output ?? [], entry.after]) if (part.length > 0) df.add(part);
      }

      const task = df.weigh(termFrequencies(taskTerms));
      const context: TermVector = termFrequencies(taskTerms);
      const offTask = new Map<string, OffTask[][]>();
      for (const span of trace.spans) {
        const { before, output, prose, after } = texts.get(span)!;
        addInto(context, termFrequencies(before));
        if (output !== null) {
          const agent = agentOf(span, byId);
          const substantial = agent !== null && output.length >= config.minOutputTerms && prose >= config.minProseShare;
          const judged = substantial ? judge(span, output, task, context, df, config) : null;
          if (judged === null) {
            addInto(context, termFrequencies(output));
            // An on-task output ends the agent's run of off-task ones.
            if (agent !== null && offTask.has(agent)) offTask.get(agent)!.push([]);
          } else {
            const runs = offTask.get(agent!) ?? [[]];
            runs[runs.length - 1]!.push(judged);
            offTask.set(agent!, runs);
          }
        }
        addInto(context, termFrequencies(after));
      }

      const findings: Finding[] = [];
      for (const [agent, runs] of offTask) {
        const all = runs.flat();
        const longest = Math.max(...runs.map((r) => r.length));
        const spanIds = all.map((o) => o.span.spanId);
        const lowest = Math.min(...all.map((o) => Math.max(o.taskSimilarity, o.contextSimilarity)));
        findings.push({
          detectionType: 'derailment',
          title:
            longest > 1
              ? `${agent} went off-task for ${longest} consecutive outputs`
              : `${agent} produced ${all.length === 1 ? 'an output' : `${all.length} outputs`} unrelated to the task`,
          description:
            `${all.length === 1 ? 'One output' : `${all.length} outputs`} of ${agent} share almost no vocabulary with the task ` +
            'or with the conversation before them. An agent that drifts off the task spends the run on work nobody asked for.',
          // Confidence grows with the run of off-task outputs and with how little they share.
          confidence: Number(clamp01(0.5 + 0.1 * Math.min(4, longest - 1) + 0.1 * (1 - lowest / Math.max(config.maxSimilarity, 1e-9))).toFixed(3)),
          severity: longest >= config.highSeverityRun ? 'high' : longest > 1 ? 'medium' : 'low',
          evidence: all.map((o) => ({
            description: `output with task similarity ${o.taskSimilarity.toFixed(3)}, context similarity ${o.contextSimilarity.toFixed(3)}`,
            spanIds: [o.span.spanId],
            data: { agent, taskSimilarity: round(o.taskSimilarity), contextSimilarity: round(o.contextSimilarity), seenShare: round(o.seenShare) },
          })),
          affectedSpanIds: spanIds,
          agent,
          suggestedFix:
            `Restate the task in ${agent}'s instructions at every turn, and have an orchestrator or a check between turns ` +
            'reject outputs that do not address it.',
          fingerprint: createHash('sha256').update(agent).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};

function judge(
  span: SemanticSpan,
  output: readonly string[],
  task: TermVector,
  context: TermVector,
  df: DocumentFrequencies,
  config: DerailmentConfig,
): OffTask | null {
  const tf = termFrequencies(output);
  const vector = df.weigh(tf);
  const taskSimilarity = cosine(vector, task);
  const contextSimilarity = cosine(vector, df.weigh(context));
  if (taskSimilarity >= config.maxSimilarity || contextSimilarity >= config.maxSimilarity) return null;
  let seen = 0;
  let total = 0;
  for (const [t, w] of vector) {
    total += w;
    if (context.has(t)) seen += w;
  }
  const seenShare = total === 0 ? 0 : seen / total;
  return seenShare < config.maxSeenShare ? { span, taskSimilarity, contextSimilarity, seenShare } : null;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
