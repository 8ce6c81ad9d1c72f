/**
 * The explicit list of detectors the trace stage runs. Adding a detector is one line here;
 * the pipeline version (pipeline-version.ts) changes with it.
 */
import type { Detector, DetectorModule } from './detector.js';
import { loopDetector } from './loop.js';
import { spanErrorsDetector } from './span-errors.js';
import { stateCorruptionDetector } from './state-corruption.js';
import { coordinationFailureDetector } from './coordination-failure.js';
import { prematureTerminationDetector } from './premature-termination.js';
import { emptyOutputDetector } from './empty-output.js';
import { latencyOutlierDetector } from './latency-outlier.js';
import { retryStormDetector } from './retry-storm.js';
import { errorCascadeDetector } from './error-cascade.js';
import { hallucinatedToolDetector } from './hallucinated-tool.js';
import { contextOverflowDetector } from './context-overflow.js';
import { tokenExplosionDetector } from './token-explosion.js';
import { rateLimitDetector } from './rate-limit.js';
import { personaDriftDetector } from './persona-drift.js';
import { derailmentDetector } from './derailment.js';
import { ungroundedClaimDetector } from './ungrounded-claim.js';

// Each module has its own config type; the registry only needs their common shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODULES: readonly DetectorModule<any>[] = [
  loopDetector,
  spanErrorsDetector,
  stateCorruptionDetector,
  coordinationFailureDetector,
  prematureTerminationDetector,
  emptyOutputDetector,
  latencyOutlierDetector,
  retryStormDetector,
  errorCascadeDetector,
  hallucinatedToolDetector,
  contextOverflowDetector,
  tokenExplosionDetector,
  rateLimitDetector,
  personaDriftDetector,
  derailmentDetector,
  ungroundedClaimDetector,
];

/**
 * Overrides are validated against each detector's schema: an unknown detector, an unknown
 * field or a bad value is an error naming the detector and the field.
 */
export function createDetectors(overrides: Readonly<Record<string, unknown>> = {}): Detector[] {
  for (const id of Object.keys(overrides)) {
    if (!MODULES.some((m) => m.id === id)) throw new Error(`detector ${id}: no such detector (known: ${MODULES.map((m) => m.id).join(', ')})`);
  }
  return MODULES.map((module) => {
    const override = overrides[module.id] ?? {};
    if (typeof override !== 'object' || override === null || Array.isArray(override)) {
      throw new Error(`detector ${module.id}: overrides must be an object`);
    }
    const defaults = module.defaults as Record<string, unknown>;
    for (const field of Object.keys(override)) {
      if (!(field in defaults)) throw new Error(`detector ${module.id}: ${field}: unknown setting`);
    }
    const parsed = module.configSchema.safeParse({ ...defaults, ...override });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`detector ${module.id}: ${issue.path.join('.')}: ${issue.message}`);
    }
    return { id: module.id, version: module.version, detect: module.create(parsed.data), ...(module.live === undefined ? {} : { live: module.live }) };
  });
}

export function detectorVersions(): Record<string, number> {
  return Object.fromEntries(MODULES.map((m) => [m.id, m.version]));
}
