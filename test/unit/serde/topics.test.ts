import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VALUE_SCHEMAS } from '../../../src/log/serde/index.js';
import { TOPIC_DIR, TOPICS, TopicDeclarationError, loadTopicDeclarations } from '../../../src/log/topics.js';

const DAY_MS = 86_400_000;

describe('topic declarations', () => {
  it('declare exactly the topics of TOPICS, with their schemas', async () => {
    const declarations = await loadTopicDeclarations();
    expect(declarations.map((d) => d.name).sort()).toEqual(Object.values(TOPICS).sort());
    // The dead-letter topic holds other topics' records as they were read: opaque bytes.
    for (const d of declarations) expect([...VALUE_SCHEMAS, 'bytes'], d.name).toContain(d.valueSchema);
  });

  it('match the partitioning, cleanup and retention the pipeline relies on', async () => {
    const byName = new Map((await loadTopicDeclarations()).map((d) => [d.name, d]));
    const expected: [string, number, 'delete' | 'compact', number, string][] = [
      [TOPICS.raw, 6, 'delete', 7 * DAY_MS, 'raw-event'],
      [TOPICS.traces, 6, 'compact', -1, 'trace-record'],
      [TOPICS.detections, 6, 'delete', 30 * DAY_MS, 'detection'],
      [TOPICS.metrics, 6, 'delete', 30 * DAY_MS, 'trace-metrics'],
      [TOPICS.feedback, 3, 'delete', -1, 'feedback'],
      [TOPICS.tenants, 1, 'compact', -1, 'tenant-event'],
      [TOPICS.sessions, 3, 'compact', -1, 'session-record'],
      [TOPICS.deadLetter, 3, 'delete', 7 * DAY_MS, 'bytes'],
    ];
    for (const [name, partitions, cleanupPolicy, retentionMs, valueSchema] of expected) {
      expect(byName.get(name), name).toMatchObject({ name, partitions, cleanupPolicy, retentionMs, valueSchema });
    }
    expect(byName.get(TOPICS.traces)?.config).toEqual({ 'max.message.bytes': String(16 * 1024 * 1024) });
    // Raw records of one trace share a partition, in order; the trace stage depends on it.
    expect(byName.get(TOPICS.raw)?.key).toBe('<tenantId>/<traceId>');
  });

  describe('a broken file', () => {
    let dir: string;
    let valid: Record<string, unknown>;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tracefold-topics-'));
      valid = JSON.parse(await readFile(new URL('tracefold.raw.v1.json', TOPIC_DIR), 'utf8')) as Record<string, unknown>;
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const write = (file: string, content: unknown) => writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));

    it('is reported with the file and the field', async () => {
      await write('a.json', valid);
      await write('broken.json', { ...valid, name: 'other.v1', partitions: 0 });
      await expect(loadTopicDeclarations(dir)).rejects.toThrow(/^tracefold-topics-\w+\/broken\.json: partitions: .*>=1/);
      await expect(loadTopicDeclarations(dir)).rejects.toBeInstanceOf(TopicDeclarationError);
    });

    it('names a missing field, a wrong type and an unknown key', async () => {
      const { key: _key, ...withoutKey } = valid;
      await write('missing.json', { ...withoutKey, cleanupPolicy: 'archive', partiton: 3 });
      const error = await loadTopicDeclarations(dir).then(
        () => new Error('expected a rejection'),
        (err: unknown) => err as Error,
      );
      expect(error.message).toMatch(/^tracefold-topics-\w+\/missing\.json: /);
      expect(error.message).toMatch(/cleanupPolicy: /);
      expect(error.message).toMatch(/key: /);
      expect(error.message).toMatch(/partiton: unknown field/);
    });

    it('rejects config that duplicates a declared field, a bad retention and invalid JSON', async () => {
      await write('config.json', { ...valid, config: { 'retention.ms': '1' } });
      await expect(loadTopicDeclarations(dir)).rejects.toThrow(
        /tracefold-topics-\w+\/config\.json: config: must not set cleanup\.policy or retention\.ms/,
      );
      await write('config.json', { ...valid, retentionMs: 0 });
      await expect(loadTopicDeclarations(dir)).rejects.toThrow(/tracefold-topics-\w+\/config\.json: retentionMs: must be -1/);
      await write('config.json', '{ "name": ');
      await expect(loadTopicDeclarations(dir)).rejects.toThrow(/tracefold-topics-\w+\/config\.json: not valid JSON/);
    });

    it('rejects two files declaring one topic', async () => {
      await write('a.json', valid);
      await write('b.json', valid);
      await expect(loadTopicDeclarations(dir)).rejects.toThrow(
        /tracefold-topics-\w+\/b\.json: name: topic tracefold\.raw\.v1 is already declared by tracefold-topics-\w+\/a\.json/,
      );
    });
  });
});
