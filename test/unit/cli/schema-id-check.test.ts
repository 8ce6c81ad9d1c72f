/**
 * The start-up check of a process without a schema registry, as a decision over the schema
 * ids found at the end of each partition (src/cli/schema-id-check.ts).
 */
import { describe, expect, it } from 'vitest';
import { framedTopics, isRegistrySizedId, judgeSchemaIds, type FoundSchemaId } from '../../../src/cli/schema-id-check.js';
import { REGISTRY_ID_LIMIT } from '../../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';

const LOCAL = new Set([306763025, 836491265, 948442216]);
const at = (topic: string, schemaId: number, partition = 0): FoundSchemaId => ({ topic, partition, offset: 41, schemaId });

describe('judging the schema ids a log holds, without a registry', () => {
  it('lets the process start on an empty log', () => {
    expect(judgeSchemaIds([], LOCAL)).toEqual({ refusal: null, unknown: [] });
  });

  it('lets the process start when every id is a local one, earlier versions included', () => {
    const found = [at(TOPICS.raw, 306763025), at(TOPICS.raw, 948442216, 1), at(TOPICS.traces, 836491265)];
    expect(judgeSchemaIds(found, LOCAL)).toEqual({ refusal: null, unknown: [] });
  });

  it('refuses on a registry’s id, naming the topic, the id and the setting', () => {
    const verdict = judgeSchemaIds([at(TOPICS.raw, 306763025), at(TOPICS.traces, 6, 3)], LOCAL);
    expect(verdict.refusal).toBe(
      "tracefold.traces.v1 holds values written through a schema registry (schema id 6, not one of this version's schemas): " +
        'set TRACEFOLD_SCHEMA_REGISTRY_URL to the registry the other processes use (the one these values were written through). ' +
        'Without it this process cannot read them.',
    );
    expect(verdict.unknown).toEqual([]);
  });

  it('names every topic that holds registry ids, one refusal for all', () => {
    const found = [at(TOPICS.traces, 6), at(TOPICS.traces, 2, 1), at(TOPICS.traces, 6, 2), at(TOPICS.tenants, 3), at(TOPICS.sessions, 1)];
    const { refusal } = judgeSchemaIds(found, LOCAL);
    expect(refusal).toMatch(/^tracefold\.traces\.v1 holds values written through a schema registry \(schema ids 2 and 6, not one of this version's schemas\), and so do tracefold\.tenants\.v1 and tracefold\.sessions\.v1: set TRACEFOLD_SCHEMA_REGISTRY_URL /);
    expect(judgeSchemaIds([at(TOPICS.traces, 6), at(TOPICS.tenants, 3)], LOCAL).refusal).toContain(', and so does tracefold.tenants.v1: ');
  });

  it('refuses on a registry’s id even when the same topic also holds local ones', () => {
    expect(judgeSchemaIds([at(TOPICS.traces, 836491265), at(TOPICS.traces, 7, 1)], LOCAL).refusal).toContain('(schema id 7,');
  });

  it('only reports ids too large for a registry that are not local (a newer version’s schemas)', () => {
    const newer = at(TOPICS.traces, 1_234_567_890);
    const negative = at(TOPICS.raw, -5);
    expect(judgeSchemaIds([newer, negative, at(TOPICS.raw, 306763025)], LOCAL)).toEqual({ refusal: null, unknown: [newer, negative] });
    // Both at once: the registry's ids decide.
    expect(judgeSchemaIds([newer, at(TOPICS.tenants, 12)], LOCAL)).toMatchObject({ refusal: expect.stringContaining('tracefold.tenants.v1'), unknown: [newer] });
  });

  it('takes ids below 2^20 for a registry’s', () => {
    expect(isRegistrySizedId(0)).toBe(true);
    expect(isRegistrySizedId(1)).toBe(true);
    expect(isRegistrySizedId(REGISTRY_ID_LIMIT - 1)).toBe(true);
    expect(isRegistrySizedId(REGISTRY_ID_LIMIT)).toBe(false);
    expect(isRegistrySizedId(-1)).toBe(false);
  });

  it('looks at every topic with Avro values, not the dead letters (raw bytes)', async () => {
    const topics = framedTopics(await loadTopicDeclarations());
    expect(topics).toContain(TOPICS.traces);
    expect(topics).toContain(TOPICS.tenants);
    expect(topics).not.toContain(TOPICS.deadLetter);
    expect(topics).toHaveLength(Object.keys(TOPICS).length - 1);
  });
});
