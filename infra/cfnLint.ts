import { join } from 'node:path';
import { type CheckResult, checkFromCommandLine, ROOT, runVenvTool } from './templateCheck.ts';

/**
 * cfn-lint (from the project's .venv, pinned in requirements-dev.txt) over packaged CloudFormation
 * templates, with infra/cfn-lint.yaml. `npm run lint:template [-- <template.json>...]` lints the one
 * `npm run package` wrote by default.
 */

const CONFIG = join(ROOT, 'infra', 'cfn-lint.yaml');

/** cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational. */
export type LintResult = CheckResult;

/** Lints the templates and returns what cfn-lint said; installs .venv first when cfn-lint is missing. */
export const lintTemplates = (files: readonly string[]): Promise<LintResult> =>
  runVenvTool('cfn-lint', ['--config-file', CONFIG, '--', ...files], 120_000);

if (import.meta.main) await checkFromCommandLine('cfn-lint', lintTemplates);
