/**
 * What ships is what runs: `npm start` and the `tracefold` command serve from the compiled
 * JavaScript in dist/ on Node 24 (in a checkout, the packaged node_modules/.bin/node), with
 * no TypeScript loader, also when the command is started by an older system Node.
 *
 * Reads the process tree from /proc (Linux, like the packaged binary).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { request, tempDir } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'tracefold.js');
const packagedNode = fs.realpathSync(path.join(root, 'node_modules', '.bin', 'node'));

/** The first `node` on PATH outside node_modules/.bin, and its major version, if any. */
function systemNode(): { path: string; major: number } | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || dir.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const candidate = path.join(dir, 'node');
    if (!fs.existsSync(candidate) || fs.realpathSync(candidate) === packagedNode) continue;
    const version = /^v(\d+)\./.exec(execFileSync(candidate, ['--version'], { encoding: 'utf8', timeout: 10_000 }));
    return version === null ? null : { path: candidate, major: Number(version[1]) };
  }
  return null;
}

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly exe: string;
  readonly argv: string[];
}

function processInfo(pid: number): ProcessInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    return { pid, ppid, exe: fs.readlinkSync(`/proc/${pid}/exe`), argv };
  } catch {
    return null; // gone, or not ours to read
  }
}

/** `pid` and every process below it. */
function processTree(pid: number): ProcessInfo[] {
  const all = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => processInfo(Number(name)))
    .filter((p): p is ProcessInfo => p !== null);
  const tree: ProcessInfo[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const found = all.find((p) => p.pid === next);
    if (found !== undefined) tree.push(found);
    pending.push(...all.filter((p) => p.ppid === next).map((p) => p.pid));
  }
  return tree;
}

interface Started {
  readonly url: string;
  /** The `tracefold started` log line. */
  readonly started: { node: string; code: string };
  /** The process serving HTTP: the tracefold process with no tracefold process below it. */
  readonly server: ProcessInfo;
  readonly tree: ProcessInfo[];
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** Starts `command` in its own process group (stopped as a group after the test). */
async function start(command: string, args: string[]): Promise<Started> {
  const dataDir = await tempDir('build');
  const child = spawn(command, args, {
    cwd: root,
    detached: true,
    env: { ...process.env, TRACEFOLD_PORT: '0', TRACEFOLD_DATA_DIR: dataDir, TRACEFOLD_LOG_LEVEL: 'info', TRACEFOLD_LOG_SYNC: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  stops.push(async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return; // already gone
    }
    await exited;
    await expect.poll(() => processTree(child.pid!).length, { timeout: 20_000 }).toBe(0);
  });
  let output = '';
  const { url, started } = await new Promise<{ url: string; started: Started['started'] }>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /is listening on (http:\/\/\S+)/.exec(output);
      const line = output.split('\n').find((l) => l.includes('"msg":"tracefold started"'));
      if (listening !== null && line !== undefined) resolve({ url: listening[1]!, started: JSON.parse(line) as Started['started'] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`${command} ${args.join(' ')} exited before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start in time:\n${output}`)), 60_000).unref();
  });
  const tree = processTree(child.pid!);
  const tracefold = tree.filter((p) => p.argv.some((a) => a.endsWith(path.join('bin', 'tracefold.js'))));
  const server = tracefold.find((p) => !tracefold.some((q) => q.ppid === p.pid));
  if (server === undefined) throw new Error(`no tracefold process under ${child.pid}: ${JSON.stringify(tree)}`);
  return { url, started, server, tree };
}

/** What every way of starting tracefold must give: compiled dist/ on Node 24, healthy. */
async function expectCompiledOnNode24(s: Started): Promise<void> {
  expect(s.started.node).toMatch(/^v24\./);
  expect(s.started.code).toBe(path.join(root, 'dist', 'cli', 'runtime.js'));
  expect(s.server.exe).toBe(packagedNode);
  // No TypeScript loader on the command line: just the node binary, bin/tracefold.js, its arguments.
  const [, script, ...args] = s.server.argv;
  expect([path.resolve(root, script ?? ''), ...args]).toEqual([bin, 'start']);
  const health = await request(`${s.url}/healthz`, 'GET');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'ok' });
}

describe('production build', () => {
  it('npm start serves from compiled dist/ on the packaged Node 24', { timeout: 90_000 }, async () => {
    const s = await start('npm', ['start']);
    await expectCompiledOnNode24(s);
  });

  const older = systemNode();
  it.skipIf(older === null || older.major >= 24)(
    `the tracefold command started by the system Node ${older === null ? '(none on PATH)' : `(v${older.major})`} runs on the packaged Node 24`,
    { timeout: 90_000 },
    async () => {
      const s = await start(older!.path, [bin, 'start']);
      await expectCompiledOnNode24(s);
      // The older Node is the parent: it started bin/tracefold.js again on the packaged binary.
      const parent = s.tree.find((p) => p.pid === s.server.ppid);
      expect(parent?.exe).toBe(fs.realpathSync(older!.path));
    },
  );
});
