/** Helpers that run one detector of the registry over a trace built from semantic spans. */
import type { Detector, Finding } from '../../../src/detectors/detector.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticTrace, toolCall } from '../semantic/fixtures.js';

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
