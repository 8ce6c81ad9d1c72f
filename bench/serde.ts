/**
 * Raw-topic value serialisation: Avro encode + decode of a typical 30-attribute canonical
 * span through the rawEvent codec (Confluent framing, local schema ids), against
 * JSON.stringify + JSON.parse of an equivalent plain object (64-bit integers as decimal
 * strings). Median of 5 runs of ROUND_TRIPS round trips after a warm-up.
 *
 *   npx tsx bench/serde.ts
 */
import { pathToFileURL } from 'node:url';
import { createCodecs, LocalSchemaIds } from '../src/log/serde/index.js';
import type { RawEvent } from '../src/model/span.js';
import { typicalCanonicalSpan } from './payloads.js';
import { formatCount, formatRatio, medianMs, perSecond, table } from './stats.js';

const RUNS = 5;
const WARMUPS = 2;
const ROUND_TRIPS = 10_000;

/** The span as plain JSON-compatible data: bigints become decimal strings, bytes base64. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export async function runSerdeBench(): Promise<void> {
  const codecs = await createCodecs(new LocalSchemaIds());
  const span = typicalCanonicalSpan();
  const event: RawEvent = { type: 'span', span };
  const object = plain(event);

  const encoded = await codecs.rawEvent.encode(event);
  const roundTripped = await codecs.rawEvent.decode(encoded);
  if (roundTripped.type !== 'span' || roundTripped.span.attributes.length !== span.attributes.length) {
    throw new Error('the rawEvent codec did not round-trip the span');
  }
  const json = JSON.stringify(object);

  const jsonMs = await medianMs(RUNS, WARMUPS, () => {
    for (let i = 0; i < ROUND_TRIPS; i++) JSON.parse(JSON.stringify(object));
  });
  const avroMs = await medianMs(RUNS, WARMUPS, async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) await codecs.rawEvent.decode(await codecs.rawEvent.encode(event));
  });
  const encodeMs = await medianMs(RUNS, WARMUPS, async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) await codecs.rawEvent.encode(event);
  });
  const decodeMs = await medianMs(RUNS, WARMUPS, async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) await codecs.rawEvent.decode(encoded);
  });

  const baseline = perSecond(ROUND_TRIPS, jsonMs);
  const row = (name: string, bytes: number, ms: number): string[] => {
    const rate = perSecond(ROUND_TRIPS, ms);
    return [name, formatCount(bytes), ((ms * 1000) / ROUND_TRIPS).toFixed(2), formatCount(rate), formatRatio(rate / baseline)];
  };
  console.log(
    `serde: one canonical span with ${span.attributes.length} attributes (+${span.resource.attributes.length} resource), ` +
      `median of ${RUNS} runs of ${formatCount(ROUND_TRIPS)} after ${WARMUPS} warm-up runs`,
  );
  console.log(
    table([
      ['', 'bytes', 'us/span', 'spans/s', 'vs JSON'],
      row('JSON.stringify + JSON.parse (baseline)', Buffer.byteLength(json), jsonMs),
      row('Avro rawEvent encode + decode', encoded.length, avroMs),
      row('  encode only', encoded.length, encodeMs),
      row('  decode only', encoded.length, decodeMs),
    ]),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSerdeBench();
}
