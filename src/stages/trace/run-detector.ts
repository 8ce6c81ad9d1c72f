/**
 * Detectors run isolated, as the OpenTelemetry Collector's tail sampler runs its policies:
 * each call is timed, and a detector that throws loses only its own findings; the rest of
 * the analysis stands. Failures and durations are reported per detector.
 */
import type { Detector, Finding } from '../../detectors/detector.js';
import type { SemanticSpan, SemanticTrace } from '../../semantic/semantic-span.js';

/** Receives each detector run: how long it took, and the error when it threw. */
export interface DetectorRunObserver {
  observe(detectorId: string, seconds: number, error: unknown): void;
}

/** The detector's findings, or null when it threw (the observer is told why). */
export function runDetector(detector: Detector, trace: SemanticTrace, observer?: DetectorRunObserver): readonly Finding[] | null {
  const started = process.hrtime.bigint();
  let error: unknown = undefined;
  try {
    return detector.detect(trace);
  } catch (err) {
    error = err;
    return null;
  } finally {
    observer?.observe(detector.id, Number(process.hrtime.bigint() - started) / 1e9, error);
  }
}

/** Whether a live detector wants the span; a throwing `relevant` counts as a failed run. */
export function liveRelevant(detector: Detector, span: SemanticSpan, observer?: DetectorRunObserver): boolean {
  try {
    return detector.live?.relevant(span) === true;
  } catch (err) {
    observer?.observe(detector.id, 0, err);
    return false;
  }
}
