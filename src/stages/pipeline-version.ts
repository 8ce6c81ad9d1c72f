/**
 * The pipeline version: the semantic mapper, the detectors that ran and their settings.
 * Every output record carries it, so results of a replay with changed detectors can be
 * told apart from the ones they supersede: `m<mapper>;<id>@<version>,…` listing the
 * detectors that run, then `;s<digest>` when any runs with other than its default settings.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import { detectorSetup } from '../detectors/registry.js';
import type { DetectorSettings } from '../detectors/settings.js';
import { MAPPER_VERSION } from '../semantic/mapper.js';

export function pipelineVersion(settings: DetectorSettings = {}): string {
  const { detectors, changed } = detectorSetup(settings);
  const list = detectors.map((d) => `${d.id}@${d.version}`).join(',');
  const version = `m${MAPPER_VERSION};${list}`;
  if (Object.keys(changed).length === 0) return version;
  return `${version};s${createHash('sha256').update(canonicalJson(changed)).digest('hex').slice(0, 12)}`;
}
