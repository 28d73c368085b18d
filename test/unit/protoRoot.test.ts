import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import temporalProto from '@temporalio/proto';
import type * as Protobuf from 'protobufjs';
import {
  buildLazyRoot,
  type Descriptor,
  loadRoot,
  readDescriptor,
  trimDescriptor,
} from '../../infra/protoDescriptor.ts';

/**
 * The root a bundle builds at cold start (lib/temporal/protoRoot.ts), each message's fields added on
 * first use, against the full @temporalio/proto: every message and every RPC a function can keep
 * encodes and decodes to the same bytes and values, and the root ends up the object `addJSON` builds.
 */

/** Every message type under `namespace`, nested ones included. */
const messages = (namespace: Protobuf.NamespaceBase): Protobuf.Type[] =>
  namespace.nestedArray.flatMap((object) => [
    ...('fieldsArray' in object ? [object as Protobuf.Type] : []),
    ...('nestedArray' in object ? messages(object as Protobuf.NamespaceBase) : []),
  ]);

const services = (namespace: Protobuf.NamespaceBase): Protobuf.Service[] =>
  namespace.nestedArray.flatMap((object) =>
    'methodsArray' in object
      ? [object as Protobuf.Service]
      : 'nestedArray' in object && !('fieldsArray' in object)
        ? services(object as Protobuf.NamespaceBase)
        : [],
  );

/** The full @temporalio/proto, as the package exports it: a protobufjs root. */
const proto = temporalProto as unknown as Protobuf.Root;

const SCALARS: Record<string, unknown> = {
  double: 1.5,
  float: 1.5,
  int32: -7,
  sint32: -7,
  sfixed32: -7,
  uint32: 7,
  fixed32: 7,
  int64: -1_234_567_890_123,
  sint64: -1_234_567_890_123,
  sfixed64: -1_234_567_890_123,
  uint64: 1_234_567_890_123,
  fixed64: 1_234_567_890_123,
  bool: true,
  bytes: Buffer.from([1, 2, 3]),
};

/**
 * A message of `type` with every field set to a value that is not its default (the first field of
 * each oneof), nested messages filled the same way down to `depth`, as read from the full descriptor.
 */
const sample = (type: Protobuf.Type, depth = 0): Record<string, unknown> => {
  const message: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (field.partOf && field.partOf.oneof[0] !== field.name) continue;
    const resolved = field.resolve().resolvedType;
    let value: unknown;
    if (resolved && 'fieldsArray' in resolved) {
      if (depth >= 3) continue;
      value = sample(resolved as Protobuf.Type, depth + 1);
    } else if (resolved && 'values' in resolved) {
      const values = Object.values((resolved as Protobuf.Enum).values);
      value = values[1] ?? values[0];
    } else {
      value = SCALARS[field.type] ?? `${field.name}-value`;
    }
    const map = field as unknown as Protobuf.MapField;
    if (map.map) {
      const key = map.keyType === 'string' ? 'key' : map.keyType === 'bool' ? 'true' : '5';
      message[field.name] = { [key]: value };
    } else {
      message[field.name] = field.repeated ? [value, value] : value;
    }
  }
  return message;
};

/** What a decoded message holds, with 64-bit integers, enums and bytes spelled out. */
const plain = (type: Protobuf.Type, message: Protobuf.Message) =>
  JSON.stringify(
    type.toObject(message, { longs: String, enums: String, bytes: String, defaults: true, oneofs: true }),
  );

describe('protobuf root built on first use', () => {
  let descriptor: Descriptor;
  before(() => {
    // Every RPC of the services the client constructs: what any function can keep.
    descriptor = trimDescriptor(readDescriptor()).descriptor;
  });

  it('builds no field until a message is used, then only that message’s', () => {
    const root = buildLazyRoot(descriptor);
    const lazy = (name: string) => Object.getOwnPropertyDescriptor(root.lookupType(name), 'fields')?.get;
    const start = 'temporal.api.workflowservice.v1.StartWorkflowExecutionRequest';
    const describe = 'temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest';
    assert.ok(lazy(start) && lazy(describe));
    root.lookupType(start).encode({ workflowId: 'order-1' }).finish();
    assert.equal(lazy(start), undefined);
    assert.ok(lazy(describe));
  });

  it('resolves the features of what a message’s code reads, not the whole root’s, and the same ones', () => {
    const eager = loadRoot(descriptor);
    const root = buildLazyRoot(descriptor);
    const start = 'temporal.api.workflowservice.v1.StartWorkflowExecutionRequest';
    root.lookupType(start).encode({ workflowId: 'order-1' }).finish();
    const features = (object: Protobuf.ReflectionObject) =>
      object as unknown as { _features: object; _featuresResolved: boolean };
    const used = root.lookupType(start);
    const enums = used.fieldsArray.flatMap((field) =>
      field.resolvedType && 'values' in field.resolvedType ? [field.resolvedType] : [],
    );
    assert.ok(enums.length > 0, 'the start request names enums');
    const same = eager.lookupType(start);
    const pairs: [Protobuf.ReflectionObject, Protobuf.ReflectionObject | null | undefined][] = [
      [used, same],
      ...used.oneofsArray.map((oneof) => [oneof, same.oneofs[oneof.name]] as [typeof oneof, Protobuf.OneOf]),
      ...used.fieldsArray.map((field) => [field, same.fields[field.name]] as [typeof field, Protobuf.Field]),
      ...enums.map(
        (object) => [object, eager.lookup(object.fullName)] as [typeof object, Protobuf.ReflectionObject],
      ),
    ];
    for (const [object, expected] of pairs) {
      assert.ok(features(object)._featuresResolved, `${object.fullName} resolved`);
      assert.ok(expected, object.fullName);
      assert.deepEqual(features(object)._features, features(expected)._features, object.fullName);
    }
    const unused = root.lookupType('temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest');
    assert.equal(features(unused)._featuresResolved, false, 'a message nothing used is left as it was');
    assert.equal(
      (root as unknown as { _needsRecursiveFeatureResolution: boolean })._needsRecursiveFeatureResolution,
      true,
    );
  });

  it('encodes and decodes every message as @temporalio/proto does, each used first in a new root', () => {
    const kept = messages(loadRoot(descriptor));
    assert.ok(kept.length > 300, `${kept.length} messages`);
    for (const { fullName } of kept) {
      const name = fullName.slice(1);
      const full = proto.lookupType(name);
      const message = sample(full);
      const expected = full.encode(full.fromObject(message)).finish();
      // A new root each time: this message is the first the root encodes, as on a cold start.
      const type = buildLazyRoot(descriptor).lookupType(name);
      const bytes = type.encode(type.fromObject(message)).finish();
      assert.deepEqual(Buffer.from(bytes), Buffer.from(expected), `${name} encodes differently`);
      assert.equal(plain(type, type.decode(expected)), plain(full, full.decode(expected)), `${name} decodes`);
      assert.equal(type.verify(message), full.verify(message), `${name} verifies`);
      assert.equal(
        type.verify({ ...message, [type.fieldsArray[0]?.name ?? 'x']: Symbol() }),
        full.verify({ ...message, [full.fieldsArray[0]?.name ?? 'x']: Symbol() }),
        `${name} refuses`,
      );
    }
  });

  it('generates a message’s encoder on first use, and the rest, and its constructor, on their first call', () => {
    const type = buildLazyRoot(descriptor).lookupType('temporal.api.common.v1.Payloads');
    const bytes = type.encode({ payloads: [{ data: Buffer.from([1, 2]) }] }).finish();
    const generated = (name: string) =>
      (type as unknown as Record<string, { name: string }>)[name]?.name !== 'generated';
    const constructed = () => (type as unknown as { _ctor: unknown })._ctor !== null;
    const { encode } = type;
    assert.deepEqual(['encode', 'decode', 'verify', 'fromObject', 'toObject'].map(generated), [
      true,
      false,
      false,
      false,
      false,
    ]);
    assert.equal(constructed(), false, 'a message only encoded has no constructor');
    assert.deepEqual(type.toObject(type.decode(bytes), { bytes: String }), { payloads: [{ data: 'AQI=' }] });
    assert.equal(constructed(), true);
    assert.deepEqual(['decode', 'toObject', 'verify'].map(generated), [true, true, false]);
    assert.deepEqual(type.toObject(type.fromObject({ payloads: [{ data: 'AQI=' }] }), { bytes: String }), {
      payloads: [{ data: 'AQI=' }],
    });
    assert.deepEqual(['fromObject', 'toObject', 'verify'].map(generated), [true, true, false]);
    assert.equal(type.encode, encode, 'making the constructor did not set the message up again');
  });

  it('makes an RPC’s message constructors on its first call, not when the service stub is made', async () => {
    const root = buildLazyRoot(descriptor);
    const service = root.lookupService('temporal.api.workflowservice.v1.WorkflowService');
    const unbuilt = (name: string) =>
      Object.getOwnPropertyDescriptor(root.lookupType(`temporal.api.workflowservice.v1.${name}`), 'fields')
        ?.get !== undefined;
    const stub = service.create((_method, _data, callback) => callback(null, new Uint8Array()), false, false);
    assert.ok(unbuilt('StartWorkflowExecutionRequest') && unbuilt('GetSystemInfoRequest'));
    await (stub as unknown as { getSystemInfo(request: object): Promise<unknown> }).getSystemInfo({});
    assert.ok(!unbuilt('GetSystemInfoRequest') && !unbuilt('GetSystemInfoResponse'));
    assert.ok(unbuilt('StartWorkflowExecutionRequest'));
  });

  it('makes every RPC of every service as @temporalio/proto does', async () => {
    const root = buildLazyRoot(descriptor);
    const rpcs = services(root).flatMap((service) =>
      service.methodsArray.map((method) => ({ service, method })),
    );
    assert.ok(rpcs.length > 50, `${rpcs.length} RPCs`);
    for (const { service, method } of rpcs) {
      const fullService = proto.lookupService(service.fullName.slice(1));
      const fullMethod = fullService.methods[method.name];
      assert.ok(fullMethod, `${method.fullName} is not in @temporalio/proto`);
      const [request, response] = [fullMethod.requestType, fullMethod.responseType].map((name) =>
        fullService.lookupType(name),
      ) as [Protobuf.Type, Protobuf.Type];
      const answer = response.encode(response.fromObject(sample(response))).finish();
      const sent: Uint8Array[] = [];
      const rpcImpl: Protobuf.RPCImpl = (_method, data, callback) => {
        sent.push(data);
        callback(null, answer);
      };
      const rpcName = method.name.charAt(0).toLowerCase() + method.name.slice(1);
      const call = (stub: Protobuf.rpc.Service) =>
        (stub as unknown as Record<string, (request: unknown) => Promise<Protobuf.Message>>)[rpcName]?.call(
          stub,
          sample(request),
        );
      const got = await call(service.create(rpcImpl, false, false));
      const fromFull = await call(fullService.create(rpcImpl, false, false));
      assert.ok(got && fromFull, `${method.fullName} has no stub`);
      assert.deepEqual(Buffer.from(sent[0] ?? []), Buffer.from(sent[1] ?? [1]), `${method.fullName} request`);
      assert.equal(
        plain(root.lookupType(response.fullName), got),
        plain(response, fromFull),
        `${method.fullName} response`,
      );
    }
  });

  it('ends up the root Root#addJSON builds, object by object', () => {
    const eager = loadRoot(descriptor);
    const root = buildLazyRoot(descriptor);
    // As in a bundle: one message used first, then the rest.
    root.lookupType('temporal.api.workflowservice.v1.StartWorkflowExecutionRequest').encode({}).finish();
    root.resolveAll();
    // Caches and the links back to other objects (compared by name below) are left out.
    const skip = new Set([
      'parent',
      'message',
      'resolvedType',
      'partOf',
      'declaringField',
      'extensionField',
      'nested',
      'fields',
      'oneofs',
      'methods',
      // Own methods of the root built on first use (`setupLazily`, `createLazily`), and what they make.
      'setup',
      'create',
      'encode',
      'decode',
      'verify',
      'fromObject',
      'toObject',
      '_ctor',
      '_lookupCache',
      '_nestedArray',
      '_fieldsArray',
      '_oneofsArray',
      '_fieldsById',
      '_methodsArray',
      '_needsRecursiveResolve',
      '_fullyQualifiedObjects',
    ]);
    const state = (object: Protobuf.ReflectionObject) => {
      const own = Object.entries(object).filter(([key]) => !skip.has(key));
      const links = ['parent', 'resolvedType', 'partOf'].map(
        (key) => (object as unknown as Record<string, Protobuf.ReflectionObject | null>)[key]?.fullName,
      );
      return JSON.stringify([object.constructor.name, own, links]);
    };
    let compared = 0;
    const compare = (a: Protobuf.ReflectionObject, b: Protobuf.ReflectionObject) => {
      assert.equal(state(b), state(a), `${a.fullName} differs`);
      compared += 1;
      for (const key of ['nestedArray', 'fieldsArray', 'oneofsArray', 'methodsArray'] as const) {
        const [left, right] = [a, b].map(
          (object) => (object as unknown as Record<string, Protobuf.ReflectionObject[] | undefined>)[key],
        );
        assert.equal(right?.length, left?.length, `${a.fullName}: ${key}`);
        for (const [i, child] of (left ?? []).entries()) {
          compare(child, right?.[i] as Protobuf.ReflectionObject);
        }
      }
    };
    compare(eager, root);
    assert.ok(compared > 2000, `${compared} objects`);
    const index = (object: Protobuf.Root) =>
      Object.keys((object as unknown as { _fullyQualifiedObjects: object })._fullyQualifiedObjects).sort();
    assert.deepEqual(index(root), index(eager));
  });
});
