/**
 * Persona drift: an agent's output that fits another agent's declared role better than its
 * own (a verifier writing the code, a coder browsing the web), or that claims to be another
 * agent. In a multi-agent run each role exists for a reason; an agent doing another's job
 * duplicates or skips work, and its mistakes are the ones no one is there to check.
 *
 * Signals: each agent's declared role (`agentRole`, with the agent name) becomes a role
 * vocabulary (content terms, stemmed, without role-template words like "expert" or
 * "skill"). Every substantial completion of an agent with a role is compared with each role
 * by TF-IDF cosine, IDF taken over the roles of the trace so words all roles share weigh
 * little. Lexical drift: the best other role scores at least `minOtherScore`, at least
 * `minRatio` × the agent's own score, and `minMargin` more. Identity claim: "As the
 * <other agent>," / "I am <other agent>." naming another agent of the trace.
 *
 * Blind spots: lexical only, so a drift in behaviour expressed in the words of the agent's
 * own role is not seen, and roles described in words the outputs never use (most role texts
 * describe skills, not subjects) make every score small; agents without a role never fire;
 * claims worded otherwise ("I'll act as the verifier") are missed.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import { agentOf, clamp01 } from './detector.js';
import type { DetectorModule, Finding } from './detector.js';
import { DocumentFrequencies, cosine, outputSpans, plainText, taskSpanOf, termFrequencies, tokenize } from './lexical.js';
import type { TermVector } from './lexical.js';

const configSchema = z.object({
  /** Content terms a completion needs before it is judged. */
  minOutputTerms: z.number().int().min(1).max(100_000),
  /** Distinct terms a role needs before it is used, for the agent's own role and for the others. */
  minRoleTerms: z.number().int().min(1).max(10_000),
  /** Cosine with the other role needed to report lexical drift. */
  minOtherScore: z.number().min(0).max(1),
  /** Other role's score over the agent's own, needed to report lexical drift. */
  minRatio: z.number().min(1).max(100),
  /** Other role's score minus the agent's own, needed to report lexical drift. */
  minMargin: z.number().min(0).max(1),
  /** Report an agent calling itself by another agent's name. */
  reportIdentityClaims: z.boolean(),
});
type PersonaDriftConfig = z.infer<typeof configSchema>;

/** Words of role templates ("## Your role", "Task and skill instructions") that say nothing about the role. */
const ROLE_TEMPLATE_WORDS = new Set(
  tokenize(
    'expert experts role roles task tasks skill skills instruction instructions description responsible responsibility ensure ' +
      'ability abilities knowledge specialize specializes specialist proficient proficiency assist assistant agent team member ' +
      'capable strong deep understanding various including experience adept exceptional comprehensive ensuring possess ' +
      'vigilant seamless seamlessly critical portion precise accurate accuracy reliable work working job duty duties goal goals ' +
      'backstory persona manager plan advice advise given general specific collaborate',
  ),
);

interface Role {
  readonly agent: string;
  readonly terms: ReadonlySet<string>;
  readonly vector: TermVector;
}

interface Drift {
  readonly span: SemanticSpan;
  readonly kind: 'lexical' | 'identity_claim';
  readonly otherAgent: string;
  readonly ownScore: number;
  readonly otherScore: number;
  readonly claim: string | null;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Spellings of an agent name in prose: as is, and with _ / - as spaces. */
function nameVariants(name: string): string[] {
  return [...new Set([name, name.replace(/[_-]+/g, ' ')])].filter((n) => n.trim().length >= 4);
}

/**
 * "As the X," / "As X:" / "I am X." / "I'm X" at the end: the name directly followed by
 * punctuation or the end, so "as the Verifier suggested" (a reference) is not a claim, nor
 * is a comparison ("such as the Verifier.", "as well as X.").
 */
function claimPattern(name: string): RegExp {
  const names = nameVariants(name).map(escapeRegExp).join('|');
  return new RegExp(
    `(?<!\\b(?:such|same|well|just|so)\\s)\\b(?:as|i am|i'm|this is)\\s+(?:the\\s+)?(?:${names})(?=\\s*(?:[,.:;!]|$))`,
    'im',
  );
}

/** Roles of the trace's agents: the first role text each agent's spans carry. */
function rolesOf(spans: readonly SemanticSpan[], byId: ReadonlyMap<string, SemanticSpan>): Map<string, string> {
  const roles = new Map<string, string>();
  for (const span of spans) {
    if (span.agentRole === null || span.agentRole.trim() === '') continue;
    const agent = agentOf(span, byId);
    if (agent !== null && !roles.has(agent)) roles.set(agent, span.agentRole);
  }
  return roles;
}

export const personaDriftDetector: DetectorModule<PersonaDriftConfig> = {
  id: 'persona_drift',
  version: 1,
  configSchema,
  defaults: { minOutputTerms: 40, minRoleTerms: 8, minOtherScore: 0.18, minRatio: 3, minMargin: 0.08, reportIdentityClaims: true },
  create(config) {
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const roleTexts = rolesOf(trace.spans, byId);
      if (roleTexts.size < 2) return [];

      // The task's words are the run's subject, not anyone's role: a domain expert's role that
      // names the subject would otherwise claim every agent's on-task output.
      const taskPrompt = taskSpanOf(trace.spans)?.prompt ?? null;
      const subject = new Set(taskPrompt === null ? [] : tokenize(plainText(taskPrompt)));
      const notSubject = (t: string) => !subject.has(t);
      const df = new DocumentFrequencies();
      const roleTerms = new Map([...roleTexts].map(([agent, text]) => [agent, new Set(tokenize(text, ROLE_TEMPLATE_WORDS).filter(notSubject))]));
      for (const terms of roleTerms.values()) df.add(terms);
      // Role vectors are sets weighted by IDF: a role is what it mentions, not how often.
      const roles = new Map<string, Role>(
        [...roleTerms].map(([agent, terms]) => [agent, { agent, terms, vector: df.weigh(new Map([...terms].map((t) => [t, 1]))) }]),
      );
      const usable = [...roles.values()].filter((r) => r.terms.size >= config.minRoleTerms);
      const names = [...new Set(trace.spans.map((s) => s.agentName).filter((n): n is string => n !== null))];
      const claims = new Map(names.map((agent) => [agent, claimPattern(agent)]));
      // Agents address each other by name; a mention says nothing about whose work the output is.
      const mentions = new RegExp(names.flatMap(nameVariants).map(escapeRegExp).sort((a, b) => b.length - a.length).join('|') || '(?!)', 'gi');

      const drifts = new Map<string, Drift[]>();
      for (const span of outputSpans(trace.spans)) {
        const agent = agentOf(span, byId);
        if (agent === null) continue;
        const own = roles.get(agent);
        if (own === undefined) continue;
        const text = plainText(span.completion!);
        let drift: Drift | null = null;

        if (config.reportIdentityClaims) {
          for (const [other, pattern] of claims) {
            if (other.toLowerCase() === agent.toLowerCase()) continue;
            const m = pattern.exec(text);
            if (m !== null) {
              drift = { span, kind: 'identity_claim', otherAgent: other, ownScore: 0, otherScore: 0, claim: m[0] };
              break;
            }
          }
        }

        const terms = tokenize(text.replace(mentions, ' '));
        if (drift === null && own.terms.size >= config.minRoleTerms && terms.length >= config.minOutputTerms) {
          const output = df.weigh(termFrequencies(terms.filter(notSubject)));
          const ownScore = cosine(output, own.vector);
          let best: { agent: string; score: number } | null = null;
          for (const role of usable) {
            if (role.agent === agent) continue;
            const score = cosine(output, role.vector);
            // Ties go to the agent listed first, for determinism.
            if (best === null || score > best.score) best = { agent: role.agent, score };
          }
          if (
            best !== null &&
            best.score >= config.minOtherScore &&
            best.score >= config.minRatio * ownScore &&
            best.score - ownScore >= config.minMargin
          ) {
            drift = { span, kind: 'lexical', otherAgent: best.agent, ownScore, otherScore: best.score, claim: null };
          }
        }
        if (drift !== null) drifts.set(agent, [...(drifts.get(agent) ?? []), drift]);
      }

      const findings: Finding[] = [];
      for (const [agent, list] of drifts) {
        const spanIds = list.map((d) => d.span.spanId);
        const others = [...new Set(list.map((d) => d.otherAgent))];
        const claimed = list.some((d) => d.kind === 'identity_claim');
        const lexical = list.filter((d) => d.kind === 'lexical');
        // Confidence from the margin by which the other role wins, plus a little per repeat.
        const bestMargin = Math.max(0, ...lexical.map((d) => d.otherScore - d.ownScore));
        const confidence = clamp01(
          Math.min(0.95, (claimed ? 0.85 : 0.5 + Math.min(0.3, bestMargin)) + 0.05 * (list.length - 1)),
        );
        findings.push({
          detectionType: 'persona_drift',
          title: claimed ? `${agent} spoke as ${others[0]}` : `${agent} did the work of ${others.join(', ')}`,
          description:
            `${agent} produced ${list.length === 1 ? 'an output' : `${list.length} outputs`} closer to the declared role of ` +
            `${others.join(', ')} than to its own${claimed ? ', claiming that agent\'s identity' : ''}. ` +
            'An agent acting outside its role duplicates or skips work, and nobody checks what it does.',
          confidence: Number(confidence.toFixed(3)),
          severity: claimed || list.length >= 2 ? 'medium' : 'low',
          evidence: list.map((d) => ({
            description:
              d.kind === 'identity_claim'
                ? `${agent} claimed to be ${d.otherAgent}: "${d.claim}"`
                : `output closer to ${d.otherAgent}'s role (${d.otherScore.toFixed(3)}) than to ${agent}'s (${d.ownScore.toFixed(3)})`,
            spanIds: [d.span.spanId],
            data: { kind: d.kind, agent, otherAgent: d.otherAgent, ownScore: round(d.ownScore), otherScore: round(d.otherScore), claim: d.claim },
          })),
          affectedSpanIds: spanIds,
          agent,
          suggestedFix:
            `Restate ${agent}'s role and its limits in its instructions, and route ${others.join(', ')}'s kind of work to ` +
            `${others.length === 1 ? 'that agent' : 'those agents'} (or give ${agent} that role explicitly if it should do it).`,
          fingerprint: createHash('sha256').update(agent).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};

const round = (x: number) => Math.round(x * 1000) / 1000;
