/** Pure helpers of the consumer runtime: assignment differences and batch chunks. */
import type { TopicPartition } from '../port.js';
import { tpKey } from '../port.js';

/** kafkajs reports an assignment as { topic: [partitions] }. */
export function flattenAssignment(assignment: Readonly<Record<string, readonly number[]>>): TopicPartition[] {
  const partitions: TopicPartition[] = [];
  for (const topic of Object.keys(assignment).sort()) {
    for (const partition of [...(assignment[topic] ?? [])].sort((a, b) => a - b)) partitions.push({ topic, partition });
  }
  return partitions;
}

/**
 * What changed between two assignments. kafkajs has no revoke callback; with the eager
 * protocol it uses, a member learns its new assignment in one step, so the partitions it
 * held before and lacks now are the revoked ones.
 */
export function diffAssignment(
  previous: Iterable<string>,
  next: readonly TopicPartition[],
): { added: TopicPartition[]; revoked: TopicPartition[] } {
  const before = new Set(previous);
  const after = new Set(next.map((tp) => tpKey(tp.topic, tp.partition)));
  const added = next.filter((tp) => !before.has(tpKey(tp.topic, tp.partition)));
  const revoked = [...before].filter((key) => !after.has(key)).map(parseTpKey);
  return { added, revoked };
}

export function parseTpKey(key: string): TopicPartition {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** Splits `items` into runs of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups partitions by topic, as kafkajs's pause(), resume() and commit calls want them. */
export function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const map = new Map<string, number[]>();
  for (const { topic, partition } of partitions) map.set(topic, [...(map.get(topic) ?? []), partition]);
  return [...map].map(([topic, list]) => ({ topic, partitions: list }));
}
