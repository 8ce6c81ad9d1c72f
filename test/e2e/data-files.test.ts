/**
 * The data directory holds every tenant's data and the key hashes: after `tracefold start`
 * it and every directory in it are 0700 and every file 0600, including RocksDB's own files
 * and a data directory an earlier start left world-readable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startChild } from '../support/child.js';
import { loopingTrace } from '../support/otlp.js';
import { createTenant, request, tempDir } from '../support/server.js';

/** Every path under `root` (itself included) with its permission bits, as octal text. */
async function modesUnder(root: string): Promise<{ dirs: Map<string, string>; files: Map<string, string> }> {
  const dirs = new Map<string, string>();
  const files = new Map<string, string>();
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    dirs.set(path.relative(root, dir) || '.', ((await fs.stat(dir)).mode & 0o777).toString(8));
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const entryPath = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(entryPath);
      else if (entry.isFile()) files.set(path.relative(root, entryPath), ((await fs.stat(entryPath)).mode & 0o777).toString(8));
    }
  }
  return { dirs, files };
}

describe('data files', () => {
  it('the data directory is 0700 and every file in it 0600, even one left 0755/0644 by an earlier start', { timeout: 90_000 }, async () => {
    const dataDir = await tempDir('data-files');
    // What an earlier version left: a world-readable directory and file.
    await fs.chmod(dataDir, 0o755);
    await fs.writeFile(path.join(dataDir, 'instance-id'), 'abcdef012345\n', { mode: 0o644 });
    await fs.chmod(path.join(dataDir, 'instance-id'), 0o644);

    const server = await startChild({ TRACEFOLD_DATA_DIR: dataDir });
    try {
      const tenant = await createTenant(server.url);
      const res = await request(`${server.url}/v1/traces`, 'POST', { token: tenant.apiKey, body: loopingTrace('modes', 3) });
      expect(res.status).toBe(200);
      const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/modes/analyze`, 'POST', { token: tenant.token });
      expect(analyzed.status).toBe(200);

      const { dirs, files } = await modesUnder(dataDir);
      expect([...files.keys()]).toContain('instance-id');
      expect([...files.keys()].some((f) => f.startsWith('embedded-log/'))).toBe(true);
      expect(Object.fromEntries([...dirs].filter(([, mode]) => mode !== '700'))).toEqual({});
      expect(Object.fromEntries([...files].filter(([, mode]) => mode !== '600'))).toEqual({});
    } finally {
      await server.kill('SIGTERM');
    }
  });
});
