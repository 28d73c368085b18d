import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, withProgress } from './progress.ts';

/**
 * The project-local Python virtualenv for test infrastructure (moto, cfn-lint, checkov). Python is never part of
 * the product; it only runs tools the tests and the packaging check call. pip's own download cache lives
 * outside the clone, so a second clone installs without downloading again.
 */

const ROOT = join(import.meta.dirname, '..');
export const VENV_DIR = join(ROOT, '.venv');
const REQUIREMENTS = join(ROOT, 'requirements-dev.txt');

/** The path of an executable inside the virtualenv, such as `moto_server` or `cfn-lint`. */
export const venvBin = (name: string): string => join(VENV_DIR, 'bin', name);

const log = (message: string): void => {
  process.stderr.write(`[python] ${message}\n`);
};

/** Creates .venv when missing and installs the pinned requirements into it (a no-op when satisfied). */
export const installPythonEnv = async (): Promise<void> => {
  const python = process.env.PYTHON ?? 'python3';
  const install = async () => {
    if (!existsSync(venvBin('python'))) {
      log(`creating ${VENV_DIR} and installing ${REQUIREMENTS} (a minute or two, once)`);
      await run(python, ['-m', 'venv', VENV_DIR]);
    }
    await run(venvBin('python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '-r',
      REQUIREMENTS,
    ]);
  };
  await withProgress('installing the Python test tools (moto, cfn-lint, checkov)', install(), log);
};

if (import.meta.main && process.argv[2] === 'install') {
  await installPythonEnv();
  process.stdout.write(`${VENV_DIR}\n`);
}
