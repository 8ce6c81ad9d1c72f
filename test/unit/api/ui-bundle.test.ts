/**
 * The web UI's bundle (dist/ui, built by `npm run build`, which the test setup runs): its size
 * budget (README: Web UI), its few dependencies, no way for data to become markup in its
 * sources, and how the server answers for it, built or not.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { UI_CONTENT_SECURITY_POLICY, UI_DIR, uiRoutes } from '../../../src/api/routes/ui-routes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const UI_SRC = path.join(root, 'ui');

/** The budget the README states: script and style sheet together. */
export const BUNDLE_BUDGET = { minifiedBytes: 80 * 1024, gzippedBytes: 28 * 1024 };

/** The UI's own dependencies: Preact alone. */
const ALLOWED_IMPORTS = ['preact', 'preact/hooks'];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && /\.tsx?$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

describe('web UI bundle', () => {
  it('stays within its size budget', () => {
    const files = ['main.js', 'style.css'].map((f) => fs.readFileSync(path.join(UI_DIR, f)));
    const minified = files.reduce((n, b) => n + b.length, 0);
    const gzipped = files.reduce((n, b) => n + zlib.gzipSync(b, { level: 9 }).length, 0);
    console.log(`web UI bundle: ${(minified / 1024).toFixed(1)} KiB minified, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(minified).toBeLessThanOrEqual(BUNDLE_BUDGET.minifiedBytes);
    expect(gzipped).toBeLessThanOrEqual(BUNDLE_BUDGET.gzippedBytes);
    expect(fs.existsSync(path.join(UI_DIR, 'index.html'))).toBe(true);
  });

  it('imports nothing but Preact from outside ui/', () => {
    const bare = new Set<string>();
    for (const file of sources(UI_SRC)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)) if (!m[1]!.startsWith('.')) bare.add(m[1]!);
    }
    expect([...bare].sort()).toEqual(ALLOWED_IMPORTS);
  });

  it('has no path from data to markup or code in its sources', () => {
    for (const file of sources(UI_SRC)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const pattern of [/innerHTML/, /outerHTML/, /dangerouslySetInnerHTML/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\(/]) {
        expect(pattern.test(text), `${path.relative(root, file)} uses ${pattern}`).toBe(false);
      }
    }
  });
});

describe('web UI routes', () => {
  it('serve the built files with the Content-Security-Policy', async () => {
    const app = Fastify();
    await app.register(uiRoutes());
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    const script = await app.inject({ method: 'GET', url: '/ui/app.js' });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    // Only the bundle's files: nothing else under the folder is reachable.
    for (const url of ['/ui/../package.json', '/ui/main.js', '/ui/index.html', '/ui/%2e%2e/%2e%2e/package.json']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    await app.close();
  });

  it('answer 503 naming the build when dist/ui is missing', async () => {
    const app = Fastify();
    await app.register(uiRoutes(path.join(root, 'no-such-dir')));
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    expect(res.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    await app.close();
  });
});
