import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
// Relative, as npm test's globs give them: the runner then names a file two ways, which the report must match.
const FIXTURES = ['passes', 'fails'].map((name) =>
  join('test', 'fixtures', 'reporter', `${name}.fixture.ts`),
);

/** `node --test` with the report `npm test` uses, over one passing and one failing file. */
const report = (env: NodeJS.ProcessEnv = {}) => {
  // Without the marker node --test gives the files it runs, so that this run reports as a run of its own.
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const capture = mkdtempSync(join(tmpdir(), 'reporter-'));
  try {
    const { stdout, status } = spawnSync(
      process.execPath,
      [
        '--test',
        '--test-reporter',
        join(ROOT, 'scripts', 'quietReporter.ts'),
        '--test-reporter-destination',
        'stdout',
        ...FIXTURES,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...inherited, TEST_LOGS: '', ...env, TEST_CAPTURE_DIR: capture },
      },
    );
    return { stdout, status, kept: readFileSync(join(capture, 'output-tests.log'), 'utf8') };
  } finally {
    rmSync(capture, { recursive: true, force: true });
  }
};

describe('the test report (scripts/quietReporter.ts)', () => {
  it("leaves out a passing file's output, shows a failing file's, and keeps both for the canary", () => {
    const { stdout, status, kept } = report();

    assert.equal(status, 1);
    assert.match(stdout, /✔ passes, having logged/);
    assert.match(stdout, /✖ fails, having logged/);
    assert.doesNotMatch(stdout, /log line of a passing file|warning of a passing file/);
    assert.match(stdout, /log line of a failing file/);
    assert.match(stdout, /stderr of a child of a failing file/);
    assert.match(kept, /log line of a passing file/);
    assert.match(kept, /warning of a passing file/);
    assert.match(kept, /log line of a failing file/);
  });

  it('shows everything with TEST_LOGS=1', () => {
    const { stdout } = report({ TEST_LOGS: '1' });

    assert.match(stdout, /log line of a passing file/);
    assert.match(stdout, /warning of a passing file/);
    assert.match(stdout, /log line of a failing file/);
  });
});
