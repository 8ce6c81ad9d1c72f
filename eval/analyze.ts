/**
 * Runs a payload through the trace stage's analysis path without Kafka or RocksDB: the
 * project's OTLP/HTTP JSON decoder, then analyzeWindow with the registered detectors.
 * Deterministic: the decode time and close time are fixed.
 */
import type { Detector } from '../src/detectors/detector.js';
import { decodeOtlpJson } from '../src/ingest/otlp/json.js';
import type { Detection } from '../src/model/outputs.js';
import { analyzeWindow } from '../src/stages/trace/analyze.js';
import type { OtlpRequest } from './otlp.js';

export const EVAL_TENANT = 'eval';
const FIXED_MS = 1_704_067_200_000;

export interface AnalyzedRun {
  readonly detections: Detection[];
  /**
   * A run-level failure score, when the trace stage computes one: a numeric `failureScore`
   * on the trace record, else on the trace metrics. Null while neither carries it.
   */
  readonly failureScore: number | null;
}

/** A numeric `failureScore` field of a record, if it has one. */
export function failureScoreOf(...records: readonly unknown[]): number | null {
  for (const record of records) {
    if (record === null || typeof record !== 'object') continue;
    const value = (record as Record<string, unknown>).failureScore;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}

export function analyzeRun(body: OtlpRequest, detectors: readonly Detector[], pipelineVersion: string): AnalyzedRun {
  const { spans, rejected } = decodeOtlpJson(body, { tenantId: EVAL_TENANT, receivedAtMs: FIXED_MS });
  if (rejected.length > 0) throw new Error(`decoder rejected ${rejected.length} span(s): ${rejected[0]!.path}: ${rejected[0]!.reason}`);
  if (spans.length === 0) return { detections: [], failureScore: null };
  const traceId = spans[0]!.traceId;
  const { detections, trace, metrics } = analyzeWindow(
    {
      tenantId: EVAL_TENANT,
      traceId,
      revision: 1,
      closeReason: 'root_settled',
      closeRequestId: '',
      closedAtMs: FIXED_MS,
      spans,
    },
    detectors,
    pipelineVersion,
  );
  return { detections: [...detections], failureScore: failureScoreOf(trace, metrics) };
}

export function analyzeRequest(body: OtlpRequest, detectors: readonly Detector[], pipelineVersion: string): Detection[] {
  return analyzeRun(body, detectors, pipelineVersion).detections;
}
