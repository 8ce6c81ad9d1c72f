/**
 * Detector settings: which detectors run and with which thresholds. They come from
 * configuration (TRACEFOLD_DETECTORS, or the file TRACEFOLD_DETECTORS_FILE names) as one JSON
 * object keyed by detector id:
 *
 *   { "loop": { "minRepeats": 5 }, "persona_drift": { "enabled": false } }
 *
 * `enabled: false` turns a detector off; every other field overrides one of the detector's
 * defaults (docs/detectors.md lists them). The settings belong to the pipeline version
 * (pipeline-version.ts), so outputs made under other settings can be told apart, replayed
 * and compared.
 */
/** Per detector: `enabled` and threshold overrides, as read from configuration. */
export type DetectorSettings = Readonly<Record<string, unknown>>;

export interface SplitSettings {
  /** Ids of the detectors turned off. */
  readonly disabled: ReadonlySet<string>;
  /** Per detector, the overrides of its defaults (without `enabled`). */
  readonly overrides: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Checks the settings' shape and splits `enabled` from the overrides. Field values are
 * checked against each detector's schema by createDetectors (registry.ts). Errors name the
 * detector and the field.
 */
export function splitDetectorSettings(settings: unknown): SplitSettings {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new Error('detector settings must be a JSON object keyed by detector id');
  }
  const disabled = new Set<string>();
  const overrides: Record<string, Record<string, unknown>> = {};
  for (const [id, value] of Object.entries(settings)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`detector ${id}: settings must be an object (for example {"enabled": false})`);
    }
    const { enabled, ...rest } = value as Record<string, unknown>;
    if (enabled !== undefined && typeof enabled !== 'boolean') throw new Error(`detector ${id}: enabled: must be true or false`);
    if (enabled === false) disabled.add(id);
    overrides[id] = rest;
  }
  return { disabled, overrides };
}

/** Parses the JSON text of detector settings; errors say where it came from. */
export function parseDetectorSettings(text: string, source: string): DetectorSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  try {
    splitDetectorSettings(parsed);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  return parsed as DetectorSettings;
}
