/**
 * A digest of a trace's assembled spans: SHA-256 over each span's identity and content in
 * span id order. The audit chain records it so an exported trace can be checked later.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, CanonicalSpan, KeyValue } from '../../model/span.js';

function anyValueText(v: AnyValue): unknown {
  switch (v.type) {
    case 'empty':
      return null;
    case 'int':
      return { int: v.value.toString() };
    case 'bytes':
      return { bytes: Buffer.from(v.value).toString('base64') };
    case 'array':
      return v.values.map(anyValueText);
    case 'kvlist':
      return kvText(v.values);
    default:
      return { [v.type]: v.value };
  }
}

function kvText(list: readonly KeyValue[]): unknown {
  return list.map((kv) => [kv.key, anyValueText(kv.value)]);
}

export function spanDigest(spans: readonly CanonicalSpan[]): string {
  const hash = createHash('sha256');
  const sorted = [...spans].sort((a, b) => (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
  for (const s of sorted) {
    hash.update(
      JSON.stringify([
        s.traceId,
        s.spanId,
        s.parentSpanId,
        s.name,
        s.kind,
        s.startTimeUnixNano.toString(),
        s.endTimeUnixNano.toString(),
        s.status.code,
        s.status.message,
        kvText(s.attributes),
        s.events.map((e) => [e.name, e.timeUnixNano.toString(), kvText(e.attributes)]),
        s.links.map((l) => [l.traceId, l.spanId, kvText(l.attributes)]),
        kvText(s.resource.attributes),
        s.scope.name,
        s.scope.version,
      ]),
    );
    hash.update('\n');
  }
  return hash.digest('hex');
}
