/**
 * Length limits of the values that become parts of state store keys and indexes: tenant,
 * trace, span and session ids key every store; service, agent and model names key the
 * rollups, baselines and trace facets; tool names are indexed per trace. A store key holds
 * each part behind a 16-bit length (src/log/store-keys.ts), so a value past these limits
 * must be refused at the door, by name, before it is acknowledged: once in the log it could
 * only be dead-lettered.
 *
 * Limits are in characters (UTF-16 code units, as JSON schemas count them); 256 characters
 * are at most 1,024 UTF-8 bytes, far inside a key part's 65,535.
 */

export const KEY_PART_LIMITS = {
  tenantId: 256,
  traceId: 256,
  spanId: 256,
  sessionId: 256,
  detectionId: 256,
  serviceName: 256,
  agentName: 256,
  modelName: 256,
  toolName: 256,
} as const;

export type KeyPart = keyof typeof KEY_PART_LIMITS;

/** How a key part is named in error messages. */
export const KEY_PART_NAMES: Readonly<Record<KeyPart, string>> = {
  tenantId: 'a tenant id',
  traceId: 'a trace id',
  spanId: 'a span id',
  sessionId: 'a session id',
  detectionId: 'a detection id',
  serviceName: 'a service name',
  agentName: 'an agent name',
  modelName: 'a model name',
  toolName: 'a tool name',
};

/** Why `value` cannot be `part` of a key, or null when it can. */
export function keyPartProblem(part: KeyPart, value: string): string | null {
  const limit = KEY_PART_LIMITS[part];
  if (value.length <= limit) return null;
  return `${value.length} characters, over the limit of ${limit} for ${KEY_PART_NAMES[part]}`;
}
