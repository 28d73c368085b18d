import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { resetConfig } from '#lib/config.ts';
import { deadlineFrom, waitDeadlineFrom } from '#lib/deadline.ts';

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

describe('waitDeadlineFrom', () => {
  it('waits the seconds asked for when the invocation and API Gateway allow it', () => {
    const now = Date.now();
    const deadline = waitDeadlineFrom({ getRemainingTimeInMillis: () => 60_000 }, 5, now);
    assert.ok(deadline >= now + 5_000 && deadline <= Date.now() + 5_000);
  });

  it("never waits past API Gateway's 29 s counted from the invocation, nor past the invocation", () => {
    const invokedAt = Date.now() - 20_000;
    const gateway = waitDeadlineFrom({ getRemainingTimeInMillis: () => 600_000 }, 60, invokedAt);
    assert.ok(gateway <= invokedAt + 29_000 - 500);
    const lambda = waitDeadlineFrom({ getRemainingTimeInMillis: () => 2_000 }, 60, Date.now());
    assert.ok(lambda <= Date.now() + 1_500);
  });
});
