/**
 * The Python environments scripts/python-env.sh builds, as the tests that run Python
 * producers and subscribers find them: where the interpreter is, whether it is there, and
 * whether its absence is a failure (under CI: CI set, or TRACEFOLD_REQUIRE_PYTHON=1 as
 * .ci/run sets) or a skip announced loudly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const ci = process.env.CI;
export const PYTHON_REQUIRED = (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') || process.env.TRACEFOLD_REQUIRE_PYTHON === '1';

export interface PythonEnvironment {
  /** The interpreter. */
  readonly python: string;
  readonly available: boolean;
  /** Neither there nor required: the suite is skipped (and says so). */
  readonly skip: boolean;
}

const VENVS = {
  /** OpenTelemetry SDK, schemathesis, confluent-kafka (requirements.txt and friends). */
  main: { env: 'TRACEFOLD_PYTHON', dir: 'python-venv' },
  /** The agent frameworks and instrumentations of requirements-compat.txt. */
  compat: { env: 'TRACEFOLD_COMPAT_PYTHON', dir: 'python-compat-venv' },
} as const;

/** The `kind` environment for the suite `what`; prints a banner when the suite will be skipped. */
export function pythonEnvironment(kind: keyof typeof VENVS, what: string): PythonEnvironment {
  const venv = VENVS[kind];
  const python = process.env[venv.env] ?? path.join(ROOT, '.cache', venv.dir, 'bin', 'python');
  const available = fs.existsSync(python);
  const skip = !available && !PYTHON_REQUIRED;
  if (skip) {
    const rule = '!'.repeat(78);
    console.warn(
      [
        '',
        rule,
        `!! NO PYTHON ENVIRONMENT at ${python}: ${what} is SKIPPED.`,
        '!! Create it with: bash scripts/python-env.sh   (needs python3 with venv; Debian: python3-venv)',
        '!! Under CI (CI or TRACEFOLD_REQUIRE_PYTHON=1) this is a failure, not a skip.',
        rule,
        '',
      ].join('\n'),
    );
  }
  return { python, available, skip };
}
