/**
 * Tests wait on a condition (expect.poll, or test/support/poll.ts), never for a fixed time:
 * a fixed sleep is either too short on a busy machine (a flaky test) or longer than needed
 * (a slow one), and a sleep that "proves" nothing arrived proves nothing. This scans the
 * TypeScript under test/ for a timer used as a wait and names the file and line of each.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** This file: its patterns, samples and allow-list are text, not waits. */
const SELF = path.relative(TEST_DIR, fileURLToPath(import.meta.url)).split(path.sep).join('/');

/** Lines that wait for a fixed time. Guards (`setTimeout(() => reject(...))`, a kill timer) are not waits. */
const WAITS: readonly RegExp[] = [
  // a Promise resolved by a timer: new Promise(r => setTimeout(r, ms))
  /new Promise[^;]*\bsetTimeout\s*\(/,
  /\bsetTimeout\s*\(\s*(resolve|res|r|done|wake)\s*[,)]/,
  // import { setTimeout } from 'node:timers/promises', and awaiting it
  /import\s*\{[^}]*\bsetTimeout\b[^}]*\}\s*from\s*['"](node:)?timers\/promises['"]/,
  /\bawait\s+setTimeout\s*\(/,
  /\bawait\s+(sleep|delay|pause|wait)\s*\(/,
];

/**
 * Uses that stay, each with its reason: the file (relative to test/) and a piece of the line.
 */
const ALLOWED: readonly { readonly file: string; readonly line: string; readonly reason: string }[] = [
  { file: 'support/poll.ts', line: "import { setTimeout as pause } from 'node:timers/promises'", reason: 'the polling loop itself pauses between attempts' },
  { file: 'support/poll.ts', line: 'await pause(intervalMs)', reason: 'the polling loop itself pauses between attempts' },
  {
    file: 'support/fault-load.ts',
    line: 'const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));',
    reason: 'the load driver paces its producers and backs off before a retry; it generates load, it does not wait for a result',
  },
  { file: 'support/fault-load.ts', line: 'await pause(PACE_MS)', reason: 'pacing of the generated load' },
  { file: 'support/fault-load.ts', line: 'await pause(RETRY_MS)', reason: 'the load driver backs off before re-sending a refused body, as a client would' },
];

interface FixedWait {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The lines of `source` that wait for a fixed time, less the allowed ones. */
function fixedWaits(file: string, source: string): FixedWait[] {
  const found: FixedWait[] = [];
  source.split('\n').forEach((text, i) => {
    if (!WAITS.some((pattern) => pattern.test(text))) return;
    if (ALLOWED.some((allowed) => allowed.file === file && text.includes(allowed.line))) return;
    found.push({ file, line: i + 1, text: text.trim() });
  });
  return found;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...(await sourceFiles(full)));
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

describe('waits in tests', () => {
  it('no test waits a fixed time (file and line of each that does)', async () => {
    const files = await sourceFiles(TEST_DIR);
    expect(files.length).toBeGreaterThan(50);
    const waits: string[] = [];
    for (const file of files) {
      const relative = path.relative(TEST_DIR, file).split(path.sep).join('/');
      if (relative === SELF) continue;
      for (const w of fixedWaits(relative, await readFile(file, 'utf8'))) waits.push(`test/${w.file}:${w.line}: ${w.text}`);
    }
    expect(waits, 'wait on the condition with expect.poll or test/support/poll.ts instead (or allow the use, with its reason, in this file)').toEqual([]);
  });

  it('finds the usual forms of a fixed wait, and leaves guards alone', () => {
    const timer = 'setTimeout';
    const waits = [
      `await new Promise((resolve) => ${timer}(resolve, 300));`,
      `    await new Promise((r) => ${timer}(r, 20));`,
      `import { ${timer} as sleep } from 'node:timers/promises';`,
      `await ${timer}(100);`,
      'await sleep(500);',
      'if (i % 5 === 0) await delay(30);',
    ];
    for (const text of waits) expect(fixedWaits('x.test.ts', text), text).toHaveLength(1);
    const guards = [
      `timer = ${timer}(() => reject(new Error('no record within 20 s')), 20_000);`,
      `const guard = ${timer}(() => child.kill('SIGKILL'), 40_000);`,
      `${timer}(() => process.exit(5), 60_000).unref();`,
      `import { setImmediate } from 'node:timers/promises';`,
      'await expect.poll(() => read.length).toBe(1);',
    ];
    for (const text of guards) expect(fixedWaits('x.test.ts', text), text).toEqual([]);
    // An allowed use is allowed only in its own file.
    expect(fixedWaits('support/poll.ts', 'await pause(intervalMs);')).toEqual([]);
    expect(fixedWaits('e2e/other.test.ts', 'await pause(intervalMs);')).toHaveLength(1);
  });

  it('allows nothing that is no longer there', async () => {
    for (const allowed of ALLOWED) {
      const source = await readFile(path.join(TEST_DIR, allowed.file), 'utf8');
      expect(source.includes(allowed.line), `test/${allowed.file} no longer has "${allowed.line}": remove it from ALLOWED`).toBe(true);
    }
  });
});
