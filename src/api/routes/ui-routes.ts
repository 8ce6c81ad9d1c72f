/**
 * The web UI (ui/, bundled by `npm run build` into dist/ui): GET / and its static files,
 * unauthenticated like /docs; the UI signs in and reads the public API like any client.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles and connections
 * only from this origin, no inline script or style, no plugins, no framing. Span content is
 * untrusted, and the UI renders it as text; the policy is the second line of defence.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** src/api/routes and dist/api/routes are both three folders below the package root. */
export const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'ui');

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The files the bundle consists of, by the path they are served at. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'main.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

export function uiRoutes(dir: string = UI_DIR) {
  return async (app: FastifyInstance) => {
    for (const [route, { file, type }] of Object.entries(FILES)) {
      app.get(route, async (_request, reply) => {
        let body: Buffer;
        try {
          body = await fs.readFile(path.join(dir, file));
        } catch {
          return secure(reply)
            .code(503)
            .type('text/plain; charset=utf-8')
            .send('The web UI is not built: run `npm run build` (it bundles ui/ into dist/ui).\n');
        }
        return secure(reply).type(type).send(body);
      });
    }
  };
}
