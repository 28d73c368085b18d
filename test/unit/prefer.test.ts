import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preferredWaitSeconds } from '#lib/http/prefer.ts';

describe('preferredWaitSeconds', () => {
  it('reads wait=N alone, among other preferences, quoted, with any casing', () => {
    assert.equal(preferredWaitSeconds('wait=10'), 10);
    assert.equal(preferredWaitSeconds('respond-async, wait=5'), 5);
    assert.equal(preferredWaitSeconds('Wait="3"'), 3);
    assert.equal(preferredWaitSeconds('wait=0'), 0);
  });

  it('ignores what it cannot honour', () => {
    assert.equal(preferredWaitSeconds(undefined), undefined);
    assert.equal(preferredWaitSeconds('respond-async'), undefined);
    assert.equal(preferredWaitSeconds('wait=soon'), undefined);
    assert.equal(preferredWaitSeconds('wait=-1'), undefined);
    assert.equal(preferredWaitSeconds('handling=lenient'), undefined);
  });
});
