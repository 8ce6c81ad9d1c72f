/**
 * Coordination failure between agents, from the dispatch spans of a trace (operation
 * invoke_agent or handoff). The target of a dispatch is read from its name
 * (`invoke_agent writer`, `handoff to writer`, `transfer_to_writer`, `planner -> writer`),
 * else, for invoke_agent spans, from the agent name or id on the span. Three signals:
 * - ping-pong: the sequence of dispatch targets alternates between two agents
 *   (A, B, A, B, …) for at least `minRoundTrips` round trips; when agents in the trace
 *   call models, only those that do count as agents here, so a graph that alternates
 *   between its model node and a node that only runs tools (LangGraph's ToolNode, a
 *   router) is a ReAct loop, not two agents handing work back and forth;
 * - a message to an agent that never acts: a dispatch whose target has no span of its own
 *   (by agent name or id) other than dispatches to it, and whose dispatch span has no
 *   children; only in traces where at least two agents act, so a single-agent trace is
 *   never judged;
 * - duplicate dispatch: the same non-empty prompt sent to two different agents.
 *
 * Severity: medium for ping-pong and duplicate dispatch, high for an agent that never
 * acts (the work it was given is lost).
 *
 * Blind spots: dispatches named in a way none of the patterns recognise have no target
 * and are ignored; agents that act under a different name than the one they were
 * dispatched by look absent; prompts that differ only in whitespace-insensitive details
 * (a timestamp) are not duplicates; a legitimate critic/author review cycle looks like
 * ping-pong.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { clamp01 } from './detector.js';

const configSchema = z.object({
  /** Round trips (A→B→A) of alternation needed to call it ping-pong. */
  minRoundTrips: z.number().int().min(2).max(1000),
  /** Report dispatches to agents that never act. */
  reportSilentAgents: z.boolean(),
  /** Report the same prompt dispatched to two different agents. */
  reportDuplicateDispatch: z.boolean(),
  /** Prompts shorter than this (after trimming) are too generic to call duplicates. */
  minPromptLength: z.number().int().min(1).max(100_000),
});
type CoordinationFailureConfig = z.infer<typeof configSchema>;

const NAME_PATTERNS: readonly RegExp[] = [
  /^invoke_agent\s+(.+)$/i,
  /\b(?:hand[\s_-]?off|transfer|delegate|route|dispatch|send)(?:ed|ing)?[\s_-]*(?:to[\s_-]+)?(?:agent[\s_:-]+)?([\w.-]+)\s*$/i,
  /(?:->|→|=>)\s*([\w.-]+)\s*$/,
];

function isDispatch(span: SemanticSpan): boolean {
  return span.operation === 'invoke_agent' || span.operation === 'handoff';
}

/** The agent a dispatch span sends work to, or null when it cannot be told. */
export function dispatchTarget(span: SemanticSpan): string | null {
  const name = span.name.trim();
  for (const pattern of NAME_PATTERNS) {
    const m = pattern.exec(name);
    const target = m?.[1]?.trim();
    if (target !== undefined && target !== '' && !/^(to|agent)$/i.test(target)) return target;
  }
  if (span.operation === 'invoke_agent') return span.agentName ?? span.agentId;
  return null;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

interface Dispatch {
  readonly span: SemanticSpan;
  readonly target: string;
}

function pingPong(dispatches: readonly Dispatch[], config: CoordinationFailureConfig): Finding[] {
  // Consecutive dispatches to the same agent are one turn.
  const turns: Dispatch[][] = [];
  for (const d of dispatches) {
    const last = turns.at(-1);
    if (last !== undefined && last[0]!.target === d.target) last.push(d);
    else turns.push([d]);
  }
  const findings: Finding[] = [];
  const minTurns = 2 * config.minRoundTrips + 1;
  let i = 0;
  while (i + 1 < turns.length) {
    const a = turns[i]![0]!.target;
    const b = turns[i + 1]![0]!.target;
    // The alternating run is turns[i..j).
    let j = i + 2;
    while (j < turns.length && turns[j]![0]!.target === ((j - i) % 2 === 0 ? a : b)) j++;
    const length = j - i;
    if (length >= minTurns) {
      const run = turns.slice(i, j).flat();
      const spanIds = run.map((d) => d.span.spanId);
      const roundTrips = Math.floor((length - 1) / 2);
      findings.push({
        detectionType: 'coordination_failure',
        title: `Ping-pong hand-offs between "${a}" and "${b}" (${roundTrips} round trips)`,
        description:
          `Work bounced between ${a} and ${b} ${roundTrips} times without another agent or a final answer breaking the cycle. ` +
          'Each side hands the task back instead of finishing it.',
        confidence: clamp01(0.6 + 0.05 * (roundTrips - config.minRoundTrips)),
        severity: 'medium',
        evidence: [{ description: `alternating dispatches ${a} ⇄ ${b}`, spanIds, data: { agents: [a, b], roundTrips, dispatches: length } }],
        affectedSpanIds: spanIds,
        // The agent that started the bouncing, i.e. the first to hand the task back: the
        // first target. Peer to peer it sends the next dispatch itself; behind a router the
        // router only relays what it gave back unfinished, so the router is not blamed.
        agent: a,
        suggestedFix:
          'Give each agent a clear definition of done and an escalation path, and cap the number of hand-offs between the same two agents.',
        fingerprint: hash(`pingpong\u0000${a}\u0000${b}\u0000${spanIds[0]!}`),
      });
      i = j - 1;
    } else {
      i++;
    }
  }
  return findings;
}

/** Dispatches to agents that call models, when any agent in the trace does; all of them otherwise. */
function thinkingTargets(spans: readonly SemanticSpan[], dispatches: readonly Dispatch[]): readonly Dispatch[] {
  const thinkers = new Set(spans.filter((s) => s.operation === 'chat').flatMap((s) => [s.agentName, s.agentId]).filter((a): a is string => a !== null));
  return thinkers.size === 0 ? dispatches : dispatches.filter((d) => thinkers.has(d.target));
}

function silentAgents(spans: readonly SemanticSpan[], dispatches: readonly Dispatch[]): Finding[] {
  const parents = new Set(spans.map((s) => s.parentSpanId));
  // A dispatch without children or output is a message, not the receiving agent at work.
  const acting = spans.filter((s) => !(isDispatch(s) && !parents.has(s.spanId) && s.completion === null));
  const actors = new Set(acting.flatMap((s) => [s.agentName, s.agentId]).filter((a): a is string => a !== null));
  if (actors.size < 2) return [];
  const byTarget = new Map<string, Dispatch[]>();
  for (const d of dispatches) {
    if (parents.has(d.span.spanId) || d.span.completion !== null) continue;
    const acts = acting.some((s) => s.startNs >= d.span.startNs && (s.agentName === d.target || s.agentId === d.target));
    if (acts) continue;
    const list = byTarget.get(d.target);
    if (list === undefined) byTarget.set(d.target, [d]);
    else list.push(d);
  }
  const findings: Finding[] = [];
  for (const [target, list] of byTarget) {
    const spanIds = list.map((d) => d.span.spanId);
    const senders = [...new Set(list.map((d) => d.span.agentName).filter((a): a is string => a !== null && a !== target))];
    // A target that acted earlier under this name exists and was reachable, so the name was
    // right: the receiver stopped answering. Otherwise the sender likely named a wrong agent.
    const first = list[0]!.span;
    const actedBefore = acting.some((s) => s.startNs < first.startNs && (s.agentName === target || s.agentId === target));
    findings.push({
      detectionType: 'coordination_failure',
      title: `Agent "${target}" was sent work but never acted`,
      description:
        `${list.length} dispatch(es) named ${target} as the receiving agent, but no span of ${target} follows. ` +
        (actedBefore
          ? `${target} acted earlier in the run, so it was reachable under that name: it stopped answering and the work handed to it was lost.`
          : 'The work handed to it was lost or the target name is wrong.'),
      confidence: 0.65,
      severity: 'high',
      evidence: [{ description: `dispatches to ${target} with no later span of ${target}`, spanIds, data: { target, senders, actedBefore } }],
      affectedSpanIds: spanIds,
      agent: actedBefore ? target : (senders[0] ?? null),
      suggestedFix:
        'Check that the target agent name matches a registered agent and that the hand-off is delivered; fail the hand-off loudly when the receiver does not start.',
      fingerprint: hash(`silent\u0000${target}`),
    });
  }
  return findings;
}

function duplicateDispatch(dispatches: readonly Dispatch[], config: CoordinationFailureConfig): Finding[] {
  const byPrompt = new Map<string, Dispatch[]>();
  for (const d of dispatches) {
    const prompt = d.span.prompt?.trim().replace(/\s+/g, ' ') ?? '';
    if (prompt.length < config.minPromptLength) continue;
    const list = byPrompt.get(prompt);
    if (list === undefined) byPrompt.set(prompt, [d]);
    else list.push(d);
  }
  const findings: Finding[] = [];
  for (const [prompt, list] of byPrompt) {
    const targets = [...new Set(list.map((d) => d.target))];
    if (targets.length < 2) continue;
    const firstPerTarget = targets.map((t) => list.find((d) => d.target === t)!);
    const spanIds = firstPerTarget.map((d) => d.span.spanId);
    const dispatcher = firstPerTarget[1]!.span.agentName;
    findings.push({
      detectionType: 'coordination_failure',
      title: `The same task was dispatched to ${targets.length} agents: ${targets.join(', ')}`,
      description:
        `An identical request was sent to ${targets.join(' and ')}. Both work on the same task, doubling cost and risking conflicting results.`,
      confidence: 0.7,
      severity: 'medium',
      evidence: [{ description: 'identical prompts dispatched to different agents', spanIds, data: { targets, prompt: prompt.slice(0, 200) } }],
      affectedSpanIds: spanIds,
      agent: dispatcher !== null && !targets.includes(dispatcher) ? dispatcher : null,
      suggestedFix: 'Track which tasks are already assigned in the orchestrator and dispatch each task to exactly one agent.',
      fingerprint: hash(`duplicate\u0000${prompt}`),
    });
  }
  return findings;
}

export const coordinationFailureDetector: DetectorModule<CoordinationFailureConfig> = {
  id: 'coordination_failure',
  version: 3,
  configSchema,
  defaults: { minRoundTrips: 3, reportSilentAgents: true, reportDuplicateDispatch: true, minPromptLength: 20 },
  create(config) {
    return (trace) => {
      const dispatches: Dispatch[] = [];
      for (const span of trace.spans) {
        if (!isDispatch(span)) continue;
        const target = dispatchTarget(span);
        if (target !== null) dispatches.push({ span, target });
      }
      if (dispatches.length === 0) return [];
      return [
        ...pingPong(thinkingTargets(trace.spans, dispatches), config),
        ...(config.reportSilentAgents ? silentAgents(trace.spans, dispatches) : []),
        ...(config.reportDuplicateDispatch ? duplicateDispatch(dispatches, config) : []),
      ];
    };
  },
};
