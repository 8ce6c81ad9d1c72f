/**
 * Whether a span's key parts fit: each value that will be a part of a state store key or
 * index (ids, and the service, agent, model and tool names the mapper derives from whichever
 * convention the producer follows) must be within its limit (src/model/key-parts.ts). Ingest
 * refuses such a span at the door; the trace stage dead-letters one that reached the log
 * another way, so that no later stage keys by it.
 */
import { keyPartProblem } from '../model/key-parts.js';
import type { CanonicalSpan } from '../model/span.js';
import { keyNamesOf } from './mapper.js';

/** The first key part of `span` over its limit, as "field: reason", or null when all fit. */
export function spanKeyPartProblem(span: CanonicalSpan): string | null {
  const ids = [
    ['tenant', 'tenantId', span.tenantId],
    ['traceId', 'traceId', span.traceId],
    ['spanId', 'spanId', span.spanId],
    ['parentSpanId', 'spanId', span.parentSpanId],
  ] as const;
  for (const [field, part, value] of ids) {
    const problem = keyPartProblem(part, value);
    if (problem !== null) return `${field}: ${problem}`;
  }
  for (const name of keyNamesOf(span)) {
    const problem = keyPartProblem(name.part, name.value);
    if (problem !== null) return `${name.field}: ${problem}`;
  }
  return null;
}
