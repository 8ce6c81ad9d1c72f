/** Helpers that run one detector of the registry over a trace built from semantic spans. */
import type { Detector, Finding } from '../../../src/detectors/detector.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { canonicalSpan, semanticTrace, toolCall, type AttrInput } from '../semantic/fixtures.js';

export function detector(id: string, overrides: Readonly<Record<string, unknown>> = {}): Detector {
  const found = createDetectors(overrides).find((d) => d.id === id);
  if (found === undefined) throw new Error(`no detector ${id}`);
  return found;
}

export function run(id: string, spans: readonly SemanticSpan[], overrides: Readonly<Record<string, unknown>> = {}): readonly Finding[] {
  return detector(id, overrides).detect(semanticTrace(spans));
}

/** `n` identical calls to `tool`, span ids `${prefix}0`, `${prefix}1`, … */
export function repeated(n: number, tool = 'search', args = '{"q":"x"}', prefix = 's', extra: Partial<SemanticSpan> = {}): SemanticSpan[] {
  return Array.from({ length: n }, (_, i) => toolCall(`${prefix}${i}`, tool, args, extra));
}

export interface ProducedSpan {
  readonly id: string;
  /** Parent span id; 'run' unless given ('' for a root). */
  readonly parent?: string;
  readonly attributes: Record<string, AttrInput>;
  /** Status ERROR with this message. */
  readonly error?: string;
}

const SEC = 1_000_000_000n;

/**
 * Spans as a producer sends them (its attributes, through the mapper), one a second in the
 * order given, each lasting half a second.
 */
export function produced(list: readonly ProducedSpan[]): SemanticSpan[] {
  return list.map((x, i) =>
    toSemanticSpan(
      canonicalSpan({
        spanId: x.id,
        parentSpanId: x.parent ?? 'run',
        name: x.id,
        start: BigInt(i + 1) * SEC,
        end: BigInt(i + 1) * SEC + SEC / 2n,
        attributes: x.attributes,
        ...(x.error === undefined ? {} : { status: { code: 2, message: x.error } }),
      }),
    ),
  );
}
