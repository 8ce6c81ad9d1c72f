import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const MS = 1_000_000n;
const call = (id: string, ms: number, extra: Partial<SemanticSpan> = {}) =>
  toolCall(id, 'search', '{}', { startNs: 0n, endNs: BigInt(ms) * MS, agentName: 'researcher', ...extra });

describe('latency_outlier detector', () => {
  it('reports a call more than 5x the median and over 10 s', () => {
    const findings = run('latency_outlier', [call('a', 2000), call('b', 2100), call('c', 1900), call('slow', 30_000)]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'latency_outlier', affectedSpanIds: ['slow'], agent: 'researcher' });
  });

  it('stays silent below 10 s, below 5x, or without enough siblings', () => {
    expect(run('latency_outlier', [call('a', 100), call('b', 100), call('slow', 9000)])).toHaveLength(0);
    expect(run('latency_outlier', [call('a', 4000), call('b', 4000), call('slow', 15_000)])).toHaveLength(0);
    expect(run('latency_outlier', [call('a', 2000), call('slow', 30_000)])).toHaveLength(0);
  });

  it('compares only spans of the same kind', () => {
    const spans = [call('a', 1000), call('b', 1000), semanticSpan({ spanId: 'root', name: 'agent_run', operation: 'invoke_agent', startNs: 0n, endNs: 60_000n * MS })];
    expect(run('latency_outlier', spans)).toHaveLength(0);
  });

  it('reports timeouts from error messages, not other errors', () => {
    const findings = run('latency_outlier', [call('t', 500, { isError: true, errorMessage: 'upstream request timed out' })]);
    expect(findings[0]).toMatchObject({ detectionType: 'timeout', affectedSpanIds: ['t'] });
    expect(run('latency_outlier', [call('d', 500, { isError: true, errorMessage: 'DEADLINE_EXCEEDED' })])).toHaveLength(1);
    expect(run('latency_outlier', [call('e', 500, { isError: true, errorMessage: 'HTTP 500' })])).toHaveLength(0);
  });

  it('validates its config', () => {
    expect(() => createDetectors({ latency_outlier: { ratio: 1 } })).toThrow(/detector latency_outlier: ratio:/);
    expect(() => createDetectors({ latency_outlier: { minGroupSize: 2 } })).toThrow(/detector latency_outlier: minGroupSize:/);
    const spans = [call('a', 2000), call('b', 2100), call('c', 1900), call('slow', 30_000)];
    expect(run('latency_outlier', spans, { latency_outlier: { minDurationMs: 60_000 } })).toHaveLength(0);
  });
});
