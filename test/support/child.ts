/**
 * Runs `tracefold start` as a separate OS process, so tests can stop it the hard way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
  /** The last of what the process wrote (stdout and stderr), for a failing test to show. */
  output(): string;
}

/** How much of a child's output is kept. */
const OUTPUT_KEPT = 64 * 1024;

export async function startChild(env: Record<string, string>, args: readonly string[] = []): Promise<ChildServer> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'tracefold.js'), 'start', ...args], {
    cwd: root,
    env: { ...process.env, TRACEFOLD_PORT: '0', TRACEFOLD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
      const m = /is listening on (http:\/\/\S+)/.exec(output);
      if (m !== null) resolve(m[1]!);
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`tracefold exited (${code}) before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`tracefold did not start in time:\n${output}`)), 30_000).unref();
  });
  return {
    url,
    process: child,
    exited,
    kill: (signal) => {
      child.kill(signal);
      return exited;
    },
    output: () => output,
  };
}
