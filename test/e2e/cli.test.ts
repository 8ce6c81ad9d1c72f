/**
 * The `tracefold` command as a user meets it: bad configuration is refused at start with
 * a message naming each variable, before anything is opened.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tracefold.js');

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
}

describe('tracefold command', () => {
  it('exits 2 naming every bad configuration value', () => {
    const result = run(['start'], { TRACEFOLD_PORT: 'eighty', TRACEFOLD_INACTIVITY_GAP_MS: '5', TRACEFOLD_LOG_LEVEL: 'loud' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('TRACEFOLD_PORT="eighty": must be a whole number');
    expect(result.stderr).toContain('TRACEFOLD_INACTIVITY_GAP_MS="5"');
    expect(result.stderr).toContain('TRACEFOLD_LOG_LEVEL="loud"');
  });

  it('prints the detectors and settings in force, and the pipeline version they make', () => {
    const result = run(['detectors'], { TRACEFOLD_DETECTORS: '{"loop":{"minRepeats":5},"persona_drift":{"enabled":false}}' });
    expect(result.status, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { pipeline_version: string; detectors: { id: string; enabled: boolean; settings: unknown; defaults: unknown }[] };
    expect(printed.pipeline_version).toMatch(/;s[0-9a-f]{12}$/);
    expect(printed.pipeline_version).not.toContain('persona_drift@');
    expect(printed.detectors.find((d) => d.id === 'loop')).toMatchObject({ enabled: true, settings: { minRepeats: 5 }, defaults: { minRepeats: 3 } });
    expect(printed.detectors.find((d) => d.id === 'persona_drift')).toMatchObject({ enabled: false });
  });

  it('prints usage and exits 2 for an unknown command', () => {
    const result = run(['frobnicate'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('tracefold start [--role');
  });
});
