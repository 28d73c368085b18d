import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, percentile, ratio, rotate } from '../../bench/stats.ts';

describe('bench statistics', () => {
  it('take percentiles by nearest rank, whatever the order of the samples', () => {
    const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    assert.equal(percentile(samples, 50), 5);
    assert.equal(percentile(samples, 99), 10);
    assert.equal(percentile(samples, 0), 1);
    assert.equal(median([3, 1, 2]), 2);
    assert.ok(Number.isNaN(median([])));
  });

  it('round ratios to two decimals', () => {
    assert.equal(ratio(1, 3), 0.33);
    assert.equal(ratio(110, 100), 1.1);
  });

  it('rotate the running order every round and keep every item', () => {
    const items = ['baseline', 'http', 'sqs'];
    const rounds = [0, 1, 2, 3, 4, 5];
    const firsts = rounds.map((round) => rotate(items, round)[0]);
    assert.deepEqual(new Set(firsts.slice(0, 3)), new Set(items));
    assert.deepEqual(rotate(items, 3), ['sqs', 'http', 'baseline']);
    for (const round of rounds) assert.deepEqual([...rotate(items, round)].sort(), [...items].sort());
  });
});
