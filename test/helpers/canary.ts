import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The suite-wide secret canary. Tests make their secret values with `canarySecret`: distinctive
 * (random letters and digits), and recorded where `npm test` keeps what the run captured. Everything a
 * handler writes that a test captures (log lines, a child environment's output, a bundle's output) is
 * recorded there too with `recordCaptured`, and `npm test` pipes the runner's own output into it. After
 * the suite, test/leaks/canary.test.ts looks for any 8-character slice of any canary in all of it.
 *
 * Outside `npm test` (TEST_CAPTURE_DIR unset) the values are made the same way and nothing is recorded.
 */

const dir = (): string | undefined => process.env.TEST_CAPTURE_DIR || undefined;

/** The file that lists every canary made during the run, one per line. */
export const CANARIES_FILE = 'canaries.txt';
/** What the run captured goes to files named `output-<pid>.log`. */
export const OUTPUT_PREFIX = 'output-';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A fresh secret value, `<label>-` and 24 random characters, recorded for the leak check. */
export const canarySecret = (label: string): string => {
  const random = [...randomBytes(24)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
  const value = `${label}-${random}`;
  const at = dir();
  if (at !== undefined) appendFileSync(join(at, CANARIES_FILE), `${random}\n`);
  return value;
};

/** Records lines a test captured, for the leak check. */
export const recordCaptured = (lines: readonly string[]): void => {
  const at = dir();
  if (at === undefined || lines.length === 0) return;
  appendFileSync(join(at, `${OUTPUT_PREFIX}${process.pid}.log`), `${lines.join('\n')}\n`);
};
