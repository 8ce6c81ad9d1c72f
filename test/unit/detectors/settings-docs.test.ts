import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectorDefaults } from '../../../src/detectors/registry.js';

describe('docs/detectors.md settings table', () => {
  it('lists every detector with its version and the defaults of every setting, as the code has them', () => {
    const doc = fs.readFileSync(new URL('../../../docs/detectors.md', import.meta.url), 'utf8');
    for (const [id, { version, defaults }] of Object.entries(detectorDefaults())) {
      const fields = Object.entries(defaults as Record<string, unknown>)
        .map(([k, v]) => `\`${k}\`: ${JSON.stringify(v)}`)
        .join(', ');
      expect(doc).toContain(`| \`${id}\` | ${version} | ${fields} |`);
    }
  });
});
