import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '#lib/errors.ts';

describe('errors', () => {
  type Concrete = new (...args: never[]) => errors.TriggerError;
  const classes = (Object.entries(errors) as [string, unknown][]).filter(
    (entry): entry is [string, Concrete] =>
      typeof entry[1] === 'function' && entry[1].prototype instanceof errors.TriggerError,
  );

  it('name themselves literally, so names survive minification', () => {
    assert.ok(classes.length >= 10);
    for (const [exported, ErrorClass] of classes) {
      const error = new ErrorClass(...(['x', ['POST']] as never[]));
      assert.equal(error.name, exported);
    }
  });

  it('say whether they are permanent, and expose only client errors', () => {
    assert.equal(new errors.TemplateError('r', 'p').permanent, true);
    assert.equal(new errors.TemplateError('r', 'p').expose, true);
    assert.equal(new errors.TemporalUnavailableError('x').permanent, false);
    assert.equal(new errors.TemporalUnavailableError('x').expose, false);
    assert.equal(errors.isPermanent(new Error('unknown')), false);
  });
});
