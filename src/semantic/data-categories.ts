/**
 * The categories of data a trace carried, for the EU AI Act export's "data categories
 * processed" (docs/audit.md). Derived from what the semantic mapper recognises in the spans:
 * a category is listed when at least one span of the trace carries a value of it. Every
 * trace also carries operational metadata (span names, times, service, models, token counts,
 * error status), which is not listed as a category of its own.
 */
import type { SemanticSpan } from './semantic-span.js';

export const DATA_CATEGORIES = {
  prompts: 'text sent to a model (prompts, input messages)',
  completions: 'text a model returned (completions, output messages)',
  tool_arguments: 'arguments of tool calls',
  tool_results: 'results returned by tools',
  agent_instructions: "an agent's declared role, persona or goal",
  agent_state: 'agent state recorded on spans',
  error_messages: 'error messages of failed spans',
} as const;

export type DataCategory = keyof typeof DATA_CATEGORIES;

const present = (value: string | null): boolean => value !== null && value !== '';

const CARRIES: Readonly<Record<DataCategory, (span: SemanticSpan) => boolean>> = {
  prompts: (s) => present(s.prompt),
  completions: (s) => present(s.completion),
  tool_arguments: (s) => present(s.toolArguments),
  tool_results: (s) => present(s.toolResult),
  agent_instructions: (s) => present(s.agentRole),
  agent_state: (s) => present(s.state),
  error_messages: (s) => present(s.errorMessage),
};

/** The categories the spans carry, sorted. */
export function dataCategoriesOf(spans: readonly SemanticSpan[]): DataCategory[] {
  return (Object.keys(CARRIES) as DataCategory[]).filter((category) => spans.some(CARRIES[category])).sort();
}
