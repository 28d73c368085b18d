import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateError } from '#lib/errors.ts';
import { render, renderString, templatePaths } from '#lib/routes/template.ts';

const context = {
  body: { orderId: 'o-1', total: 12.5, items: [{ sku: 'a' }, { sku: 'b' }], gift: false, note: null },
  path: { tenant: 'acme' },
};

describe('render', () => {
  it('gives an exact placeholder the value of its own JSON type', () => {
    assert.deepEqual(render('{body}', context, 'r'), context.body);
    assert.equal(render('{body.total}', context, 'r'), 12.5);
    assert.equal(render('{body.gift}', context, 'r'), false);
    assert.equal(render('{body.note}', context, 'r'), null);
    assert.deepEqual(render('{body.items}', context, 'r'), [{ sku: 'a' }, { sku: 'b' }]);
  });

  it('interpolates placeholders inside longer strings', () => {
    assert.equal(render('order-{body.orderId}-{path.tenant}', context, 'r'), 'order-o-1-acme');
    assert.equal(render('total={body.total}', context, 'r'), 'total=12.5');
    assert.equal(render('first={body.items.0}', context, 'r'), 'first={"sku":"a"}');
  });

  it('reads array elements by index', () => {
    assert.equal(render('{body.items.1.sku}', context, 'r'), 'b');
  });

  it('renders objects and arrays recursively and keeps literals', () => {
    const template = { order: '{body}', meta: ['{path.tenant}', 7, true, null, { id: 'x-{body.orderId}' }] };
    assert.deepEqual(render(template, context, 'r'), {
      order: context.body,
      meta: ['acme', 7, true, null, { id: 'x-o-1' }],
    });
  });

  it('throws a TemplateError naming the route and the missing path', () => {
    assert.throws(
      () => render({ a: 'id-{body.customer.id}' }, context, 'orders-api'),
      (error: unknown) =>
        error instanceof TemplateError &&
        error.route === 'orders-api' &&
        error.path === 'body.customer.id' &&
        error.permanent &&
        /orders-api/.test(error.message) &&
        /body\.customer\.id/.test(error.message),
    );
    assert.throws(() => render('{query}', context, 'r'), TemplateError);
  });

  it('does not read inherited properties', () => {
    assert.throws(() => render('{body.constructor}', context, 'r'), TemplateError);
  });

  it('never renders null as text: in a longer string or as an ID it is a TemplateError naming the path', () => {
    const withNull = { body: { orderId: null } };
    assert.throws(() => render('order-{body.orderId}', withNull, 'r'), {
      name: 'TemplateError',
      message: 'Route "r": the path "body.orderId" is null in the event, and cannot be part of a text',
    });
    assert.throws(() => renderString('{body.orderId}', withNull, 'r'), {
      name: 'TemplateError',
      path: 'body.orderId',
    });
    // As a whole input value, null is a JSON value like any other.
    assert.equal(render('{body.orderId}', withNull, 'r'), null);
  });

  it('renders IDs as strings whatever the value type', () => {
    assert.equal(renderString('{body.total}', context, 'r'), '12.5');
    assert.equal(renderString('{body.orderId}', context, 'r'), 'o-1');
  });
});

describe('templatePaths', () => {
  it('lists every placeholder, nested ones included', () => {
    assert.deepEqual(templatePaths({ a: '{body}', b: ['x-{path.tenant}-{ query.q }'], c: 1 }), [
      'body',
      'path.tenant',
      'query.q',
    ]);
    assert.deepEqual(templatePaths(undefined), []);
  });
});
