import type { ComponentChildren } from 'preact';
import { reveal } from '../text.js';

export function ErrorNote({ error }: { error: string | null }) {
  return error === null ? null : (
    <p role="alert" class="error">
      {reveal(error)}
    </p>
  );
}

export function Field({ id, label, children }: { id: string; label: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

export const DETECTION_TYPES = [
  'loop',
  'retry_storm',
  'tool_failure',
  'span_errors',
  'error_cascade',
  'rate_limit',
  'timeout',
  'latency_outlier',
  'context_overflow',
  'coordination_failure',
  'derailment',
  'empty_output',
  'truncated_output',
  'hallucinated_tool',
  'persona_drift',
  'premature_termination',
  'anomaly',
] as const;

export function Severity({ value }: { value: string | null }) {
  if (value === null) return <span>—</span>;
  return <span class={`sev sev-${/^[a-z]+$/.test(value) ? value : 'other'}`}>{reveal(value)}</span>;
}

/** A list of plain strings as text. */
export function Plain({ items }: { items: readonly string[] }) {
  return <bdi>{items.length === 0 ? '—' : reveal(items.join(', '))}</bdi>;
}
