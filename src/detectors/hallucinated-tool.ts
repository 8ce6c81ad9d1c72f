/**
 * Hallucinated tool: a call to a tool the calling agent never declared. The model invented
 * a tool name (or misspelt one), so the call fails or, worse, reaches a tool the agent was
 * not meant to have.
 *
 * Signals: the tools an agent declares, read from what the semantic span carries: the
 * span's `declaredTools` (the mapper reads gen_ai.tool.definitions, gen_ai.agent.tools and
 * llm.tools, flattened OpenInference llm.tools.N.tool.json_schema included), and a `tools`,
 * `available_tools` or `functions` list (names, or objects with `name` or `function.name`)
 * at the top level of the agent's state JSON, or of the prompt JSON of its chat calls (a
 * request body sent as input.value). All declarations of an agent's spans are merged. A
 * tool call of that agent whose name is not in the list is a finding, one per agent and
 * tool. An agent with no declaration yields no detection.
 *
 * Thresholds: none beyond the declaration; names compare case-insensitively, and a span
 * named "execute_tool <name>" is read as <name>. `ignoreTools` lists tools never reported
 * (framework built-ins such as hand-off functions).
 *
 * Blind spots: tools declared for the whole run rather than per agent (say on a root span
 * without an agent) are only seen when an agent's own spans carry them; an agent whose
 * spans declare only part of its tools (one chat call with a narrowed tool list) has the
 * rest reported; a declared tool called with the wrong arguments is not this detector's
 * concern.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import { agentOf } from './detector.js';
import type { DetectorModule, Finding } from './detector.js';

const configSchema = z.object({
  /** Tools never reported as undeclared, compared case-insensitively. */
  ignoreTools: z.array(z.string().min(1)),
});
type HallucinatedToolConfig = z.infer<typeof configSchema>;

const DECLARATION_KEYS = ['tools', 'available_tools', 'functions'] as const;

function normaliseTool(name: string): string {
  return name.trim().replace(/^execute_tool\s+/i, '').toLowerCase();
}

function toolNameOf(entry: unknown): string | null {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object') return null;
  const record = entry as Record<string, unknown>;
  if (typeof record.name === 'string') return record.name;
  const fn = record.function;
  if (fn === null || typeof fn !== 'object') return null;
  const name = (fn as Record<string, unknown>).name;
  return typeof name === 'string' ? name : null;
}

/** Tool names declared in a JSON document's top-level tool lists, or null when it has none. */
export function declaredTools(json: string | null): string[] | null {
  if (json === null) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  let names: string[] | null = null;
  for (const key of DECLARATION_KEYS) {
    const list = (doc as Record<string, unknown>)[key];
    if (!Array.isArray(list)) continue;
    names ??= [];
    for (const entry of list) {
      const name = toolNameOf(entry);
      if (name !== null) names.push(name);
    }
  }
  return names;
}

export const hallucinatedToolDetector: DetectorModule<HallucinatedToolConfig> = {
  id: 'hallucinated_tool',
  version: 2,
  configSchema,
  defaults: { ignoreTools: [] },
  create(config) {
    const ignored = new Set(config.ignoreTools.map(normaliseTool));
    return (trace) => {
      const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
      const declared = new Map<string, Set<string>>();
      for (const span of trace.spans) {
        const agent = agentOf(span, byId);
        if (agent === null) continue;
        for (const names of [span.declaredTools, declaredTools(span.state), declaredTools(span.operation === 'chat' ? span.prompt : null)]) {
          if (names === null) continue;
          const set = declared.get(agent) ?? new Set<string>();
          for (const n of names) set.add(normaliseTool(n));
          declared.set(agent, set);
        }
      }

      const calls = new Map<string, { agent: string; tool: string; spans: SemanticSpan[] }>();
      for (const span of trace.spans) {
        if (span.operation !== 'execute_tool' || span.toolName === null) continue;
        const agent = agentOf(span, byId);
        if (agent === null) continue;
        const tools = declared.get(agent);
        const tool = normaliseTool(span.toolName);
        if (tools === undefined || tools.has(tool) || ignored.has(tool)) continue;
        const key = `${agent}\u0000${tool}`;
        const group = calls.get(key);
        if (group === undefined) calls.set(key, { agent, tool, spans: [span] });
        else group.spans.push(span);
      }

      const findings: Finding[] = [];
      for (const [key, { agent, tool, spans }] of calls) {
        const spanIds = spans.map((s) => s.spanId);
        const known = [...declared.get(agent)!].sort();
        const failed = spans.some((s) => s.isError);
        findings.push({
          detectionType: 'hallucinated_tool',
          title: `${agent} called undeclared tool "${tool}"`,
          description:
            `${agent} called ${tool} ${spans.length === 1 ? 'once' : `${spans.length} times`}, but its declared tools are ` +
            `${known.length > 0 ? known.join(', ') : 'none'}. The model invented or misspelt the tool name.`,
          confidence: failed ? 0.9 : 0.8,
          severity: 'high',
          evidence: [{ description: `calls to ${tool}, not among ${agent}'s declared tools`, spanIds, data: { agent, tool, declaredTools: known, failed } }],
          affectedSpanIds: spanIds,
          agent,
          suggestedFix:
            `Reject calls to unknown tools before executing them and return the list of valid tools to the agent; ` +
            `if ${tool} should exist, declare it for ${agent}.`,
          fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};
