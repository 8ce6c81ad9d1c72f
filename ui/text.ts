/**
 * Span content comes from any producer and is untrusted. It is only ever rendered as text
 * (Preact sets text nodes, never markup); in addition, characters that hide or reorder text
 * (zero-width, bidi overrides and isolates, the BOM) are shown as visible code points, so a
 * name cannot pretend to be something else, and data cells isolate their direction (CSS).
 */
const HIDDEN = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

export function reveal(value: unknown): string {
  // Fields are typed strings, but a producer or an older record may send anything.
  const s = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : (JSON.stringify(value) ?? '');
  return s.replace(HIDDEN, (c) => `⟦U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟧`);
}

/** Any value as display text: strings as they are (revealed), others as JSON. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return reveal(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return reveal(JSON.stringify(value, null, 2));
  } catch {
    return '[unprintable]';
  }
}

/** A string that holds JSON, pretty-printed; anything else as text. */
export function pretty(value: unknown): string {
  if (typeof value === 'string') {
    const t = value.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return reveal(JSON.stringify(JSON.parse(t), null, 2));
      } catch {
        // not JSON after all
      }
    }
  }
  return text(value);
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(2)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

export function usd(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v < 0.01 && v > 0 ? `$${v.toFixed(5)}` : `$${v.toFixed(2)}`;
}

export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? reveal(iso) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v * 100)}%`;
}
