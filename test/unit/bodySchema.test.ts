import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type JsonSchema, rebased, requestShapeOf, subschemaAt } from '#lib/http/bodySchema.ts';
import type { Route } from '#lib/routes/schema.ts';
import { render } from '#lib/routes/template.ts';

const route = (fields: Partial<Route>): Route =>
  ({ name: 'r', workflowType: 'run', http: { method: 'POST', path: '/r' }, ...fields }) as Route;

const ORDER: JsonSchema = {
  type: 'object',
  required: ['order', 'tenant'],
  properties: {
    order: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, lines: { type: 'array', items: { $ref: '#/$defs/line' } } },
    },
    tenant: { type: 'string', minLength: 3 },
    tags: { type: 'array', prefixItems: [{ const: 'first' }], items: { type: 'string' } },
  },
  $defs: { line: { type: 'object', required: ['sku'] } },
};

describe('subschemaAt', () => {
  it('follows properties, prefixItems and items, and says nothing where they do not', () => {
    assert.deepEqual(subschemaAt(ORDER, ['order', 'id']), { type: 'string' });
    assert.deepEqual(subschemaAt(ORDER, ['order', 'lines', '3']), { $ref: '#/$defs/line' });
    assert.deepEqual(subschemaAt(ORDER, ['tags', '0']), { const: 'first' });
    assert.deepEqual(subschemaAt(ORDER, ['tags', '1']), { type: 'string' });
    assert.deepEqual(subschemaAt(ORDER, ['order', 'customer']), {});
    assert.deepEqual(subschemaAt({ allOf: [ORDER] }, ['order']), {});
    assert.equal(subschemaAt(true, ['a', 'b']), true);
    assert.equal(subschemaAt({ properties: { a: false } }, ['a', 'b']), false);
  });
});

describe('rebased', () => {
  it('moves references into the schema itself to where it is kept, and leaves data and other references alone', () => {
    const schema = {
      items: { $ref: '#/$defs/line' },
      self: { $ref: '#' },
      other: { $ref: 'https://example.com/line.json' },
      anchored: { $dynamicRef: '#meta' },
      const: { $ref: '#/not/a/reference' },
    };
    assert.deepEqual(rebased(schema, '#/components/schemas/order'), {
      items: { $ref: '#/components/schemas/order/$defs/line' },
      self: { $ref: '#/components/schemas/order' },
      other: { $ref: 'https://example.com/line.json' },
      anchored: { $dynamicRef: '#meta' },
      const: { $ref: '#/not/a/reference' },
    });
  });
});

describe('requestShapeOf', () => {
  it('takes the whole input schema for a body that is the whole input', () => {
    const shape = requestShapeOf(route({ input: '{body}' }), ORDER);
    assert.deepEqual(shape.body, ORDER);
    assert.equal(shape.bodyRead, true);
    assert.deepEqual(requestShapeOf(route({ input: '{body}' }), ORDER, '#/components/schemas/o').body, {
      $ref: '#/components/schemas/o',
    });
  });

  it('takes the subschema at the input pointer where the template holds exactly {body}', () => {
    const shape = requestShapeOf(
      route({ input: { order: '{body}', tenant: '{path.tenant}' } }),
      ORDER,
      '#/c',
    );
    assert.deepEqual(shape.body, {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, lines: { type: 'array', items: { $ref: '#/c/$defs/line' } } },
    });
  });

  it('makes {body.a.b} at an input pointer a required nested property with the subschema there', () => {
    const shape = requestShapeOf(
      route({ input: { order: { id: '{body.purchase.ref}' }, tenant: '{body.shop}' } }),
      ORDER,
    );
    assert.deepEqual(shape.body, {
      type: 'object',
      required: ['purchase', 'shop'],
      properties: {
        purchase: { type: 'object', required: ['ref'], properties: { ref: { type: 'string' } } },
        shop: { type: 'string', minLength: 3 },
      },
    });
  });

  it('requires every other body path the templates read, not null where it becomes text', () => {
    const shape = requestShapeOf(
      route({
        workflowId: 'order-{body.id}',
        input: { note: 'for {body.customer.name}', when: '{body.at}' },
        memo: { source: '{body.source}' },
      }),
    );
    assert.deepEqual(shape.body, {
      type: 'object',
      required: ['customer', 'at', 'id', 'source'],
      properties: {
        customer: { type: 'object', required: ['name'], properties: { name: { not: { type: 'null' } } } },
        at: {},
        id: { not: { type: 'null' } },
        source: {},
      },
    });
  });

  it('needs no `not null` where the subschema has a type without null', () => {
    const shape = requestShapeOf(
      route({ workflowId: 'order-{body.id}', input: { order: { id: '{body.id}' } } }),
      ORDER,
    );
    assert.deepEqual(shape.body, {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' } },
    });
  });

  it('combines a whole-body schema with the paths other templates require', () => {
    const shape = requestShapeOf(
      route({ workflowId: 'order-{body.order.id}', input: '{body}' }),
      ORDER,
      '#/c',
    );
    assert.deepEqual(shape.body, {
      allOf: [
        { $ref: '#/c' },
        {
          type: 'object',
          required: ['order'],
          properties: {
            order: { type: 'object', required: ['id'], properties: { id: { not: { type: 'null' } } } },
          },
        },
      ],
    });
  });

  it('leaves the body free where no template reads it, and names the query, headers and cookies they read', () => {
    const shape = requestShapeOf(
      route({
        workflowId: '{headers.x-delivery}',
        input: { tenant: '{path.tenant}', channel: '{query.channel}', session: '{cookies.session}' },
        signal: { name: 's', args: ['{query.ref}', '{headers}'] },
      }),
      ORDER,
    );
    assert.deepEqual(shape, {
      body: {},
      bodyRead: false,
      query: ['channel', 'ref'],
      headers: ['x-delivery'],
      cookies: ['session'],
    });
  });

  it('says no `type` where a template reads a body path by index, which arrays have too', () => {
    assert.deepEqual(requestShapeOf(route({ input: '{body.0}' })).body, {
      required: ['0'],
      properties: { 0: {} },
    });
  });

  it('describes the bodies whose rendered input satisfies the schema, and refuses those whose input would not', () => {
    const template = { order: { id: '{body.ref}', lines: '{body.lines}' }, tenant: '{path.tenant}' };
    // The input schema kept whole where the body schema's references point: here, in Ajv under its own ID.
    const ajv = new Ajv2020({ strict: false }).addSchema(ORDER as object, 'https://example.com/order');
    const { body } = requestShapeOf(
      route({ input: template, workflowId: 'o-{body.ref}' }),
      ORDER,
      'https://example.com/order#',
    );
    const bodyValid = ajv.compile(body as object);
    const inputValid = ajv.compile({ $ref: 'https://example.com/order' });
    const input = (sent: unknown) => render(template, { body: sent, path: { tenant: 'acme' } }, 'r');

    const good = { ref: 'o-1', lines: [{ sku: 'a' }] };
    assert.ok(bodyValid(good), JSON.stringify(bodyValid.errors));
    assert.ok(inputValid(input(good)));
    for (const bad of [
      { ref: 7, lines: [] },
      { ref: 'o-1', lines: [{ qty: 1 }] },
    ]) {
      assert.equal(bodyValid(bad), false, JSON.stringify(bad));
      assert.equal(inputValid(input(bad)), false, JSON.stringify(bad));
    }
  });
});
