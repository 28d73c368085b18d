import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installPythonEnv, venvBin } from '../scripts/pythonEnv.ts';

/**
 * What cfn-lint and checkov share: a tool from the project's .venv (installed first when missing) run
 * over packaged CloudFormation templates, its exit code and output returned rather than thrown, and the
 * command line that checks the template `npm run package` wrote by default.
 */

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '..');
const PACKAGED = join(ROOT, '.serverless', 'cloudformation-template-update-stack.json');

export interface CheckResult {
  /** The tool's exit code: 0 when it found nothing. */
  readonly code: number;
  readonly output: string;
}

export const runVenvTool = async (
  tool: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<CheckResult> => {
  if (!existsSync(venvBin(tool))) await installPythonEnv();
  try {
    const { stdout, stderr } = await run(venvBin(tool), args, { cwd: ROOT, timeout: timeoutMs });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof code !== 'number') throw error;
    return { code, output: stdout + stderr };
  }
};

/** `node infra/<check>.ts [template.json...]`: checks the templates named, or the packaged one, and says how it went. */
export const checkFromCommandLine = async (
  name: string,
  check: (files: readonly string[]) => Promise<CheckResult>,
): Promise<void> => {
  const files = process.argv.slice(2);
  if (files.length === 0) files.push(PACKAGED);
  const started = performance.now();
  const { code, output } = await check(files);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(output);
  console.log(
    code === 0 ? `${name}: no findings in ${files.join(', ')} (${seconds} s)` : `${name}: exit ${code}`,
  );
  process.exitCode = code;
};
