import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The project-local Python virtualenv for test infrastructure (moto, cfn-lint). Python is never part of
 * the product; it only runs tools the tests and the packaging check call. pip's own download cache lives
 * outside the clone, so a second clone installs without downloading again.
 */

const ROOT = join(import.meta.dirname, '..');
export const VENV_DIR = join(ROOT, '.venv');
const REQUIREMENTS = join(ROOT, 'requirements-dev.txt');

/** The path of an executable inside the virtualenv, such as `moto_server` or `cfn-lint`. */
export const venvBin = (name: string): string => join(VENV_DIR, 'bin', name);

/** Creates .venv when missing and installs the pinned requirements into it (a no-op when satisfied). */
export const installPythonEnv = (): void => {
  const python = process.env.PYTHON ?? 'python3';
  if (!existsSync(venvBin('python'))) {
    execFileSync(python, ['-m', 'venv', VENV_DIR], { stdio: 'inherit' });
  }
  execFileSync(
    venvBin('python'),
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS],
    { stdio: 'inherit' },
  );
};

if (import.meta.main && process.argv[2] === 'install') {
  installPythonEnv();
  process.stdout.write(`${VENV_DIR}\n`);
}
