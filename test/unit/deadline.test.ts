import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { resetConfig } from '#lib/config.ts';
import { deadlineFrom } from '#lib/deadline.ts';

describe('deadlineFrom', () => {
  afterEach(() => {
    delete process.env.DEADLINE_MARGIN_MS;
    delete process.env.TEMPORAL_CALL_TIMEOUT_MS;
    resetConfig();
  });

  it('keeps a margin back from the remaining invocation time', () => {
    const before = Date.now();
    const deadline = deadlineFrom({ getRemainingTimeInMillis: () => 3_000 });
    assert.ok(deadline >= before + 2_500 && deadline <= Date.now() + 2_500);
  });

  it('never exceeds the per-call cap', () => {
    process.env.TEMPORAL_CALL_TIMEOUT_MS = '2000';
    const deadline = deadlineFrom({ getRemainingTimeInMillis: () => 900_000 });
    assert.ok(deadline <= Date.now() + 2_000);
  });

  it('honours DEADLINE_MARGIN_MS and rejects nonsense', () => {
    process.env.DEADLINE_MARGIN_MS = '1000';
    const deadline = deadlineFrom({ getRemainingTimeInMillis: () => 3_000 });
    assert.ok(deadline <= Date.now() + 2_000);
    resetConfig();
    process.env.DEADLINE_MARGIN_MS = 'soon';
    assert.throws(() => deadlineFrom({ getRemainingTimeInMillis: () => 3_000 }), /DEADLINE_MARGIN_MS/);
  });
});
