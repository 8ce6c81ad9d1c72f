/**
 * The explicit list of detectors the trace stage runs. Adding a detector is one line here;
 * the pipeline version (pipeline-version.ts) changes with it.
 */
import type { Detector, DetectorModule } from './detector.js';
import { loopDetector } from './loop.js';
import { spanErrorsDetector } from './span-errors.js';

// Each module has its own config type; the registry only needs their common shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODULES: readonly DetectorModule<any>[] = [loopDetector, spanErrorsDetector];

/** Overrides are validated against each detector's schema; a bad value names the detector and field. */
export function createDetectors(overrides: Readonly<Record<string, unknown>> = {}): Detector[] {
  return MODULES.map((module) => {
    const merged: unknown = { ...(module.defaults as object), ...(overrides[module.id] ?? {}) };
    const parsed = module.configSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`detector ${module.id}: ${issue.path.join('.')}: ${issue.message}`);
    }
    return { id: module.id, version: module.version, detect: module.create(parsed.data) };
  });
}

export function detectorVersions(): Record<string, number> {
  return Object.fromEntries(MODULES.map((m) => [m.id, m.version]));
}
