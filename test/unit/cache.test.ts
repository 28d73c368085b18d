import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cached } from '#lib/cache.ts';

describe('cached', () => {
  it('makes the value once and keeps it until reset', () => {
    let made = 0;
    const value = cached(() => ({ n: ++made }));
    assert.equal(value(), value());
    assert.equal(made, 1);
    value.reset();
    assert.deepEqual(value(), { n: 2 });
  });

  it('forgets a make that throws, so the next use tries again', () => {
    let attempts = 0;
    const value = cached(() => {
      attempts += 1;
      if (attempts === 1) throw new Error('not yet');
      return 'ready';
    });
    assert.throws(value, /not yet/);
    assert.equal(value(), 'ready');
    assert.equal(attempts, 2);
  });

  it('forgets a promise that rejects, and keeps one that resolves', async () => {
    let attempts = 0;
    const value = cached(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('not yet');
      return attempts;
    });
    await assert.rejects(value(), /not yet/);
    assert.equal(await value(), 2);
    assert.equal(await value(), 2);
    assert.equal(attempts, 2);
  });

  it('keeps a reset from being undone by the failure of the promise it forgot', async () => {
    let reject: (error: Error) => void = () => {};
    let attempts = 0;
    const value = cached(() => {
      attempts += 1;
      return attempts === 1 ? new Promise<number>((_, no) => (reject = no)) : Promise.resolve(attempts);
    });
    const first = value();
    value.reset();
    const second = value();
    reject(new Error('late'));
    await assert.rejects(first, /late/);
    assert.equal(value(), second, 'the newer value stays');
  });
});
