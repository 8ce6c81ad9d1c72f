/**
 * Agenta's `ag.*` attribute namespace, as spans arriving on Agenta's paths carry
 * it, and back in the nested form Agenta's query answers use.
 *
 * Ingest keeps `ag.*` as flat, dotted OTel attribute keys down to `ag.<namespace>.<name>`
 * (`ag.type.span`, `ag.data.inputs`, `ag.references.application`), whether the producer sent
 * them flat or as a nested `{"ag": {...}}` object; deeper values (a dict of inputs, a
 * reference's `{id, slug, version}`) stay whole. That is the form Agenta's own SDK exports
 * over OTLP, so one attribute mapping reads both.
 *
 * Lenient, as Agenta's adapter is: what does not fit the canonical schema is parked under
 * `ag.unsupported.*` rather than rejected: unknown namespaces under `ag.*`, a trace or span
 * type outside its enum (or not a string), and JSON text under `ag.data.{inputs, parameters,
 * internals}` that does not parse.
 */
import type { AnyValue, CanonicalSpan, KeyValue } from '../../../model/span.js';
import { toPlain } from '../../../model/span.js';

export const AG_UNSUPPORTED_PREFIX = 'ag.unsupported.';
export const AG_REFERENCES_ATTRIBUTE = 'ag.references';

const NAMESPACES = new Set(['type', 'data', 'metrics', 'references', 'flags', 'tags', 'meta', 'exception', 'session', 'user', 'unsupported']);
export const TRACE_TYPES = ['invocation', 'annotation', 'unknown'] as const;
export const SPAN_TYPES = ['workflow', 'agent', 'chain', 'task', 'tool', 'llm', 'chat', 'completion', 'embedding', 'query', 'rerank'] as const;
const JSON_DATA = new Set(['inputs', 'parameters', 'internals']);

/** `ag` and `ag.<namespace>` kvlists are opened; `ag.<namespace>.<name>` values stay whole. */
function flatten(key: string, value: AnyValue, out: KeyValue[]): void {
  const depth = key.split('.').length;
  if (value.type === 'kvlist' && depth < 3) {
    for (const child of value.values) flatten(`${key}.${child.key}`, child.value, out);
    return;
  }
  out.push({ key, value });
}

function unparseableJson(value: AnyValue): boolean {
  if (value.type !== 'string') return false;
  const text = value.value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return false;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** Where an `ag.*` attribute belongs: its own key, or its place under `ag.unsupported.`. */
function placeAg(kv: KeyValue): KeyValue {
  const parts = kv.key.split('.');
  const namespace = parts[1];
  const rest = parts.slice(1).join('.');
  const park = (): KeyValue => ({ key: AG_UNSUPPORTED_PREFIX + (rest === '' ? 'ag' : rest), value: kv.value });
  if (namespace === undefined || !NAMESPACES.has(namespace)) return park();
  if (namespace === 'unsupported') return kv;
  if (namespace === 'type') {
    const allowed: readonly string[] = parts[2] === 'trace' ? TRACE_TYPES : parts[2] === 'span' ? SPAN_TYPES : [];
    if (parts.length !== 3 || kv.value.type !== 'string' || !allowed.includes(kv.value.value)) return park();
  }
  if (namespace === 'data' && JSON_DATA.has(parts[2] ?? '') && parts.length === 3 && unparseableJson(kv.value)) return park();
  return kv;
}

/** Applies the namespace rules to a span that arrived on an Agenta path. */
export function normalizeAgSpan(span: CanonicalSpan): CanonicalSpan {
  const attributes: KeyValue[] = [];
  for (const kv of span.attributes) {
    if (kv.key !== 'ag' && !kv.key.startsWith('ag.')) {
      attributes.push(kv);
      continue;
    }
    const flat: KeyValue[] = [];
    flatten(kv.key, kv.value, flat);
    for (const entry of flat) attributes.push(placeAg(entry));
  }
  return { ...span, attributes };
}

/**
 * Attributes as one nested object, dotted keys opened (`ag.type.span` → `{ag: {type: {span}}}`),
 * as Agenta's query answers return them. A key that is both a value and a prefix of others
 * keeps its dotted form at the top level, so nothing is lost.
 */
export function nestAttributes(list: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flat: [string, unknown][] = [];
  for (const kv of list) {
    const parts = kv.key.split('.');
    let node: Record<string, unknown> = out;
    let ok = true;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node = node[part] = {};
      else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
      else {
        ok = false;
        break;
      }
    }
    const leaf = parts[parts.length - 1]!;
    if (ok && node[leaf] === undefined) node[leaf] = toPlain(kv.value);
    else flat.push([kv.key, toPlain(kv.value)]);
  }
  for (const [key, value] of flat) out[key] = value;
  return out;
}
