import type * as Protobuf from 'protobufjs';

/**
 * Temporal's protobuf root, built at cold start from the trimmed descriptor (infra/plugins.ts), with
 * each message's fields added on first use.
 *
 * protobufjs's `Root#addJSON` builds a reflection object for every field of every message at import:
 * about 1,500 fields for the messages a function keeps, most of which a cold start never encodes. Here
 * namespaces, messages, enums and services are built as `addJSON` builds them, and a message gets its
 * fields and oneofs, parsed from the descriptor's text, the first time anything reads them (to encode,
 * decode, convert, look a field up or list them). After that it is the object `addJSON` would have
 * built; test/unit/protoRoot.test.ts compares the two, field by field, and what they encode and decode.
 *
 * protobufjs has no lazy mode, so this relies on its internals, as of protobufjs 8.8.1 (pinned in
 * package.json): a message keeps its fields and oneofs in `fields` and `oneofs`; the root resolves
 * editions features on first use through `_resolveFeaturesRecursive`, which would read every message's
 * fields (here a message not yet used records the edition instead, and resolves its fields with
 * `_resolveFeatures` when they are added), and an object's own `_resolveFeatures` sets `_features`
 * from its parent's once (`_featuresResolved`); the root indexes objects by full name in
 * `_fullyQualifiedObjects`; `Type.fromJSON` adds fields, oneofs and nested objects with `add`, as
 * this does; `Type#setup` generates a message's five functions from `encoder`, `decoder`, `verifier`
 * and `converter` (see `setupLazily`), and `Type#ctor`'s setter deletes the message's `decode` and
 * `fromObject`; and `Service#create` gives each RPC a function that calls
 * `rpc.Service#rpcCall` with its message constructors (see `createLazily`).
 */

/** A node of the descriptor's skeleton: the descriptor with each message's fields replaced by where they are. */
export interface SkeletonNode {
  readonly nested?: Record<string, SkeletonNode>;
  /** On a message: the start and end, in the members text, of its `{"fields":…,"oneofs":…}`. */
  readonly fields?: readonly [number, number] | Record<string, unknown>;
  readonly values?: Record<string, number>;
  readonly methods?: Record<string, unknown>;
  readonly id?: number;
  readonly options?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** A message's members as its descriptor gives them. */
interface Members {
  readonly fields: Record<string, Protobuf.IField & { keyType?: string }>;
  readonly oneofs?: Record<string, { oneof: string[] }>;
}

/** What this module reads and writes of protobufjs's reflection objects beyond its public types. */
interface Internals {
  _edition: string | null;
  _featuresResolved: boolean;
  _needsRecursiveFeatureResolution: boolean;
  _resolveFeatures(edition: string): void;
  _resolveFeaturesRecursive(edition: string): unknown;
  _fullyQualifiedObjects: Record<string, unknown>;
}

/**
 * Splits a descriptor into a skeleton and its messages' members: the text `lazyRoot` takes. A build
 * step (infra/plugins.ts) calls it; the result goes into the bundle as two strings.
 */
export const splitDescriptor = (
  descriptor: Record<string, SkeletonNode>,
): { skeleton: Record<string, SkeletonNode>; members: string } => {
  let members = '';
  const split = (node: SkeletonNode): SkeletonNode => {
    const { nested, fields, oneofs, ...rest } = node;
    const out: Record<string, unknown> = { ...rest };
    if (fields !== undefined) {
      const text = JSON.stringify(oneofs === undefined ? { fields } : { fields, oneofs });
      out.fields = [members.length, members.length + text.length];
      members += text;
    } else if (oneofs !== undefined) {
      out.oneofs = oneofs;
    }
    if (nested !== undefined) {
      out.nested = Object.fromEntries(Object.entries(nested).map(([name, child]) => [name, split(child)]));
    }
    return out as SkeletonNode;
  };
  const skeleton = Object.fromEntries(Object.entries(descriptor).map(([name, node]) => [name, split(node)]));
  return { skeleton, members };
};

/** Adds the objects of `skeleton` to `root`, each message's fields read from `members` on first use. */
export const lazyRoot = (
  protobuf: typeof Protobuf,
  root: Protobuf.Root,
  skeleton: Record<string, SkeletonNode>,
  members: string,
): Protobuf.Root => {
  const { Type, Field, MapField, OneOf, Enum, Service, Namespace, util } = protobuf;
  const resolveNamespaceFeatures = (Namespace.prototype as unknown as Internals)._resolveFeaturesRecursive;

  /**
   * Resolves the editions features of a namespace, message, enum or service and, first, of each parent
   * that has not resolved them, with the edition the root's recursive resolution would give each (its
   * own, else its parent's); returns that edition. `Type#setup` resolves the whole root's on first use,
   * 330 messages, their enums and services and every field built so far, about 2 ms of a cold start's
   * first call; a message's generated code reads only its own fields', their oneofs' and the enums
   * they name.
   */
  const resolveFeatures = (object: Protobuf.ReflectionObject, rootEdition: string): string => {
    const inherited = object.parent === null ? rootEdition : resolveFeatures(object.parent, rootEdition);
    const own = object as unknown as Internals;
    const edition = own._edition || inherited;
    if (!own._featuresResolved) own._resolveFeatures(edition);
    return edition;
  };

  /**
   * `Type#setup`, except that only the encoder is generated at once: `decode`, `verify`,
   * `fromObject` and `toObject` are generated on their first call. A call encodes its request and
   * decodes its answer; generating the other four for every message it touches, as `setup` does,
   * costs as much again at the first invocation, and a decoder needs the message's constructor,
   * which a message only ever encoded (a start's task queue, payloads, header) never makes. The Any
   * wrapper keeps protobufjs's own setup.
   */
  const { encoder, decoder, verifier, converter, wrappers, Writer, Reader } = protobuf;
  function setupLazily(this: Protobuf.Type & Internals): Protobuf.Type {
    if ((wrappers as Record<string, unknown>)[this.fullName] !== undefined) {
      return Type.prototype.setup.call(this);
    }
    const root = this.root as unknown as Internals | null;
    const edition = root?._needsRecursiveFeatureResolution ? root._edition || this._edition : null;
    const types = this.fieldsArray.map((field) => field.resolve().resolvedType);
    if (edition) {
      // What the generated code reads: this message's fields (and their oneofs), and the enums they
      // name. The root resolves the rest when something asks it to (`resolveAll`, protobufjs's setup).
      // Oneofs and fields take their message's edition (Type#_resolveFeaturesRecursive), oneofs
      // first, as a field in one reads its features; each resolves once (`_featuresResolved`).
      const own = resolveFeatures(this, edition);
      for (const member of [...this.oneofsArray, ...this.fieldsArray]) {
        (member as unknown as Internals)._resolveFeatures(own);
      }
      for (const type of types) if (type instanceof Enum) resolveFeatures(type, edition);
    }
    const type = this as unknown as Record<string, unknown>;
    const later = (name: string, generate: () => unknown): void => {
      type[name] = function generated(this: unknown, ...args: unknown[]) {
        const made = generate() as (...args: unknown[]) => unknown;
        type[name] = made;
        return made.apply(this, args);
      };
    };
    const decode = () => decoder(this)({ Reader, types, util, C: makeConstructor() });
    const fromObject = () => converter.fromObject(this)({ types, util, C: makeConstructor() });
    // The message's constructor. Making it (Type#ctor's setter, on first use) deletes `decode` and
    // `fromObject`, so that protobufjs sets the message up again; here they are put back instead.
    const makeConstructor = () => {
      const made = this.ctor;
      if (!Object.hasOwn(type, 'decode')) later('decode', decode);
      if (!Object.hasOwn(type, 'fromObject')) later('fromObject', fromObject);
      return made;
    };
    type.encode = encoder(this)({ Writer, types, util });
    later('decode', decode);
    later('verify', () => verifier(this)({ types, util }));
    later('fromObject', fromObject);
    later('toObject', () => converter.toObject(this)({ types, util }));
    return this;
  }

  const defer = (type: Protobuf.Type, [start, end]: readonly [number, number]): void => {
    // Set when the root resolved features before the fields were there: they are resolved as they come.
    let edition: string | undefined;
    const materialize = (): void => {
      delete (type as unknown as Partial<Internals>)._resolveFeaturesRecursive;
      for (const key of ['fields', 'oneofs']) {
        Object.defineProperty(type, key, {
          value: key === 'fields' ? {} : undefined,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      const { fields, oneofs } = JSON.parse(members.slice(start, end)) as Members;
      for (const [name, field] of Object.entries(fields)) {
        type.add(
          field.keyType === undefined
            ? Field.fromJSON(name, field)
            : MapField.fromJSON(name, field as Protobuf.IMapField),
        );
      }
      for (const [name, oneof] of Object.entries(oneofs ?? {})) type.add(OneOf.fromJSON(name, oneof));
      // addJSON adds a message's fields before the message joins the root, which therefore never
      // indexes them by full name; neither does this (lookups find them through their message).
      const index = (root as unknown as Internals)._fullyQualifiedObjects;
      for (const field of type.fieldsArray) delete index[field.fullName];
      if (edition !== undefined) {
        for (const oneof of type.oneofsArray) (oneof as unknown as Internals)._resolveFeatures(edition);
        for (const field of type.fieldsArray) (field as unknown as Internals)._resolveFeatures(edition);
      }
    };
    for (const key of ['fields', 'oneofs'] as const) {
      Object.defineProperty(type, key, {
        get() {
          materialize();
          return type[key];
        },
        set(value: unknown) {
          materialize();
          (type as unknown as Record<string, unknown>)[key] = value;
        },
        enumerable: true,
        configurable: true,
      });
    }
    // Type#_resolveFeaturesRecursive, without reading fields that are not there yet.
    Object.defineProperty(type, '_resolveFeaturesRecursive', {
      value(this: Internals, parentEdition: string) {
        if (!this._needsRecursiveFeatureResolution) return this;
        edition = this._edition ?? parentEdition;
        return resolveNamespaceFeatures.call(this, edition);
      },
      writable: true,
      enumerable: false,
      configurable: true,
    });
  };

  /**
   * `Service#create`, except that each RPC's request and response constructors are made on its first
   * call rather than for every RPC at once: making one generates code and reads the message's fields.
   * A `Connection` creates its services' stubs on connect, with about 70 RPCs, and calls a few.
   */
  const { rpc } = protobuf;
  function createLazily(
    this: Protobuf.Service,
    rpcImpl: Protobuf.RPCImpl,
    requestDelimited?: boolean,
    responseDelimited?: boolean,
  ): Protobuf.rpc.Service {
    const stub = new rpc.Service(rpcImpl, requestDelimited, responseDelimited);
    const rpcCall = rpc.Service.prototype.rpcCall as unknown as (...args: unknown[]) => unknown;
    for (const method of this.methodsArray) {
      const methodName = util.lcFirst(method.resolve().name).replace(/[^$\w_]/g, '');
      (stub as unknown as Record<string, unknown>)[methodName] = function rpcMethod(
        this: Protobuf.rpc.Service,
        request: unknown,
        callback: unknown,
      ) {
        const { resolvedRequestType, resolvedResponseType } = method;
        return rpcCall.call(
          this,
          method,
          resolvedRequestType?.ctor,
          resolvedResponseType?.ctor,
          request,
          callback,
        );
      };
    }
    return stub;
  }

  const build = (name: string, node: SkeletonNode): Protobuf.ReflectionObject => {
    if (node.fields !== undefined) {
      const { fields, nested, ...rest } = node;
      const type = Type.fromJSON(name, { ...rest, fields: {} } as Protobuf.IType);
      for (const [child, value] of Object.entries(nested ?? {})) type.add(build(child, value));
      if (Array.isArray(fields)) defer(type, fields as [number, number]);
      type.setup = setupLazily;
      return type;
    }
    if (node.values !== undefined) return Enum.fromJSON(name, node as unknown as Protobuf.IEnum);
    if (node.methods !== undefined) {
      const service = Service.fromJSON(name, node as unknown as Protobuf.IService);
      service.create = createLazily;
      return service;
    }
    if (node.id !== undefined) return Field.fromJSON(name, node as unknown as Protobuf.IField);
    const namespace = Namespace.fromJSON(name, { options: node.options });
    for (const [child, value] of Object.entries(node.nested ?? {})) namespace.add(build(child, value));
    return namespace;
  };

  for (const [name, node] of Object.entries(skeleton)) root.add(build(name, node));
  return root;
};
