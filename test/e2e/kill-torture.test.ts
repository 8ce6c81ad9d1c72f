/**
 * Atomicity under SIGKILL: a child process runs the
 * trace stage over a fixed raw input and is killed at random moments, again and again, on
 * the same data dir; then it runs to the end. Window state, emitted outputs and the
 * consumed offset move together, so whatever the kill points were:
 *
 * - every trace has exactly one trace record (revision 1) holding each of its spans once;
 * - no detection id appears twice (beyond one live copy confirmed by its final one), and
 *   the expected detections are all there.
 *
 * The kill moments come from a seeded generator; the seed is printed, and
 * KILL_TORTURE_SEED=<seed> replays the same schedule (the machine's timing still varies).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCodecs, LocalSchemaIds } from '../../src/log/serde/index.js';
import { TOPICS } from '../../src/log/topics.js';
import { expectedDetections, SPANS_PER_TRACE, spanIdOf, TENANT, traceIdOf, TRACES } from '../fixtures/kill-torture-input.js';
import { tempDir } from '../support/server.js';
import { readTopic } from '../support/topic-reader.js';
import { seededRandom } from '../support/seeded-random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = path.join(root, 'test', 'fixtures', 'kill-torture-child.ts');
const KILLS = 15;
const MIN_DELAY_MS = 50;
const MAX_DELAY_MS = 500;

interface Round {
  /** Lines the child printed (the repeated stats lines collapsed to the last one). */
  readonly lines: string[];
  readonly exit: number | string;
}

/**
 * Runs the child on `dataDir`. With `killAfterMs` it is killed that long after it has
 * opened the log ("ready"); without, it runs with --until-done and must exit cleanly.
 */
async function runChild(dataDir: string, killAfterMs: number | null): Promise<Round> {
  const args = ['--import', 'tsx', CHILD, dataDir, ...(killAfterMs === null ? ['--until-done'] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  let killTimer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      if (line.startsWith('stats ') && lines.at(-1)?.startsWith('stats ') === true) lines[lines.length - 1] = line;
      else lines.push(line);
      if (line === 'ready' && killAfterMs !== null) killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const exit = await new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  clearTimeout(guard);
  clearTimeout(killTimer);
  if (stderr.trim() !== '') lines.push(`stderr: ${stderr.trim()}`);
  return { lines, exit };
}

describe('trace stage under SIGKILL at random points', () => {
  it('assembles every span into exactly one revision and emits no output twice', { timeout: 90_000 }, async () => {
    const seed = Number(process.env.KILL_TORTURE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`kill-torture seed=${seed} (KILL_TORTURE_SEED=${seed} to repeat the schedule)`);
    const next = seededRandom(seed);
    const dataDir = await tempDir('kill-torture');
    const history: string[] = [];

    for (let i = 0; i < KILLS; i++) {
      const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
      const round = await runChild(dataDir, delay);
      history.push(`kill ${i + 1} after ${delay} ms: exit ${round.exit}; ${round.lines.join(' | ')}`);
      // Anything but our SIGKILL means the child failed on its own: stop here and say why.
      expect(round.exit, `seed=${seed}\n${history.join('\n')}`).toBe('SIGKILL');
    }
    const final = await runChild(dataDir, null);
    history.push(`final: exit ${final.exit}; ${final.lines.join(' | ')}`);
    const context = `seed=${seed}\n${history.join('\n')}`;
    // Where the kills landed: the last progress each killed child reported.
    console.log(history.map((h) => h.replace(/"lateSpansDeadLettered":\d+,|"duplicateSpans":\d+,/g, '')).join('\n'));
    expect(final.exit, context).toBe(0);
    expect(final.lines.at(-1), context).toMatch(/^done /);

    const codecs = await createCodecs(new LocalSchemaIds());
    const traces = await Promise.all((await readTopic(dataDir, TOPICS.traces)).map((r) => codecs.trace.decode(r.value!)));
    const detections = await Promise.all((await readTopic(dataDir, TOPICS.detections)).map((r) => codecs.detection.decode(r.value!)));
    const deadLetters = await readTopic(dataDir, TOPICS.deadLetter);

    // One trace record per (tenant, trace, revision), and only revision 1.
    const perRevision = new Map<string, number>();
    for (const t of traces) {
      const key = `${t.tenantId}/${t.traceId}/${t.revision}`;
      perRevision.set(key, (perRevision.get(key) ?? 0) + 1);
    }
    const emittedTwice = [...perRevision].filter(([, n]) => n > 1);
    expect(emittedTwice, context).toEqual([]);
    expect([...new Set(traces.map((t) => t.revision))], context).toEqual([1]);
    expect(deadLetters, context).toHaveLength(0);

    // Every span of the input in exactly one assembled trace record of its trace.
    const expectedTraceIds = Array.from({ length: TRACES }, (_, t) => traceIdOf(t));
    expect(traces.map((t) => t.traceId).sort(), context).toEqual([...expectedTraceIds].sort());
    const byTrace = new Map(traces.map((t) => [t.traceId, t]));
    const wrong: string[] = [];
    for (let t = 0; t < TRACES; t++) {
      const record = byTrace.get(traceIdOf(t))!;
      expect(record.tenantId).toBe(TENANT);
      const got = record.spans.map((s) => s.spanId).sort();
      const want = Array.from({ length: SPANS_PER_TRACE }, (_, s) => spanIdOf(t, s)).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${traceIdOf(t)}: ${got.join(',')}`);
    }
    expect(wrong, context).toEqual([]);

    // No detection twice: each id at most once live (while its window was open) and exactly
    // once final; the final ones are exactly the expected ones, and every live one is confirmed.
    const copies = detections.map((d) => `${d.id}/${d.live ? 'live' : 'final'}`);
    expect(copies.length - new Set(copies).size, context).toBe(0);
    const finals = detections.filter((d) => !d.live);
    const finalIds = new Set(finals.map((d) => d.id));
    expect(detections.filter((d) => d.live && !finalIds.has(d.id)), context).toEqual([]);
    const found = new Map<string, string[]>();
    for (const d of finals) found.set(d.traceId, [...(found.get(d.traceId) ?? []), d.detectionType].sort());
    expect(Object.fromEntries([...found].sort()), context).toEqual(Object.fromEntries([...expectedDetections()].sort()));
  });
});
