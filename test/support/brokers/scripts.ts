/** Running scripts/kafka.sh and scripts/registry.sh from the global setup. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ScriptResult {
  readonly ok: boolean;
  readonly stdout: string;
  /** The script's own last message ("kafka.sh: <this>"), else its last line of output. */
  readonly message: string;
}

function lastMessage(script: string, output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const prefix = `${script.split('/').pop()}:`;
  const own = [...lines].reverse().find((line) => line.startsWith(prefix));
  return own !== undefined ? own.slice(prefix.length).trim() : (lines.at(-1) ?? '');
}

/** Runs `scripts/<name> <command>` from the checkout with extra environment variables. */
export function runScript(name: string, command: string, env: Record<string, string>, timeoutMs = 180_000): Promise<ScriptResult> {
  const script = `${ROOT}scripts/${name}`;
  return new Promise((resolve) => {
    execFile(script, [command], { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGTERM' }, (err, stdout, stderr) => {
      const message = lastMessage(script, `${stdout}\n${stderr}`) || (err?.message ?? '');
      resolve({ ok: err === null, stdout, message: err !== null && err.killed ? `${script} ${command} timed out after ${timeoutMs / 1000} s` : message });
    });
  });
}
