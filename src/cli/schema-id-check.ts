/**
 * The start-up check of a process without a schema registry: it refuses to start when the
 * log already holds values written through a registry, which it could not read.
 *
 * Values carry the id of their writer schema (magic byte 0, 4-byte id, Avro body). A
 * process with TRACEFOLD_SCHEMA_REGISTRY_URL reads both kinds of ids: the registry's, and,
 * for ids the registry does not have, the locally derived ones (registry-schema-ids.ts). A
 * process without one knows only the local ids, so a registry's id is "unknown schema id"
 * to it and every such value would be dead-lettered. To tell early, and say what to set, it
 * reads the last record of every partition of every topic with Avro values (one bounded
 * read per partition, no consumer group) and looks at the ids:
 *
 * - a local id of this version's schemas (or their history): fine;
 * - another id below REGISTRY_ID_LIMIT (2^20): a registry's (registries count their ids up
 *   from 1; no local id is that small). The process refuses to start, naming the topic,
 *   the id and the setting;
 * - any other id: a schema this version does not have, most likely written by a newer
 *   version during an upgrade (or a rollback). Logged as a warning, not refused: refusing
 *   would keep a rolled-back deployment from starting at all.
 *
 * The dead-letter topic holds raw bytes of any kind (no schema of its own) and is not
 * looked at; neither are tombstones (null values) or values that are not framed at all.
 */
import type { Logger } from 'pino';
import type { Log, TopicDeclaration } from '../log/port.js';
import { FRAME_HEADER_BYTES, MAGIC_BYTE } from '../log/serde/framing.js';
import { LocalSchemaIds, REGISTRY_ID_LIMIT } from '../log/serde/schema-ids.js';

/** The schema id a record's value is framed with, and where the record is. */
export interface FoundSchemaId {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly schemaId: number;
}

export interface SchemaIdVerdict {
  /** Why a process without a registry must not start; null when it may. */
  readonly refusal: string | null;
  /** Values framed with ids that are neither local nor a registry's: schemas this version does not have. */
  readonly unknown: readonly FoundSchemaId[];
}

/** The process cannot read what the log holds with the schema ids it is configured for. */
export class SchemaIdModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaIdModeError';
  }
}

/** Ids a schema registry hands out: it counts them up from 1; no local id is this small. */
export function isRegistrySizedId(id: number): boolean {
  return id >= 0 && id < REGISTRY_ID_LIMIT;
}

function joined(items: readonly (string | number)[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * What a process without a schema registry makes of the ids `found` in the log, given the
 * ids it decodes (`localIds`: this version's schemas and their history). Pure.
 */
export function judgeSchemaIds(found: readonly FoundSchemaId[], localIds: ReadonlySet<number>): SchemaIdVerdict {
  const registry = new Map<string, Set<number>>();
  const unknown: FoundSchemaId[] = [];
  for (const entry of found) {
    if (localIds.has(entry.schemaId)) continue;
    if (isRegistrySizedId(entry.schemaId)) {
      let ids = registry.get(entry.topic);
      if (ids === undefined) registry.set(entry.topic, (ids = new Set()));
      ids.add(entry.schemaId);
    } else {
      unknown.push(entry);
    }
  }
  const [first, ...others] = registry;
  if (first === undefined) return { refusal: null, unknown };
  const [topic, ids] = first;
  const sorted = [...ids].sort((a, b) => a - b);
  const refusal =
    `${topic} holds values written through a schema registry (schema ${sorted.length === 1 ? 'id' : 'ids'} ${joined(sorted)}, ` +
    `not one of this version's schemas)${others.length === 0 ? '' : `, and so ${others.length === 1 ? 'does' : 'do'} ${joined(others.map(([t]) => t))}`}: ` +
    'set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes use (the one these values were written through). ' +
    'Without it this process cannot read them.';
  return { refusal, unknown };
}

/** The topics whose values are framed Avro: all but those declared with raw bytes (the dead letters). */
export function framedTopics(declarations: readonly TopicDeclaration[]): string[] {
  return declarations.filter((d) => d.valueSchema !== 'bytes').map((d) => d.name);
}

/**
 * The schema id of the last record of every partition of `topics` that has one: one
 * endOffsets per topic and one read of one record per non-empty partition. Topic after
 * topic: kafkajs opens a broker's fetch connection once per concurrent first fetch and
 * leaks all but one, so the first fetches (endOffsets' own) must not run side by side.
 */
export async function sampleSchemaIds(log: Log, topics: readonly string[]): Promise<FoundSchemaId[]> {
  const found: FoundSchemaId[] = [];
  for (const topic of topics) found.push(...(await sampleTopic(log, topic)));
  return found;
}

/** The schema ids of the last record of each partition of one topic. */
export async function sampleTopic(log: Log, topic: string): Promise<FoundSchemaId[]> {
  const ends = await log.endOffsets(topic);
  const last = await Promise.all(ends.map(async (end, partition) => (end > 0 ? log.readPartition(topic, partition, end - 1, 1) : [])));
  const found: FoundSchemaId[] = [];
  for (const record of last.flat()) {
    const value = record.value;
    if (value === null || value.length < FRAME_HEADER_BYTES || value[0] !== MAGIC_BYTE) continue;
    found.push({ topic, partition: record.partition, offset: record.offset, schemaId: value.readInt32BE(1) });
  }
  return found;
}

/** How long the check keeps trying a topic it cannot read yet (all topics together). */
const CHECK_RETRY_MS = 15_000;

/** A log error that says trying again can succeed (a leader being elected, a broker away). */
function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'retryable' in err && err.retryable === true;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * sampleSchemaIds, trying each topic again while the log says that can help (topics
 * created a moment ago have no leader yet), up to CHECK_RETRY_MS in all. A topic that
 * still cannot be read (or that this process may not read) is left out with a warning:
 * the check guards against a wrong setting, it must not keep a process from starting.
 */
async function sampleReadable(log: Log, topics: readonly string[], logger: Logger): Promise<FoundSchemaId[]> {
  const deadline = Date.now() + CHECK_RETRY_MS;
  const found: FoundSchemaId[] = [];
  for (const topic of topics) {
    for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
      try {
        found.push(...(await sampleTopic(log, topic)));
        break;
      } catch (err) {
        if (!isRetryable(err) || Date.now() + pause > deadline) {
          logger.warn({ err, topic }, `cannot check the schema ids of ${topic} (${messageOf(err)}); starting without checking it`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
  return found;
}

/**
 * Throws SchemaIdModeError when this process has no schema registry and the log holds
 * values written through one; warns of values with schemas this version does not have.
 * Does nothing with a registry: every id then decodes, the registry's and the local ones.
 */
export async function checkSchemaIds(
  log: Log,
  declarations: readonly TopicDeclaration[],
  options: { readonly registryUrl: string | null; readonly logger: Logger; readonly localIds?: LocalSchemaIds },
): Promise<void> {
  if (options.registryUrl !== null) return;
  const found = await sampleReadable(log, framedTopics(declarations), options.logger);
  if (found.length === 0) return;
  const verdict = judgeSchemaIds(found, await (options.localIds ?? new LocalSchemaIds()).knownIds());
  for (const { topic, partition, offset, schemaId } of verdict.unknown) {
    options.logger.warn(
      { topic, partition, offset, schemaId },
      `${topic} holds values with schema id ${schemaId}, which is none of this version's schemas (written by a newer version of tracefold?): this process cannot decode them and dead-letters them`,
    );
  }
  if (verdict.refusal !== null) throw new SchemaIdModeError(verdict.refusal);
}
