/**
 * The semantic view of a span: what detectors and metrics read. Derived from the canonical
 * span's attributes by the mapper (mapper.ts), never stored on the raw topic.
 */
export type Operation = 'chat' | 'execute_tool' | 'invoke_agent' | 'retrieval' | 'embeddings' | 'handoff' | 'other';

export interface SemanticSpan {
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly operation: Operation;
  readonly agentName: string | null;
  readonly agentId: string | null;
  /** The agent's declared role, persona or goal, as text. */
  readonly agentRole: string | null;
  readonly model: string | null;
  readonly provider: string | null;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedInputTokens: number | null;
  /** Tool names the span declares as available (tool definitions), null when it declares none. */
  readonly declaredTools: readonly string[] | null;
  readonly toolName: string | null;
  /** Tool arguments as text, as the producer sent them. */
  readonly toolArguments: string | null;
  readonly toolResult: string | null;
  /** Agent state JSON as text. */
  readonly state: string | null;
  readonly prompt: string | null;
  readonly completion: string | null;
  readonly conversationId: string | null;
  readonly isError: boolean;
  readonly errorMessage: string | null;
}

/** A trace as detectors see it: spans in start order, read-only. */
export interface SemanticTrace {
  readonly tenantId: string;
  readonly traceId: string;
  readonly serviceName: string;
  readonly spans: readonly SemanticSpan[];
}
