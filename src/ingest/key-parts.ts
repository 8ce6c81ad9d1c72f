/**
 * The door check every ingest route runs on its canonical spans: a span with a key part over
 * its limit (src/semantic/key-parts.ts) is refused with the field named, never acknowledged
 * and dropped later.
 */
import type { CanonicalSpan } from '../model/span.js';
import { spanKeyPartProblem } from '../semantic/key-parts.js';

/** Throws `refuse(message)` for the first span with a key part over its limit, naming the span and the field. */
export function checkSpanKeyParts(spans: readonly CanonicalSpan[], refuse: (message: string) => Error): void {
  for (const span of spans) {
    const problem = spanKeyPartProblem(span);
    if (problem !== null) throw refuse(`span ${span.spanId.slice(0, 64)} of trace ${span.traceId.slice(0, 64)}: ${problem}`);
  }
}
