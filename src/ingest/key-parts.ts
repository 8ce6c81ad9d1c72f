/**
 * The door check every ingest route runs on its canonical spans: each value that will be a
 * part of a state store key or index (ids, and the service, agent, model and tool names the
 * mapper derives from whichever convention the producer follows) must be within its limit
 * (src/model/key-parts.ts). A span over a limit is refused with the field named, never
 * acknowledged and dropped later.
 */
import { keyPartProblem } from '../model/key-parts.js';
import type { CanonicalSpan } from '../model/span.js';
import { keyNamesOf } from '../semantic/mapper.js';

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

/** Throws `refuse(message)` for the first span with a key part over its limit, naming the span and the field. */
export function checkSpanKeyParts(spans: readonly CanonicalSpan[], refuse: (message: string) => Error): void {
  for (const span of spans) {
    const problem = spanKeyPartProblem(span);
    if (problem !== null) throw refuse(`span ${span.spanId.slice(0, 64)} of trace ${span.traceId.slice(0, 64)}: ${problem}`);
  }
}
