import { join } from 'node:path';
import { type CheckResult, checkFromCommandLine, ROOT, runVenvTool } from './templateCheck.ts';

/**
 * checkov (from the project's .venv, pinned in requirements-dev.txt) over packaged CloudFormation
 * templates, with infra/checkov.yaml: the checks skipped there, each with its reason, and no others.
 * `npm run scan:template [-- <template.json>...]` scans the one `npm run package` wrote by default.
 */

const CONFIG = join(ROOT, 'infra', 'checkov.yaml');

/** Scans the templates and returns what checkov said; installs .venv first when checkov is missing. */
export const scanTemplates = (files: readonly string[]): Promise<CheckResult> =>
  runVenvTool('checkov', ['--config-file', CONFIG, ...files.flatMap((file) => ['--file', file])], 300_000);

if (import.meta.main) await checkFromCommandLine('checkov', scanTemplates);
