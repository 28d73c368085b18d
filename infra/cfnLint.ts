import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installPythonEnv, venvBin } from '../scripts/pythonEnv.ts';

/**
 * cfn-lint (from the project's .venv, pinned in requirements-dev.txt) over packaged CloudFormation
 * templates, with infra/cfn-lint.yaml. `npm run lint:template [-- <template.json>...]` lints the one
 * `npm run package` wrote by default.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const CONFIG = join(ROOT, 'infra', 'cfn-lint.yaml');

export interface LintResult {
  /** cfn-lint's exit code: 0 when clean, else a bit mask (2 errors, 4 warnings, 8 informational). */
  readonly code: number;
  readonly output: string;
}

/** Lints the templates and returns what cfn-lint said; installs .venv first when cfn-lint is missing. */
export const lintTemplates = async (files: readonly string[]): Promise<LintResult> => {
  if (!existsSync(venvBin('cfn-lint'))) await installPythonEnv();
  try {
    const { stdout, stderr } = await run(venvBin('cfn-lint'), ['--config-file', CONFIG, '--', ...files], {
      cwd: ROOT,
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof code !== 'number') throw error;
    return { code, output: stdout + stderr };
  }
};

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (files.length === 0) files.push(join(ROOT, '.serverless', 'cloudformation-template-update-stack.json'));
  const started = performance.now();
  const { code, output } = await lintTemplates(files);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(output);
  console.log(
    code === 0 ? `cfn-lint: no findings in ${files.join(', ')} (${seconds} s)` : `cfn-lint: exit ${code}`,
  );
  process.exitCode = code;
}
