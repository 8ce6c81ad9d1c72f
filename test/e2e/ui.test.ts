/**
 * The web UI in a real browser (headless Chromium, test/support/browser.ts) against a real
 * server: the README walkthrough through the UI (sign in, open the looping run, see the
 * loop on its spans, mark it a true positive, see the feedback stats change), hostile span
 * content that must render as inert text, basic accessibility with axe-core, keyboard use
 * of the span tree, live updates, and a 10,000-span run's first view. Screenshots go to
 * .cache/ui-screenshots/ (kept by CI as artifacts; docs/ui-run.png is its run.png).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY } from '../../src/api/routes/ui-routes.js';
import { launchChromium, skipBrowserTests } from '../support/browser.js';
import { invoiceCall, loopingTrace, otlpPayload, type SpanSpec } from '../support/otlp.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

// The page functions below run in the browser; this project's type check has no DOM library.
declare const window: any;
declare const document: any;
declare const location: any;
declare const sessionStorage: any;
declare const localStorage: any;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = path.join(root, '.cache', 'ui-screenshots');

/** Markup, script URLs and direction tricks in every field a producer controls. */
const HOSTILE = {
  script: '<script>window.__pwned = "script"</script>',
  img: '<img src=x onerror="window.__pwned = \'img\'">',
  link: 'javascript:window.__pwned="link"',
  rtl: 'invoice\u202Egnp.exe',
  zeroWidth: 'web\u200Bsearch',
};

function hostileTrace(traceId: string) {
  const all = Object.values(HOSTILE).join(' ');
  const spans: SpanSpec[] = [
    { spanId: 'root', name: HOSTILE.script, startMs: 1_700_000_100_000, durationMs: 5000, attributes: { 'gen_ai.agent.name': HOSTILE.img, 'gen_ai.prompt': all, 'gen_ai.completion': HOSTILE.link } },
    {
      spanId: 'tool-1',
      parentSpanId: 'root',
      name: HOSTILE.img,
      startMs: 1_700_000_100_100,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': HOSTILE.rtl,
        'gen_ai.tool.call.arguments': JSON.stringify({ url: HOSTILE.link, html: HOSTILE.script }),
        'gen_ai.tool.call.result': HOSTILE.img,
        [HOSTILE.script]: HOSTILE.zeroWidth,
      },
      error: all,
    },
    { spanId: 'tool-2', parentSpanId: 'root', name: HOSTILE.link, startMs: 1_700_000_100_700, attributes: { 'gen_ai.agent.name': HOSTILE.rtl, 'url.full': HOSTILE.link } },
    { spanId: 'tool-3', parentSpanId: 'root', name: HOSTILE.rtl + HOSTILE.zeroWidth, startMs: 1_700_000_101_000, attributes: { 'gen_ai.prompt': HOSTILE.zeroWidth } },
  ];
  return otlpPayload(traceId, spans, HOSTILE.script);
}

/** root → 100 agent steps → 99 tool calls each (98 in the last): 10,000 spans. */
function largeTraceBatches(traceId: string): ReturnType<typeof otlpPayload>[] {
  const t0 = 1_700_000_200_000;
  const spans: SpanSpec[] = [{ spanId: 'root', name: 'big_run', startMs: t0, durationMs: 200_000, attributes: { 'gen_ai.agent.name': 'planner' } }];
  for (let a = 0; a < 100; a++) {
    spans.push({ spanId: `step-${a}`, parentSpanId: 'root', name: `step ${a}`, startMs: t0 + a * 1900, durationMs: 1800, attributes: { 'gen_ai.agent.name': `agent-${a % 7}` } });
    for (let c = 0; c < (a === 99 ? 98 : 99); c++) {
      spans.push({
        spanId: `call-${a}-${c}`,
        parentSpanId: `step-${a}`,
        name: `execute_tool lookup_${c % 13}`,
        startMs: t0 + a * 1900 + c * 18,
        durationMs: 15,
        attributes: { 'gen_ai.tool.name': `lookup_${c % 13}`, 'gen_ai.tool.call.arguments': JSON.stringify({ step: a, call: c }) },
      });
    }
  }
  const batches = [];
  for (let i = 0; i < spans.length; i += 2000) batches.push(otlpPayload(traceId, spans.slice(i, i + 2000)));
  return batches;
}

describe.skipIf(skipBrowserTests)('web UI in a browser', { timeout: 60_000 }, () => {
  let server: TestServer;
  let tenant: { tenantId: string; apiKey: string; token: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const violations: string[] = [];
  const consoleErrors: string[] = [];

  const ingest = async (body: unknown) => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/ingest`, 'POST', { token: tenant.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  };
  const analyze = async (traceId: string) => {
    const res = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${traceId}/analyze`, 'POST', { token: tenant.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  /** Opens a view of the UI, signing in first when the tab has no session (a test run alone). */
  const open = async (hash: string) => {
    await page.goto(`${server.url}/${hash}`);
    await page.locator('header.top, #api-key').first().waitFor();
    if ((await page.locator('#api-key').count()) > 0) {
      await page.getByLabel('API key').fill(tenant.apiKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('header.top').waitFor();
    }
  };
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

  /** axe-core on the page as it is: WCAG 2 A and AA rules (labels, names, contrast, ARIA). */
  const checkAccessibility = async (where: string) => {
    await page.evaluate(axe.source);
    const result = await page.evaluate(async () => {
      const r = await (window.axe as typeof axe).run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes, e.g. ${v.nodes[0]?.html ?? ''}`);
    });
    violations.push(...result.map((v) => `${where}: ${v}`));
    expect(result, `${where}: axe violations`).toEqual([]);
  };

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const f of fs.readdirSync(SHOTS)) if (f.startsWith('failed-')) fs.rmSync(path.join(SHOTS, f));
    // Room for the 10,000-span run in one window (the default cap is 10,000 spans).
    server = await startServer({ TRACEFOLD_WINDOW_MAX_SPANS: '20000' });
    tenant = await createTenant(server.url, 'ui-project');
    await ingest(loopingTrace('ui-loop-run', 5));
    await analyze('ui-loop-run');
    // A run of a minute ago, for the dashboards (rollups count runs by their start time).
    await ingest(loopingTrace('ui-recent-run', 4, Date.now() - 60_000));
    await analyze('ui-recent-run');
    await ingest(hostileTrace('ui-hostile-run'));
    await analyze('ui-hostile-run');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    // Each wait fails with what it waited for, well before the test's own timeout.
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 120_000);

  // A failed test leaves a screenshot of the page as it was, and says what the page logged.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || page === undefined) return;
    await shot(`failed-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
    console.error(`page errors: ${JSON.stringify(pageErrors)}\nconsole errors: ${JSON.stringify(consoleErrors)}\nurl: ${page.url()}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the UI at / with a strict Content-Security-Policy', async () => {
    for (const p of ['/', '/ui/app.js', '/ui/app.css']) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-security-policy'), p).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(UI_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(UI_CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    const html = await (await fetch(`${server.url}/`)).text();
    // The page has no inline script: its only script is the bundle.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/ui/app.js">']);
    expect(html).not.toMatch(/<script[^>]*>(?!<\/script>)/);
  });

  it('walkthrough: signs in, opens the looping run, sees the loop on its spans, marks it a true positive, sees feedback stats change', async () => {
    await page.goto(`${server.url}/`);
    await checkAccessibility('sign-in');
    await page.getByLabel('API key').fill(tenant.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    // The token is kept for the tab only, never in the URL or in localStorage.
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('tracefold.session'), local: localStorage.length, url: location.href }));
    expect(JSON.parse(stored.session)).toMatchObject({ tenantId: tenant.tenantId });
    expect(stored.local).toBe(0);
    expect(stored.url).not.toContain(JSON.parse(stored.session).token);

    const runRow = page.getByRole('row').filter({ hasText: 'ui-loop-run' });
    await runRow.waitFor();
    await expect.poll(async () => runRow.textContent()).toContain('loop');
    await shot('runs');
    await checkAccessibility('runs');

    await runRow.getByRole('link').click();
    await page.getByRole('tree').waitFor();
    // The loop is pinned to the spans it affects: a marker on each of the 5 calls.
    for (let i = 0; i < 5; i++) {
      await expect.poll(async () => page.locator(`[data-span-id="call-${i}"] .marker`).textContent()).toBe('loop');
    }
    const card = page.getByRole('article', { name: 'loop detection' }).first();
    await card.waitFor();
    expect(await card.textContent()).toMatch(/Suggested fix/);
    expect(await card.textContent()).toMatch(/Evidence/);
    // A span from the detection opens in the panel, with its tool arguments.
    await card.getByRole('button', { name: 'call-2' }).click();
    const panel = page.getByRole('complementary', { name: 'Span details' });
    await expect.poll(async () => panel.textContent()).toContain('pricing of acme');
    expect(await panel.textContent()).toContain('Detections on this span');
    await checkAccessibility('run');

    await card.getByRole('button', { name: 'True positive' }).click();
    await card.getByRole('status').filter({ hasText: 'Recorded: true positive' }).waitFor();
    await expect.poll(async () => card.getByRole('list', { name: 'Feedback given' }).textContent()).toContain('true positive');
    await page.evaluate(() => window.scrollTo(0, 0));
    // docs/ui-run.png, at the top of the README, is this one.
    await shot('run');

    await page.getByRole('link', { name: 'Feedback' }).click();
    const loopStats = page.locator('tr[data-detector="loop"] td.tp');
    await expect.poll(
      async () => {
        if ((await loopStats.count()) === 0) await page.getByRole('button', { name: 'Refresh' }).click();
        return (await loopStats.count()) === 0 ? null : loopStats.textContent();
      },
      { timeout: 20_000 },
    ).toBe('1');
    await shot('feedback');
    await checkAccessibility('feedback');
  });

  it('detections list links to the span in its run; dashboards and audit render', async () => {
    await open('#/detections');
    const link = page.getByRole('row').filter({ hasText: 'ui-loop-run' }).getByRole('link');
    await link.first().waitFor();
    await checkAccessibility('detections');
    await link.first().click();
    await page.getByRole('tree').waitFor();
    await expect.poll(async () => page.locator('.wf-row.selected').getAttribute('data-span-id')).toMatch(/^call-/);

    await page.getByRole('link', { name: 'Dashboards' }).click();
    await page.getByRole('heading', { name: 'Dashboards' }).waitFor();
    // The recent run is in the rollups of the last 24 hours: the charts have points.
    await page.locator('figure.chart').first().waitFor();
    expect(await page.locator('figure.chart').count()).toBe(5);
    await expect.poll(async () => page.locator('figure.chart').first().locator('circle').count()).toBeGreaterThan(0);
    await shot('dashboards');
    await checkAccessibility('dashboards');

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('status').filter({ hasText: 'Chain verified' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: /Download export/ }).click();
    const file = await (await download).path();
    const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(exported).toHaveProperty('records');
    await shot('audit');
    await checkAccessibility('audit');
  });

  it('runs list: filters and failure-score order reach the API', async () => {
    await open('#/runs');
    await page.getByRole('row').filter({ hasText: 'ui-loop-run' }).waitFor();
    await page.getByLabel('Detection type').selectOption('tool_failure');
    await page.getByLabel('Order').selectOption('failure_score');
    const listed = page.waitForResponse((r) => r.url().includes('detection_type=tool_failure') && r.url().includes('sort=failure_score'));
    await page.getByRole('button', { name: 'Apply' }).click();
    expect((await listed).status()).toBe(200);
    await expect.poll(async () => page.locator('table.list tbody tr').count()).toBe(1);
    expect(await page.locator('table.list tbody tr').textContent()).toContain('ui-hostile-run');
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByRole('row').filter({ hasText: 'ui-loop-run' }).waitFor();
  });

  it('the span tree works from the keyboard', async () => {
    await open('#/runs/ui-loop-run');
    const tree = page.getByRole('tree');
    await tree.waitFor();
    await tree.focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(async () => page.locator('.wf-row.selected').getAttribute('data-span-id')).toBe('root');
    await page.keyboard.press('ArrowDown');
    await expect.poll(async () => page.locator('.wf-row.selected').getAttribute('data-span-id')).toBe('call-0');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(async () => page.locator('[data-span-id="call-0"]').count()).toBe(0);
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => page.locator('[data-span-id="call-0"]').count()).toBe(1);
  });

  it('renders hostile span content as inert text: nothing executes, nothing becomes markup or a link', async () => {
    await open('#/runs/ui-hostile-run');
    await page.getByRole('tree').waitFor();
    for (const id of ['root', 'tool-1', 'tool-2', 'tool-3']) {
      await page.locator(`[data-span-id="${id}"]`).click();
      await expect.poll(async () => page.getByRole('complementary', { name: 'Span details' }).textContent()).toContain(id);
    }
    await page.locator('[data-span-id="tool-1"]').click();
    const panel = page.getByRole('complementary', { name: 'Span details' });
    const text = (await panel.textContent()) ?? '';
    // The markup shows as the text it is, and the direction and zero-width tricks are revealed.
    expect(text).toContain(HOSTILE.script);
    expect(text).toContain(HOSTILE.img);
    expect(text).toContain(HOSTILE.link);
    expect(text).toContain('invoice⟦U+202E⟧gnp.exe');
    expect(text).not.toContain('\u202E');
    await shot('hostile');
    const state = await page.evaluate(() => ({
      pwned: window.__pwned ?? null,
      scripts: document.querySelectorAll('script').length,
      images: document.querySelectorAll('#app img').length,
      handlers: [...document.querySelectorAll('#app *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
      scriptLinks: [...document.querySelectorAll('a')].filter((a) => !a.getAttribute('href')!.startsWith('#')).length,
      hiddenChars: /[\u200B\u202E]/.test(document.body.innerText),
    }));
    expect(state).toEqual({ pwned: null, scripts: 1, images: 0, handlers: 0, scriptLinks: 0, hiddenChars: false });
    // The same in the runs list (service name and root name are the producer's).
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'ui-hostile-run' }).waitFor();
    expect(await page.evaluate(() => window.__pwned ?? null)).toBeNull();
    expect(await page.evaluate(() => document.querySelectorAll('#app img').length)).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('live: a retry storm shows while its run is still open, and a new run joins the list, without a reload', async () => {
    await open('#/detections');
    await page.getByRole('heading', { name: 'Detections' }).waitFor();
    const marker = await page.evaluate(() => {
      window.__sameDocument = true;
      return true;
    });
    expect(marker).toBe(true);
    // Three failing calls of one tool, no root span: the window stays open.
    const calls = [invoiceCall('r1', 100, 'HTTP 500'), invoiceCall('r2', 200, 'HTTP 500'), invoiceCall('r3', 300, 'HTTP 500')];
    const sent = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: otlpPayload('ui-live-retry', calls) });
    expect(sent.status).toBe(200);
    const row = page.getByRole('row').filter({ hasText: 'ui-live-retry' }).filter({ hasText: 'retry_storm' });
    await row.waitFor();
    expect(await row.textContent()).toContain('live');
    await shot('live-detection');

    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await ingest(loopingTrace('ui-new-run', 4));
    await analyze('ui-new-run');
    await page.getByRole('row').filter({ hasText: 'ui-new-run' }).waitFor();
    // Still the same document: the view updated itself.
    expect(await page.evaluate(() => window.__sameDocument === true)).toBe(true);
  });

  it('revisions: a late span makes revision 2, and revision 1 stays readable with its pipeline version', async () => {
    const t0 = Date.now() - 60_000;
    await ingest(otlpPayload('ui-recent-run', [{ spanId: 'late-1', parentSpanId: 'root', name: 'late tool call', startMs: t0 + 5000, attributes: { 'gen_ai.tool.name': 'web_search' } }]));
    await analyze('ui-recent-run');
    await open('#/runs/ui-recent-run');
    const revision = page.getByLabel('Revision');
    await expect.poll(async () => revision.locator('option').first().textContent()).toBe('latest (2)');
    await page.locator('[data-span-id="late-1"]').waitFor();
    await revision.selectOption('1');
    await expect.poll(async () => page.locator('[data-span-id="late-1"]').count()).toBe(0);
    expect(await page.locator('.revision').textContent()).toMatch(/made by pipeline \S+/);
  });

  it('a 10,000-span run renders its first view within 1 s of its data arriving', async () => {
    for (const batch of largeTraceBatches('ui-large-run')) await ingest(batch);
    await analyze('ui-large-run');
    await open('#/runs');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const started = Date.now();
    const response = page.waitForResponse((r) => r.url().includes('/traces/ui-large-run') && r.request().method() === 'GET');
    await page.evaluate(() => {
      location.hash = '#/runs/ui-large-run';
    });
    await (await response).finished();
    const arrived = Date.now();
    await page.locator('[data-span-id="call-0-0"]').waitFor();
    const rendered = Date.now();
    const rows = await page.locator('.wf-row').count();
    expect(await page.locator('[data-span-id="call-99-97"]').count()).toBe(0);
    await shot('large-run');
    console.log(`10,000-span run: data in ${arrived - started} ms, first view ${rendered - arrived} ms after it, ${rows} rows in the DOM`);
    expect(rendered - arrived).toBeLessThan(1000);
    // Virtualised: only the rows in view (and a margin) are in the document.
    expect(rows).toBeLessThan(100);
    expect(await page.getByRole('tree').getAttribute('aria-label')).toBe('Span tree, 10000 rows');
  });
});
