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
import { defineOperation, routesOf } from '../../http/route.js';

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

const uiOperation = (path: string, operationId: string, summary: string, description: string, contentType: string) =>
  defineOperation({
    method: 'get',
    path,
    operationId,
    summary,
    tags: ['operations'],
    security: 'none',
    response: { status: 200, description, contentType },
    errors: [],
  });

export const uiOperations = {
  webUi: uiOperation('/', 'webUi', 'The web UI (README: Web UI); 503 when dist/ui is not built', 'the UI page, with a strict Content-Security-Policy', 'text/html'),
  webUiScript: uiOperation('/ui/app.js', 'webUiScript', "The web UI's script bundle", 'JavaScript module', 'text/javascript'),
  webUiStyles: uiOperation('/ui/app.css', 'webUiStyles', "The web UI's style sheet", 'CSS', 'text/css'),
};

/** The files the bundle consists of, by the operation that serves them. */
const FILES = [
  { op: uiOperations.webUi, file: 'index.html', type: 'text/html; charset=utf-8' },
  { op: uiOperations.webUiScript, file: 'main.js', type: 'text/javascript; charset=utf-8' },
  { op: uiOperations.webUiStyles, file: 'style.css', type: 'text/css; charset=utf-8' },
];

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
    const route = routesOf(app, null);
    for (const { op, file, type } of FILES) {
      route(op, async (_input, _request, reply) => {
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
