/**
 * Starts a real tracefold (embedded log, real RocksDB, listening HTTP server) in a fresh
 * data directory for a test, and a small JSON client for it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startTracefold, type Tracefold } from '../../src/cli/runtime.js';

export interface TestServer {
  readonly tracefold: Tracefold;
  readonly url: string;
  readonly dataDir: string;
  readonly config: Config;
  stop(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `tracefold-${prefix}-`));
}

export async function startServer(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await tempDir('server'));
  const config = loadConfig({ TRACEFOLD_PORT: '0', TRACEFOLD_DATA_DIR: dir, TRACEFOLD_LOG_SYNC: 'none', ...env });
  const tracefold = await startTracefold(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  return { tracefold, url: tracefold.url, dataDir: dir, config, stop: () => tracefold.close() };
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export async function request(
  url: string,
  method: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // leave as text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Creates a tenant and returns its id, API key and a token. */
export async function createTenant(url: string, name = 'test-tenant'): Promise<{ tenantId: string; apiKey: string; token: string }> {
  const created = await request(`${url}/api/v1/auth/tenants`, 'POST', { body: { name } });
  if (created.status !== 201) throw new Error(`tenant creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  const token = await request(`${url}/api/v1/auth/token`, 'POST', { body: { api_key: created.body.api_key } });
  return { tenantId: created.body.tenant_id, apiKey: created.body.api_key, token: token.body.access_token };
}
