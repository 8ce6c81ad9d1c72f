import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/detectors/rate-limit.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const llm = (id: string, errorMessage: string | null, isError = true) =>
  semanticSpan({ spanId: id, operation: 'chat', model: 'gpt-4o', agentName: 'writer', isError, errorMessage });

describe('rate_limit detector', () => {
  it('classifies rate-limit and service errors', () => {
    expect(classifyError('Error code: 429 - Too Many Requests')).toBe('rate_limit');
    expect(classifyError('RateLimitError')).toBe('rate_limit');
    expect(classifyError('You exceeded your current quota')).toBe('rate_limit');
    expect(classifyError('overloaded_error: Overloaded')).toBe('service_error');
    expect(classifyError('503 Service Unavailable')).toBe('service_error');
    expect(classifyError('Request timed out')).toBe('service_error');
    expect(classifyError('read 4290 rows')).toBeNull();
    expect(classifyError('ENOENT: no such file')).toBeNull();
  });

  it('fires on a throttled model call, grouping repeats per kind and target', () => {
    const findings = run('rate_limit', [llm('a', 'Error code: 429'), llm('b', 'rate limit exceeded'), llm('c', 'rate limit exceeded')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'rate_limit', agent: 'writer', severity: 'high', affectedSpanIds: ['a', 'b', 'c'] });
  });

  it('reports service errors on tools as service_error', () => {
    const findings = run('rate_limit', [toolCall('t', 'fetch', '{}', { isError: true, errorMessage: '502 Bad Gateway' })]);
    expect(findings.map((f) => [f.detectionType, f.severity])).toEqual([['service_error', 'medium']]);
  });

  it('stays silent on other errors and on non-errored spans mentioning a rate limit (near miss)', () => {
    expect(run('rate_limit', [llm('a', 'invalid api key'), llm('b', 'rate limit', false)])).toHaveLength(0);
  });

  it('honours minOccurrences and validates its config', () => {
    expect(run('rate_limit', [llm('a', '429')], { rate_limit: { minOccurrences: 2 } })).toHaveLength(0);
    expect(() => createDetectors({ rate_limit: { minOccurrences: 0 } })).toThrow(/detector rate_limit: minOccurrences:/);
  });
});
