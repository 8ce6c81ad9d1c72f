/**
 * The pipeline version: the semantic mapper and detector set that produced an output.
 * Every output record carries it, so results of a replay with changed detectors can be
 * told apart from the ones they supersede.
 */
import { detectorVersions } from '../detectors/registry.js';
import { MAPPER_VERSION } from '../semantic/mapper.js';

export function pipelineVersion(): string {
  const detectors = Object.entries(detectorVersions())
    .map(([id, v]) => `${id}@${v}`)
    .join(',');
  return `m${MAPPER_VERSION};${detectors}`;
}
