import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CANARIES_FILE, OUTPUT_PREFIX } from '../helpers/canary.ts';

/**
 * Runs after the suite (scripts/test.ts), over what it captured: the runner's own output, every
 * log line a test captured from a handler, every child environment's and bundle's output. A secret that
 * reached any of them in any part, even 8 characters of it, is a leak.
 */
describe('the secret canary', () => {
  it('finds no 8-character slice of any secret the suite used in anything the suite captured', (t) => {
    const dir = process.env.TEST_CAPTURE_DIR;
    assert.ok(dir, 'TEST_CAPTURE_DIR is unset: this test runs after the suite, through `npm test`');
    // `npm test -- <files>` runs part of the suite, which may make no secret at all.
    const partial = process.env.TEST_PARTIAL === '1';
    const made = join(dir, CANARIES_FILE);
    const canaries =
      partial && !existsSync(made) ? [] : readFileSync(made, 'utf8').split('\n').filter(Boolean);
    const outputs = readdirSync(dir)
      .filter((name) => name.startsWith(OUTPUT_PREFIX))
      .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
    const captured = outputs.reduce((sum, { text }) => sum + text.length, 0);
    // Not a vacuous pass: the whole suite made its secrets as canaries, and captured its handlers' output.
    if (!partial) {
      assert.ok(canaries.length >= 10, `only ${canaries.length} canaries were made`);
      assert.ok(captured > 100_000, `only ${captured} characters were captured`);
    }

    const leaks: string[] = [];
    for (const canary of canaries) {
      for (let at = 0; at + 8 <= canary.length; at += 1) {
        const slice = canary.slice(at, at + 8);
        for (const { name, text } of outputs) {
          if (text.includes(slice)) leaks.push(`${name}: characters ${at}-${at + 7} of a secret`);
        }
      }
    }
    assert.deepEqual(leaks, []);
    t.diagnostic(`${canaries.length} secrets, ${outputs.length} captures, ${captured} characters scanned`);
  });
});
