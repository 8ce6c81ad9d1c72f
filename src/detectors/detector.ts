/**
 * The detector contract: a pure, versioned function from a
 * read-only trace to findings. No I/O, no clock, no randomness: the same trace always
 * gives the same findings, which is what makes replay meaningful. The trace stage wraps
 * detectors (ids, timing, reconciliation, forwarding); a detector never emits by itself.
 */
import type { z } from 'zod';
import type { Severity } from '../model/outputs.js';
import type { SemanticSpan, SemanticTrace } from '../semantic/semantic-span.js';

export interface Finding {
  readonly detectionType: string;
  readonly title: string;
  readonly description: string;
  /** 0..1 */
  readonly confidence: number;
  readonly severity: Severity;
  readonly evidence: readonly { readonly description: string; readonly spanIds: readonly string[]; readonly data: unknown }[];
  readonly affectedSpanIds: readonly string[];
  readonly agent: string | null;
  readonly suggestedFix: string;
  /** Distinguishes two findings of one detector in one trace; part of the detection id. */
  readonly fingerprint: string;
}

export type DetectFn = (trace: SemanticTrace) => readonly Finding[];

/**
 * What lets a detector fire while the run is live. The trace stage keeps, per open window
 * and detector, the spans for which `relevant` is true (a bounded number, in RocksDB) and
 * runs the detector's own `detect` over them each time one arrives; a finding whose
 * fingerprint it has not reported yet goes out at once as a live detection. Only detectors
 * whose findings need nothing beyond their relevant spans opt in, so the live finding is the
 * one the closed window will find again, under the same id.
 */
export interface LiveSupport {
  relevant(span: SemanticSpan): boolean;
  /** Its findings come from one span alone: it runs on each relevant span and keeps none. */
  readonly perSpan?: boolean;
}

export interface DetectorModule<C> {
  /** Stable id, also the default detection type prefix. */
  readonly id: string;
  /** Bump when the detector's output for the same trace can change. */
  readonly version: number;
  readonly configSchema: z.ZodType<C>;
  readonly defaults: C;
  create(config: C): DetectFn;
  /** Present when the detector can fire on a live window (see LiveSupport). */
  readonly live?: LiveSupport;
}

export interface Detector {
  readonly id: string;
  readonly version: number;
  readonly detect: DetectFn;
  readonly live?: LiveSupport;
}

export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * The agent a span acts for: its own agent name, else the nearest ancestor's (a tool call
 * inside an agent's span belongs to that agent). Safe against parent cycles.
 */
export function agentOf(span: SemanticSpan, byId: ReadonlyMap<string, SemanticSpan>): string | null {
  const seen = new Set<string>();
  for (let s: SemanticSpan | undefined = span; s !== undefined && !seen.has(s.spanId); s = byId.get(s.parentSpanId)) {
    if (s.agentName !== null) return s.agentName;
    seen.add(s.spanId);
  }
  return null;
}
