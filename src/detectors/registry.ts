/**
 * The explicit list of detectors the trace stage runs. Adding a detector is one line here;
 * the pipeline version (pipeline-version.ts) changes with it.
 */
import { canonicalJson } from '../audit/canonical-json.js';
import type { Detector, DetectorModule } from './detector.js';
import { splitDetectorSettings, type DetectorSettings } from './settings.js';
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

/** The detectors to run, and the settings in force that differ from their defaults. */
export interface DetectorSetup {
  readonly detectors: Detector[];
  /** Per detector run with other than its defaults, its effective configuration. */
  readonly changed: Readonly<Record<string, unknown>>;
}

/**
 * Builds the detectors from their settings (settings.ts). Overrides are validated against
 * each detector's schema: an unknown detector, an unknown field or a bad value is an error
 * naming the detector and the field.
 */
export function detectorSetup(settings: DetectorSettings = {}): DetectorSetup {
  const { disabled, overrides } = splitDetectorSettings(settings);
  for (const id of Object.keys(overrides)) {
    if (!MODULES.some((m) => m.id === id)) throw new Error(`detector ${id}: no such detector (known: ${MODULES.map((m) => m.id).join(', ')})`);
  }
  const detectors: Detector[] = [];
  const changed: Record<string, unknown> = {};
  for (const module of MODULES) {
    const override = overrides[module.id] ?? {};
    const defaults = module.defaults as Record<string, unknown>;
    for (const field of Object.keys(override)) {
      if (!(field in defaults)) throw new Error(`detector ${module.id}: ${field}: unknown setting (known: enabled, ${Object.keys(defaults).join(', ')})`);
    }
    const parsed = module.configSchema.safeParse({ ...defaults, ...override });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`detector ${module.id}: ${issue.path.join('.')}: ${issue.message}`);
    }
    if (disabled.has(module.id)) continue;
    if (canonicalJson(parsed.data) !== canonicalJson(module.configSchema.parse(defaults))) changed[module.id] = parsed.data;
    detectors.push({ id: module.id, version: module.version, detect: module.create(parsed.data), ...(module.live === undefined ? {} : { live: module.live }) });
  }
  return { detectors, changed };
}

export function createDetectors(settings: DetectorSettings = {}): Detector[] {
  return detectorSetup(settings).detectors;
}

/** Every detector's settings and their defaults, for documentation and `tracefold detectors`. */
export function detectorDefaults(): Record<string, { version: number; defaults: unknown }> {
  return Object.fromEntries(MODULES.map((m) => [m.id, { version: m.version, defaults: m.defaults as unknown }]));
}

export function detectorVersions(): Record<string, number> {
  return Object.fromEntries(MODULES.map((m) => [m.id, m.version]));
}
