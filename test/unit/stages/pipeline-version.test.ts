import { describe, expect, it } from 'vitest';
import { pipelineVersion } from '../../../src/stages/pipeline-version.js';

describe('pipelineVersion', () => {
  it('lists the mapper and every detector with its version when the settings are the defaults', () => {
    const version = pipelineVersion();
    expect(version).toMatch(/^m\d+;loop@\d+,span_errors@\d+,/);
    expect(version).not.toContain(';s');
    // Settings equal to the defaults, or empty, are the same pipeline.
    expect(pipelineVersion({ loop: { minRepeats: 3 }, span_errors: {}, derailment: { enabled: true } })).toBe(version);
  });

  it('leaves out a detector turned off', () => {
    const version = pipelineVersion({ loop: { enabled: false } });
    expect(version).not.toMatch(/(;|,)loop@/);
    expect(version).toContain('span_errors@');
  });

  it('adds a digest of the changed settings that does not depend on their order', () => {
    const a = pipelineVersion({ loop: { minRepeats: 5 }, retry_storm: { enabled: true } });
    expect(a).toMatch(/;s[0-9a-f]{12}$/);
    expect(pipelineVersion({ retry_storm: {}, loop: { minRepeats: 5 } })).toBe(a);
    expect(pipelineVersion({ loop: { minRepeats: 6 } })).not.toBe(a);
  });
});
