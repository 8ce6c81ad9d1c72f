import { describe, expect, it } from 'vitest';
import { createDetectors, detectorVersions } from '../../../src/detectors/registry.js';
import { repeated, run } from './run-detector.js';

describe('createDetectors', () => {
  it('lists each detector once, loop and span_errors first, with their versions', () => {
    const detectors = createDetectors();
    const ids = detectors.map((d) => d.id);
    expect(ids.slice(0, 2)).toEqual(['loop', 'span_errors']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.fromEntries(detectors.map((d) => [d.id, d.version]))).toEqual(detectorVersions());
  });

  it('registers the text detectors at version 1 with their defaults accepted', () => {
    const versions = detectorVersions();
    expect(versions).toMatchObject({ persona_drift: 1, derailment: 1, hallucinated_tool: 2 });
    expect(() => createDetectors({ persona_drift: {}, derailment: {} })).not.toThrow();
    expect(() => createDetectors({ derailment: { maxSeenShare: -1 } })).toThrow(/detector derailment: maxSeenShare:/);
  });

  it('rejects a bad override, naming the detector and the field', () => {
    expect(() => createDetectors({ loop: { minRepeats: 1 } })).toThrow(/detector loop: minRepeats:/);
    expect(() => createDetectors({ loop: { minRepeats: 2.5 } })).toThrow(/detector loop: minRepeats:/);
    expect(() => createDetectors({ span_errors: { includeUnclassified: 'yes' } })).toThrow(
      /detector span_errors: includeUnclassified:/,
    );
  });

  it('rejects an unknown detector, an unknown setting and a non-object override', () => {
    expect(() => createDetectors({ lop: {} })).toThrow(/detector lop: no such detector/);
    expect(() => createDetectors({ loop: { minRepeat: 5 } })).toThrow(/detector loop: minRepeat: unknown setting/);
    expect(() => createDetectors({ loop: 5 })).toThrow(/detector loop: settings must be an object/);
  });

  it('leaves out a detector turned off, and rejects an enabled flag that is not a boolean', () => {
    const ids = createDetectors({ loop: { enabled: false }, span_errors: { enabled: true } }).map((d) => d.id);
    expect(ids).not.toContain('loop');
    expect(ids).toContain('span_errors');
    expect(() => createDetectors({ loop: { enabled: 'no' } })).toThrow(/detector loop: enabled: must be true or false/);
  });

  it('applies a valid override on top of the defaults', () => {
    expect(run('loop', repeated(3), { loop: { minRepeats: 4 } })).toHaveLength(0);
    expect(run('loop', repeated(4), { loop: { minRepeats: 4 } })).toHaveLength(1);
  });
});
