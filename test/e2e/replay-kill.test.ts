/**
 * A replay run survives kill -9: tracefold (embedded, its own OS process) replays a few
 * thousand runs with the loop threshold raised, is killed while the run is part way, and
 * once started again goes on from the run's state and ends with the diff an uninterrupted
 * run of the same settings gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../support/child.js';
import { waitFor } from '../support/poll.js';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, tempDir } from '../support/server.js';

/** Enough raw records that a run takes seconds, so it can be caught part way. */
const TRACES = 2400;
const PER_REQUEST = 100;
const SETTINGS = { loop: { minRepeats: 5 } };

describe('replay under kill -9', () => {
  let dataDir: string;
  let server: ChildServer;
  let env: Record<string, string>;

  const api = (path: string, method = 'GET', body?: unknown) => request(`${server.url}${path}`, method, body === undefined ? {} : { body });

  async function finished(replayId: string) {
    const run = await waitFor(async () => {
      const res = await api(`/api/v1/replays/${replayId}`);
      return res.body.state === 'running' ? null : res.body;
    }, { timeoutMs: 240_000, intervalMs: 200 });
    expect(run, `replay ${replayId} finished`).not.toBeNull();
    return run;
  }

  beforeAll(async () => {
    dataDir = await tempDir('replay-kill');
    // Windows close a second after their last span, so what is in force is known before the runs.
    env = { TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_LOG_SYNC: 'none', TRACEFOLD_INACTIVITY_GAP_MS: '1000', TRACEFOLD_ROOT_SETTLE_MS: '0' };
    server = await startChild(env);
    const tenant = await createTenant(server.url, 'killed-replay');
    for (let first = 0; first < TRACES; first += PER_REQUEST) {
      const resourceSpans = [];
      // Every third run loops four times (no longer a loop at five), the others seven times.
      for (let i = first; i < first + PER_REQUEST; i++) resourceSpans.push(...loopingTrace(`run-${i}`, i % 3 === 0 ? 4 : 7).resourceSpans);
      const res = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: { resourceSpans } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const closed = await waitFor(async () => {
      return (await countTraces(tenant)) === TRACES ? true : null;
    }, { timeoutMs: 120_000, intervalMs: 200 });
    expect(closed, 'every run closed').toBe(true);
  }, 300_000);

  async function countTraces(tenant: { tenantId: string; token: string }): Promise<number> {
    let count = 0;
    let cursor: string | null = null;
    do {
      const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces?limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, 'GET', { token: tenant.token });
      const page = res.body as { items: unknown[]; next_cursor: string | null };
      count += page.items.length;
      cursor = page.next_cursor;
    } while (cursor !== null);
    return count;
  }

  afterAll(async () => {
    await server?.kill('SIGTERM');
  }, 60_000);

  it('goes on after kill -9 from its state and ends with the diff of an uninterrupted run', async () => {
    const started = await api('/api/v1/replays', 'POST', { settings: SETTINGS });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.replay_id as string;
    // Part way: some records read, not all.
    const partWay = await waitFor(async () => {
      const run = (await api(`/api/v1/replays/${id}`)).body;
      return run.records_read > 0 ? run : null;
    }, { timeoutMs: 60_000, intervalMs: 20 });
    expect(partWay, 'the run made progress').not.toBeNull();
    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    expect(partWay.records_read, 'killed before the run ended').toBeLessThan(partWay.records_total);

    server = await startChild(env);
    const resumed = await finished(id);
    expect(resumed).toMatchObject({ state: 'finished', error: null });
    const diff = (await api(`/api/v1/replays/${id}/diff`)).body;

    const again = await finished((await api('/api/v1/replays', 'POST', { settings: SETTINGS })).body.replay_id);
    const reference = (await api(`/api/v1/replays/${again.replay_id}/diff`)).body;
    expect(diff.traces).toBe(TRACES);
    expect(diff.total).toMatchObject({ removed: TRACES / 3, added: 0 });
    expect(diff).toEqual(reference);
  }, 400_000);
});
