import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  assertEquivalent,
  type Descriptor,
  type DescriptorNode,
  loadRoot,
  readDescriptor,
  trimDescriptor,
} from '../../infra/protoDescriptor.ts';

const WS = 'temporal.api.workflowservice.v1';

const at = (descriptor: Descriptor, path: string): DescriptorNode | undefined => {
  let node: DescriptorNode | undefined = { nested: descriptor };
  for (const part of path.split('.')) node = node?.nested?.[part];
  return node;
};

/** Every `.js` file under a package's lib folder. */
const sources = (pkg: string): string[] => {
  const root = fileURLToPath(new URL(`../../node_modules/${pkg}/lib`, import.meta.url));
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => readFileSync(join(root, file), 'utf8'));
};

describe('protobuf descriptor trimming', () => {
  let full: Descriptor;
  let all: ReturnType<typeof trimDescriptor>;
  before(() => {
    full = readDescriptor();
    all = trimDescriptor(full);
  });

  it('reads the descriptor @temporalio/proto ships, Core SDK and Cloud API included', () => {
    assert.ok(full.coresdk);
    assert.ok(at(full, 'temporal.api.cloud'));
    assert.ok(at(full, `${WS}.WorkflowService`)?.methods?.StartWorkflowExecution);
  });

  it('keeps the RPCs the filter accepts and what their messages reference, nothing of Core SDK or Cloud', () => {
    const trimmed = trimDescriptor(full, (rpc) => rpc === 'startWorkflowExecution');
    assert.deepEqual(trimmed.rpcs, [`${WS}.WorkflowService.StartWorkflowExecution`]);
    assert.ok(at(trimmed.descriptor, `${WS}.StartWorkflowExecutionRequest`));
    assert.ok(at(trimmed.descriptor, 'temporal.api.common.v1.Payloads'));
    assert.equal(at(trimmed.descriptor, `${WS}.DescribeWorkflowExecutionRequest`), undefined);
    assert.equal(trimmed.descriptor.coresdk, undefined);
    assert.equal(at(trimmed.descriptor, 'temporal.api.cloud'), undefined);
    assert.ok(trimmed.kept < all.kept && all.kept < all.total);
  });

  it('drops the options and proto names protobufjs does not read', () => {
    const json = JSON.stringify(all.descriptor);
    assert.match(JSON.stringify(full), /\(google\.api\.http\)/);
    assert.doesNotMatch(json, /\(google\.api\.http\)|openapiv2|"protoName"|"parsedOptions"|go_package/);
  });

  it('resolves every name @temporalio/client and @temporalio/common read from the descriptor', () => {
    const root = loadRoot(trimDescriptor(full, () => false).descriptor);
    const named = new Set<string>();
    for (const source of [...sources('@temporalio/client'), ...sources('@temporalio/common')]) {
      for (const [, path] of source.matchAll(
        /\bproto(?:_1)?\.((?:temporal|google|grpc|coresdk)(?:\.\w+)+)/g,
      )) {
        named.add(path as string);
      }
      for (const [, path] of source.matchAll(/lookupType\('([\w.]+)'\)/g)) named.add(path as string);
    }
    assert.ok(named.size > 10, `found only ${[...named].join(', ')}`);
    const definition = (name: string) => {
      const found = root.lookup(name);
      return found !== null && ('fields' in found || 'values' in found || 'methods' in found);
    };
    for (const path of named) {
      // A message, enum or service, or one followed by a method or an enum value.
      const owner = path.slice(0, path.lastIndexOf('.'));
      assert.ok(definition(path) || definition(owner), `${path} does not resolve in the trimmed descriptor`);
    }
  });

  it('fails the build when a kept message would encode differently', () => {
    const changed = structuredClone(all.descriptor);
    const request = at(changed, `${WS}.StartWorkflowExecutionRequest`);
    const field = request?.fields?.workflowId;
    assert.ok(field);
    field.id = 999;
    assert.throws(
      () => assertEquivalent(loadRoot(full), loadRoot(changed)),
      /StartWorkflowExecutionRequest differs/,
    );
  });
});
