import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const root = (isError: boolean) => semanticSpan({ spanId: 'root', parentSpanId: '', operation: 'invoke_agent', agentName: 'manager', isError });
const worker = semanticSpan({ spanId: 'worker', parentSpanId: 'root', operation: 'invoke_agent', agentName: 'coder', isError: true, errorMessage: 'step failed' });
const tool = toolCall('tool', 'read_file', '{}', { parentSpanId: 'worker', isError: true, errorMessage: 'ENOENT' });

describe('error_cascade detector', () => {
  it('fires on an error propagating two levels to the root, attributed to the origin agent', () => {
    const findings = run('error_cascade', [root(true), worker, tool]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      detectionType: 'error_cascade',
      affectedSpanIds: ['tool', 'worker', 'root'],
      agent: 'coder',
      severity: 'critical',
      fingerprint: 'tool',
    });
    expect(findings[0]!.description).toContain('ENOENT');
  });

  it('stays silent when the error stops one level up (near miss)', () => {
    expect(run('error_cascade', [root(false), worker, tool])).toHaveLength(0);
  });

  it('is high, not critical, when the chain stops below the root', () => {
    const mid = semanticSpan({ spanId: 'mid', parentSpanId: 'root', operation: 'invoke_agent', agentName: 'lead', isError: true });
    const w = { ...worker, parentSpanId: 'mid' };
    const findings = run('error_cascade', [root(false), mid, w, tool]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.severity).toBe('high');
    expect(findings[0]!.affectedSpanIds).toEqual(['tool', 'worker', 'mid']);
  });

  it('picks the earliest origin among siblings of equal depth', () => {
    const second = toolCall('tool2', 'write_file', '{}', { parentSpanId: 'worker', isError: true });
    const findings = run('error_cascade', [root(true), worker, tool, second]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.affectedSpanIds[0]).toBe('tool');
  });

  it('honours minLevels and rejects invalid values', () => {
    expect(run('error_cascade', [root(false), worker, tool], { error_cascade: { minLevels: 1 } })).toHaveLength(1);
    expect(() => createDetectors({ error_cascade: { minLevels: 0 } })).toThrow(/detector error_cascade: minLevels:/);
  });
});
