/**
 * OTLP/HTTP JSON decoding: decodeOtlpJson on an already parsed 1000-span request with 20
 * attributes per span, against JSON.parse of the same text (the baseline: the work any
 * JSON endpoint does before it looks at a field). Median of 5 runs after a warm-up; each
 * run handles the payload REPEATS times.
 *
 *   npx tsx bench/otlp-decode.ts
 */
import { pathToFileURL } from 'node:url';
import { decodeOtlpJson } from '../src/ingest/otlp/json.js';
import { largeOtlpPayload } from './payloads.js';
import { formatCount, formatRatio, medianMs, perSecond, table } from './stats.js';

const RUNS = 5;
const WARMUPS = 5;
const REPEATS = 10;
const SPANS = 1000;

export async function runOtlpDecodeBench(): Promise<void> {
  const text = largeOtlpPayload();
  const body: unknown = JSON.parse(text);
  const ctx = { tenantId: 'tenant-bench', receivedAtMs: Date.now() };
  let decoded = 0;

  const parseMs = await medianMs(RUNS, WARMUPS, () => {
    for (let i = 0; i < REPEATS; i++) JSON.parse(text);
  });
  const decodeMs = await medianMs(RUNS, WARMUPS, () => {
    for (let i = 0; i < REPEATS; i++) decoded = decodeOtlpJson(body, ctx).spans.length;
  });
  const bothMs = await medianMs(RUNS, WARMUPS, () => {
    for (let i = 0; i < REPEATS; i++) decoded = decodeOtlpJson(JSON.parse(text), ctx).spans.length;
  });
  if (decoded !== SPANS) throw new Error(`decodeOtlpJson returned ${decoded} spans, expected ${SPANS}`);

  const spans = SPANS * REPEATS;
  const baseline = perSecond(spans, parseMs);
  const row = (name: string, ms: number): string[] => {
    const rate = perSecond(spans, ms);
    return [name, (ms / REPEATS).toFixed(2), formatCount(rate), formatRatio(rate / baseline)];
  };
  console.log(
    `otlp-decode: ${SPANS} spans x 20 attributes, ${(text.length / 1e6).toFixed(2)} MB of JSON, ` +
      `median of ${RUNS} runs of ${REPEATS} payloads after ${WARMUPS} warm-up runs`,
  );
  console.log(
    table([
      ['', 'ms/payload', 'spans/s', 'vs JSON.parse'],
      row('JSON.parse (baseline)', parseMs),
      row('decodeOtlpJson (parsed body)', decodeMs),
      row('JSON.parse + decodeOtlpJson', bothMs),
    ]),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runOtlpDecodeBench();
}
