import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputSchemaError, RoutesFileError } from '#lib/errors.ts';
import { problemResponse } from '#lib/http/response.ts';
import { compileInputSchemas } from '#lib/routes/compileInputSchemas.ts';
import { checkInput, type InputValidator } from '#lib/routes/inputSchema.ts';
import type { JsonValue, RoutesFile } from '#lib/routes/schema.ts';
import { compileRoutes } from '#lib/routes/validate.ts';

const file = (inputSchema: unknown, route: Record<string, unknown> = {}): unknown => ({
  workflows: { work: { taskQueue: 'q', inputSchema } },
  routes: [{ name: 'r', sqs: { queue: 'q' }, workflowType: 'work', input: '{body}', ...route }],
});

/** The validator of workflow type "work" with `schema`. */
const validatorOf = (schema: unknown): InputValidator => {
  const { validators, problems } = compileInputSchemas({
    workflows: { work: { inputSchema: schema } },
    routes: [],
  } as unknown as RoutesFile);
  assert.deepEqual(problems, []);
  return validators['workflow:work'] as InputValidator;
};

const violations = (schema: unknown, input: unknown, template?: JsonValue) => {
  try {
    checkInput(validatorOf(schema), input, 'r', template);
  } catch (error) {
    assert.ok(error instanceof InputSchemaError);
    return error.violations;
  }
  return [];
};

describe('input schemas in a routes file', () => {
  it('fails the file for a schema that does not compile, naming where it is, with its other problems', () => {
    assert.throws(
      () =>
        compileRoutes(
          file({ type: 'object', propertees: {} }, { inputSchema: { type: 'strin' }, workflowType: 'nope' }),
          'test.json',
          undefined,
        ),
      (error: unknown) => {
        assert.ok(error instanceof RoutesFileError);
        assert.match(
          error.message,
          /workflow "work": inputSchema strict mode: unknown keyword: "propertees"/,
        );
        assert.match(error.message, /route "r": inputSchema .*type/);
        assert.match(error.message, /route "r": workflow type "nope" is not in "workflows"/);
        return true;
      },
    );
  });

  it('refuses an unknown format rather than passing every value', () => {
    assert.throws(
      () => compileRoutes(file({ type: 'string', format: 'emial' }), 'test.json', undefined),
      /unknown format "emial"/,
    );
  });

  it('refuses a route schema on a route that passes no input', () => {
    assert.throws(
      () =>
        compileRoutes(
          file(true, { input: undefined, inputSchema: { type: 'object' } }),
          'test.json',
          undefined,
        ),
      /route "r": "inputSchema" checks the input, and the route has no "input"/,
    );
  });

  it("gives each route its own schema, else its type's", () => {
    const routes = compileRoutes(
      {
        workflows: { work: { taskQueue: 'q', inputSchema: { type: 'string' } }, free: { taskQueue: 'q' } },
        routes: [
          { name: 'typed', sqs: { queue: 'a' }, workflowType: 'work', input: '{body}' },
          {
            name: 'own',
            sqs: { queue: 'b' },
            workflowType: 'work',
            input: '{body}',
            inputSchema: { type: 'number' },
          },
          { name: 'none', sqs: { queue: 'c' }, workflowType: 'free', input: '{body}' },
        ],
      },
      'test.json',
      undefined,
    );
    assert.equal(routes.inputValidators.get('typed')?.('text'), true);
    assert.equal(routes.inputValidators.get('typed')?.(1), false);
    assert.equal(routes.inputValidators.get('own')?.(1), true);
    assert.equal(routes.inputValidators.get('own')?.('text'), false);
    assert.equal(routes.inputValidators.get('none'), undefined);
    assert.equal(routes.workflows.get('work')?.inputValidator?.('text'), true);
  });
});

describe('checkInput', () => {
  const order = {
    type: 'object',
    required: ['id', 'lines'],
    properties: {
      id: { type: 'string' },
      lines: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } },
      'a/b': { type: 'string' },
    },
    additionalProperties: false,
  };

  it('lists every violation, at the property a required or additionalProperties names', () => {
    assert.deepEqual(violations(order, { lines: [{ qty: 1 }, { qty: 'x' }], extra: 1 }), [
      { in: 'input', pointer: '/id', detail: 'is required' },
      { in: 'input', pointer: '/extra', detail: 'is not allowed' },
      { in: 'input', pointer: '/lines/1/qty', detail: 'must be integer' },
    ]);
  });

  it('escapes pointer segments (RFC 6901)', () => {
    assert.deepEqual(violations(order, { id: 'a', lines: [], 'a/b': 1 }), [
      { in: 'input', pointer: '/a~1b', detail: 'must be string' },
    ]);
  });

  it('points into the event where the template copies the value from it', () => {
    const schema = {
      type: 'object',
      properties: {
        order: order,
        tenant: { type: 'string', minLength: 3 },
        note: { type: 'string', maxLength: 3 },
        first: { type: 'integer' },
      },
    };
    const template = {
      order: '{body.order}',
      tenant: '{path.tenant}',
      note: 'from {path.tenant}',
      first: '{ body.lines.0.qty }',
    };
    const input = { order: { id: 1, lines: [] }, tenant: 'ab', note: 'from ab', first: 'x' };
    assert.deepEqual(violations(schema, input, template), [
      { in: 'body', pointer: '/order/id', detail: 'must be string' },
      { in: 'path', pointer: '/tenant', detail: 'must NOT have fewer than 3 characters' },
      // An interpolated text is the route's, not the caller's: it stays a pointer into the input.
      { in: 'input', pointer: '/note', detail: 'must NOT have more than 3 characters' },
      { in: 'body', pointer: '/lines/0/qty', detail: 'must be integer' },
    ]);
  });

  it('passes valid input and input a route does not give', () => {
    assert.doesNotThrow(() => checkInput(validatorOf(order), { id: 'a', lines: [] }, 'r', '{body}'));
    assert.doesNotThrow(() => checkInput(validatorOf(order), undefined, 'r', undefined));
    assert.doesNotThrow(() => checkInput(undefined, 'anything', 'r', '{body}'));
  });

  it('answers with the violations in the problem, and names pointers, never values, in the message', () => {
    const error = new InputSchemaError('r', [{ in: 'body', pointer: '/id', detail: 'must be string' }]);
    const response = problemResponse(error, 'req-1');
    assert.equal(response.statusCode, 422);
    assert.deepEqual(JSON.parse(String(response.body)), {
      type: 'urn:temporal-triggers:problem:input-schema',
      title: 'Invalid input',
      status: 422,
      detail: 'Route "r": the input does not satisfy its schema: body /id: must be string',
      instance: 'req-1',
      errors: [{ in: 'body', pointer: '/id', detail: 'must be string' }],
    });
  });
});
