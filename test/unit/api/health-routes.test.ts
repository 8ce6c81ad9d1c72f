import Fastify from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../../../src/api/routes/health-routes.js';
import type { Log } from '../../../src/log/port.js';
import { StageHealth } from '../../../src/runtime/health.js';

const log = { kind: 'embedded', healthy: async () => true } as unknown as Log;

describe('/readyz and stage status', () => {
  it('is ready while every stage runs, and 503 naming the stage and reason once one has failed', async () => {
    const trace = new StageHealth('trace stage');
    const tenant = new StageHealth('tenant stage');
    let fail!: (err: Error) => void;
    trace.watch(new Promise<void>((_resolve, reject) => (fail = reject)), pino({ level: 'silent' }));
    tenant.watch(new Promise<void>(() => undefined), pino({ level: 'silent' }));
    const app = Fastify();
    await app.register(healthRoutes(log, null, ['trace', 'tenant'], 0, [trace, tenant]));

    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', failed_stages: [] });

    fail(new Error('state store windows could not be read: disk gone'));
    await expect.poll(() => trace.status.state).toBe('failed');
    const failed = await app.inject({ method: 'GET', url: '/readyz' });
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toMatchObject({
      status: 'not_ready',
      failed_stages: [{ stage: 'trace stage', reason: 'state store windows could not be read: disk gone' }],
    });
    await app.close();
  });
});
