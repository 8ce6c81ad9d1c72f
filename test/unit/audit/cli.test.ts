import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditExport } from '../../../src/audit/export.js';
import { AUDIT_USAGE, parseTimeArg, runAuditCommand, type CliIo } from '../../../src/cli/audit.js';
import { BASELINE_USAGE, runBaselineCommand } from '../../../src/cli/baseline.js';
import { createEmbeddedLog } from '../../../src/log/embedded/index.js';
import type { AuditRecord } from '../../../src/model/tenant-records.js';
import { MINUTE, T0, buildChain } from './fixtures.js';

const chain = buildChain();

interface Captured {
  out: string;
  err: string;
  requests: { url: string; auth: string | null }[];
}

/** An io whose output is captured, whose server answers `answer(url)` and whose local log holds `records`. */
function harness(options: { answer?: (url: URL) => Response; records?: AuditRecord[] | Error; env?: NodeJS.ProcessEnv } = {}): { io: Partial<CliIo>; captured: Captured } {
  const captured: Captured = { out: '', err: '', requests: [] };
  const io: Partial<CliIo> = {
    stdout: (t) => void (captured.out += t),
    stderr: (t) => void (captured.err += t),
    now: () => T0 + 60 * MINUTE,
    env: options.env ?? {},
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      captured.requests.push({ url: url.toString(), auth: new Headers(init?.headers).get('authorization') });
      if (options.answer === undefined) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
      return options.answer(url);
    },
    readLocalAuditRecords: async (tenantId) => {
      if (options.records instanceof Error) throw options.records;
      return (options.records ?? []).filter((r) => r.tenantId === tenantId);
    },
  };
  return { io, captured };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracefold-audit-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tracefold audit verify', () => {
  it('verifies the local chain in topic order', async () => {
    const { io, captured } = harness({ records: chain });
    expect(await runAuditCommand(['verify', '--tenant', 'acme'], io)).toBe(0);
    expect(captured.out).toBe(`audit chain of tenant acme: 9 records verified, head seq 9 hash ${chain[8]!.hash}\n`);
  });

  it('reports a reordered local chain as broken, exit 1', async () => {
    const swapped = [...chain];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    const { io, captured } = harness({ records: swapped });
    expect(await runAuditCommand(['verify', '--tenant', 'acme'], io)).toBe(1);
    expect(captured.out).toMatch(/^audit chain of tenant acme: BROKEN at seq 4: sequence out of order: .* \(index 2; 2 records before it verified\)\n$/);
  });

  it('asks the server with --url and --token', async () => {
    const { io, captured } = harness({
      answer: () => json({ ok: false, checked: 6, head: { seq: 6, hash: chain[5]!.hash }, first_broken: { seq: 7, index: 6, reason: 'hash mismatch: x' } }),
    });
    expect(await runAuditCommand(['verify', '--tenant', 'acme corp', '--url', 'http://localhost:4318/', '--token', 'tok'], io)).toBe(1);
    expect(captured.requests).toEqual([{ url: 'http://localhost:4318/api/v1/tenants/acme%20corp/audit/verify', auth: 'Bearer tok' }]);
    expect(captured.out).toBe('audit chain of tenant acme corp: BROKEN at seq 7: hash mismatch: x (index 6; 6 records before it verified)\n');
  });

  it('says why the server could not answer', async () => {
    const refused = harness({ answer: () => json({ error: 'unauthorized' }, 401) });
    expect(await runAuditCommand(['verify', '--tenant', 'acme', '--url', 'http://h', '--token', 't'], refused.io)).toBe(3);
    expect(refused.captured.err).toMatch(/refused the token \(HTTP 401/);
    const unknown = harness({ answer: () => json({ error: 'not found' }, 404) });
    expect(await runAuditCommand(['verify', '--tenant', 'nobody', '--url', 'http://h', '--token', 't'], unknown.io)).toBe(2);
    expect(unknown.captured.err).toMatch(/tenant nobody is unknown/);
    const down = harness();
    expect(await runAuditCommand(['verify', '--tenant', 'acme', '--url', 'http://h', '--token', 't'], down.io)).toBe(3);
    expect(down.captured.err).toMatch(/cannot reach http:\/\/h: fetch failed: connect ECONNREFUSED/);
  });

  it('verifies an export file offline', async () => {
    const file = join(dir, 'ok.json');
    await writeFile(file, JSON.stringify(buildAuditExport('acme', chain, { generatedAtMs: T0 + 60 * MINUTE })));
    const { io, captured } = harness();
    expect(await runAuditCommand(['verify', '--from-export', file], io)).toBe(0);
    expect(captured.out).toBe(`audit export ${file} of tenant acme: 9 records verified, head seq 9 hash ${chain[8]!.hash}\n`);
    expect(await runAuditCommand(['verify', '--from-export', file, '--tenant', 'globex'], io)).toBe(1);
    expect(captured.out).toMatch(/BROKEN: tenant mismatch/);

    const edited = JSON.parse(await readFile(file, 'utf8'));
    edited.summary.event_counts.trace_closed = 1;
    await writeFile(file, JSON.stringify(edited));
    expect(await runAuditCommand(['verify', '--from-export', file], io)).toBe(1);
    expect(captured.out).toMatch(/BROKEN: summary does not match the records: summary\.event_counts\.trace_closed is 1, the records give 2/);
  });

  it('rejects bad usage with exit 2 and the usage text', async () => {
    for (const args of [
      [],
      ['verify'],
      ['verify', '--tenant', 'a', '--url', 'http://h'],
      ['verify', '--tenant', 'a', '--token', 't'],
      ['verify', '--tenant', 'a', '--bogus'],
      ['verify', '--from-export', 'f', '--url', 'http://h', '--token', 't'],
      ['verify', '--tenant', 'a', '--format', 'eu-ai-act'],
      ['frobnicate'],
    ]) {
      const { io, captured } = harness();
      expect(await runAuditCommand(args, io), args.join(' ')).toBe(2);
      expect(captured.err).toContain(AUDIT_USAGE);
    }
  });

  it('reports a missing data dir without creating one', async () => {
    const empty = join(dir, 'nothing-here');
    const { captured } = harness();
    const code = await runAuditCommand(['verify', '--tenant', 'acme'], {
      stdout: (t) => void (captured.out += t),
      stderr: (t) => void (captured.err += t),
      env: { TRACEFOLD_DATA_DIR: empty },
    });
    expect(code).toBe(3);
    expect(captured.err).toMatch(/no tracefold data in .*nothing-here.*--url/);
  });

  it('says the data dir is in use while another log holds it', async () => {
    const dataDir = join(dir, 'in-use');
    const log = await createEmbeddedLog({ dataDir, sync: 'none' });
    try {
      const { captured } = harness();
      const code = await runAuditCommand(['verify', '--tenant', 'acme'], {
        stdout: (t) => void (captured.out += t),
        stderr: (t) => void (captured.err += t),
        env: { TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_LOG_LEVEL: 'silent' },
      });
      expect(code).toBe(3);
      expect(captured.err).toMatch(/is in use .*stop tracefold, or ask it with --url/);
    } finally {
      await log.close();
    }
  });
});

describe('tracefold audit export', () => {
  it('writes a verified package from the local chain for the range', async () => {
    const output = join(dir, 'export.json');
    const { io, captured } = harness({ records: chain });
    const code = await runAuditCommand(
      ['export', '--tenant', 'acme', '--from', '2025-06-01T12:03:00Z', '--to', String(T0 + 7 * MINUTE), '--format', 'eu-ai-act', '--output', output],
      io,
    );
    expect(captured.err).toBe('');
    expect(code).toBe(0);
    expect(captured.out).toBe(`wrote the eu-ai-act audit export of tenant acme to ${output}: 4 records, seq 4..7, head hash ${chain[6]!.hash}\n`);
    const pkg = JSON.parse(await readFile(output, 'utf8'));
    expect(pkg.range).toEqual({ from: '2025-06-01T12:03:00.000Z', to: '2025-06-01T12:07:00.000Z' });
    expect(pkg.generated_at).toBe(new Date(T0 + 60 * MINUTE).toISOString());
  });

  it('refuses to export a broken chain', async () => {
    const output = join(dir, 'broken.json');
    const { io, captured } = harness({ records: chain.filter((_, i) => i !== 4) });
    expect(await runAuditCommand(['export', '--tenant', 'acme', '--format', 'eu-ai-act', '--output', output], io)).toBe(1);
    expect(captured.err).toMatch(/cannot export: .*broken at seq 6 \(index 4\): sequence gap/);
  });

  it('downloads the package with --url and checks it', async () => {
    const output = join(dir, 'remote.json');
    const pkg = buildAuditExport('acme', chain, { fromMs: T0, generatedAtMs: T0 + 60 * MINUTE });
    const { io, captured } = harness({ answer: () => json(pkg) });
    expect(await runAuditCommand(['export', '--tenant', 'acme', '--from', '2025-06-01', '--format', 'eu-ai-act', '--output', output, '--url', 'https://tf.example', '--token', 't'], io)).toBe(0);
    expect(captured.requests[0]!.url).toBe('https://tf.example/api/v1/tenants/acme/audit/export?format=eu-ai-act&from=2025-06-01T00%3A00%3A00.000Z');
    expect(JSON.parse(await readFile(output, 'utf8'))).toEqual(pkg);
  });

  it('names the flag it refuses', async () => {
    for (const [args, message] of [
      [['export', '--tenant', 'a', '--format', 'csv', '--output', 'x'], '--format: unknown export format "csv"'],
      [['export', '--tenant', 'a', '--output', 'x'], '--format is required'],
      [['export', '--tenant', 'a', '--format', 'eu-ai-act'], '--output is required'],
      [['export', '--tenant', 'a', '--format', 'eu-ai-act', '--output', 'x', '--from', 'yesterday'], '--from: expected an ISO-8601 time'],
      [['export', '--tenant', 'a', '--format', 'eu-ai-act', '--output', 'x', '--from', '2000', '--to', '1000'], '--from is after --to'],
    ] as const) {
      const { io, captured } = harness();
      expect(await runAuditCommand([...args], io)).toBe(2);
      expect(captured.err).toContain(message);
    }
  });

  it('parses ISO-8601 and epoch milliseconds', () => {
    expect(parseTimeArg('from', '1748779200000')).toBe(Date.UTC(2025, 5, 1, 12));
    expect(parseTimeArg('from', '2025-06-01T12:00:00Z')).toBe(Date.UTC(2025, 5, 1, 12));
    expect(parseTimeArg('from', '2025-06-01T14:00:00+02:00')).toBe(Date.UTC(2025, 5, 1, 12));
    expect(parseTimeArg('from', '2025-06-01')).toBe(Date.UTC(2025, 5, 1));
    expect(() => parseTimeArg('to', '2025-13-45')).toThrow('--to');
  });
});

describe('tracefold baseline check', () => {
  const args = ['check', '--tenant', 'acme', '--trace', 't-1', '--url', 'http://h', '--token', 'tok'];

  it('prints the anomalies and exits 1', async () => {
    const { io, captured } = harness({
      answer: () =>
        json({
          trace_id: 't-1',
          anomalous: true,
          anomalies: [
            { metric: 'total_tokens', value: 120000, mean: 30000.5, sigma: 8000.25, z_score: 11.2463, scope: { service: 'checkout', agent: 'planner' } },
            { metric: 'duration_ms', value: 9000, mean: 1000, sigma: 500, z_score: 16, scope: { service: 'checkout', agent: '' } },
          ],
        }),
    });
    expect(await runBaselineCommand(args, io)).toBe(1);
    expect(captured.requests[0]).toEqual({ url: 'http://h/api/v1/tenants/acme/traces/t-1/anomalies', auth: 'Bearer tok' });
    expect(captured.out).toBe(
      'trace t-1 of tenant acme: anomalous, 2 metrics outside the baseline\n' +
        '  total_tokens: 120000 (mean 30000.5, sigma 8000.25, z-score 11.2463; service checkout, agent planner)\n' +
        '  duration_ms: 9000 (mean 1000, sigma 500, z-score 16; service checkout)\n',
    );
  });

  it('exits 0 within the baseline, 2 for an unknown trace or bad usage', async () => {
    const fine = harness({ answer: () => json({ trace_id: 't-1', anomalous: false, anomalies: [] }) });
    expect(await runBaselineCommand(args, fine.io)).toBe(0);
    expect(fine.captured.out).toBe('trace t-1 of tenant acme: within the baseline\n');
    const unknown = harness({ answer: () => json({ error: 'not found' }, 404) });
    expect(await runBaselineCommand(args, unknown.io)).toBe(2);
    expect(unknown.captured.err).toMatch(/trace t-1 is unknown to tenant acme \(HTTP 404/);
    const local = harness();
    expect(await runBaselineCommand(['check', '--tenant', 'acme', '--trace', 't-1'], local.io)).toBe(2);
    expect(local.captured.err).toContain('needs --url and --token');
    expect(local.captured.err).toContain(BASELINE_USAGE);
    const odd = harness({ answer: () => json({ anomalous: 'yes' }) });
    expect(await runBaselineCommand(args, odd.io)).toBe(3);
    expect(odd.captured.err).toMatch(/unexpected baseline check answer: trace_id/);
  });

  it('takes the trace as a positional argument (as agent-strace does) and prints JSON with --format json', async () => {
    const anomalous = { trace_id: 't-1', anomalous: true, anomalies: [{ metric: 'duration_ms', value: 9000, mean: 1000, sigma: 500, z_score: 16, scope: { service: 'checkout', agent: '' } }] };
    const { io, captured } = harness({ answer: () => json(anomalous) });
    expect(await runBaselineCommand(['check', 't-1', '--format', 'json', '--tenant', 'acme', '--url', 'http://h', '--token', 'tok'], io)).toBe(1);
    expect(captured.requests[0]!.url).toBe('http://h/api/v1/tenants/acme/traces/t-1/anomalies');
    expect(JSON.parse(captured.out)).toEqual({ tenant_id: 'acme', ...anomalous });
    const badFormat = harness();
    expect(await runBaselineCommand(['check', 't-1', '--format', 'yaml', '--tenant', 'acme', '--url', 'http://h', '--token', 'tok'], badFormat.io)).toBe(2);
    expect(badFormat.captured.err).toContain('--format must be text or json');
    const twoTraces = harness();
    expect(await runBaselineCommand(['check', 't-1', '--trace', 't-2', '--tenant', 'acme', '--url', 'http://h', '--token', 'tok'], twoTraces.io)).toBe(2);
  });

  it('prints help', async () => {
    const { io, captured } = harness();
    expect(await runBaselineCommand(['--help'], io)).toBe(0);
    expect(captured.out).toBe(`${BASELINE_USAGE}\n`);
  });
});
