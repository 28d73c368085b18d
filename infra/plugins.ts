import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import {
  descriptorModulePath,
  type RpcFilter,
  readDescriptor,
  splitForBundle,
  trimDescriptor,
} from './protoDescriptor.ts';

/** Builds the root in the bundle: lib/temporal/protoRoot.ts. */
const PROTO_ROOT_MODULE = join(import.meta.dirname, '..', 'lib', 'temporal', 'protoRoot.ts');

/** What a bundle kept of the descriptor, written beside it as proto.json. */
export interface ProtoSummary {
  /** RPCs kept, as `<service>.<Method>`. */
  readonly rpcs: readonly string[];
  /** Types, enums, services and RPCs kept, of the total. */
  readonly kept: number;
  readonly total: number;
  /** Size and hash of the descriptor's JSON: two bundles with the same hash carry the same descriptor. */
  readonly bytes: number;
  readonly sha256: string;
}

const DESCRIPTOR_MODULE = /[\\/]@temporalio[\\/]proto[\\/]protos[\\/]json-module\.js$/;

/**
 * The source text of every file `options` bundles, found by bundling it once without output and with
 * @temporalio/proto's descriptor left out (its RPC names would otherwise all count as used).
 */
const bundledSources = async (options: BuildOptions, self: string): Promise<string[]> => {
  const withoutDescriptor: Plugin = {
    name: 'without-descriptor',
    setup(pass) {
      pass.onLoad({ filter: DESCRIPTOR_MODULE }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    },
  };
  const { metafile } = await build({
    ...options,
    plugins: [withoutDescriptor, ...(options.plugins ?? []).filter(({ name }) => name !== self)],
    write: false,
    minify: false,
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
  });
  const files = Object.keys(metafile.inputs).filter(
    (path) => existsSync(path) && !DESCRIPTOR_MODULE.test(path),
  );
  const stdin = options.stdin?.contents === undefined ? [] : [String(options.stdin.contents)];
  return [...stdin, ...files.map((path) => readFileSync(path, 'utf8'))];
};

/**
 * Replaces @temporalio/proto's descriptor module with a trimmed descriptor (protoDescriptor.ts): the
 * services the client constructs, with only the RPCs whose name (`startWorkflowExecution`) appears
 * somewhere in the code being bundled, which is every RPC that code can call, and what those
 * reference. @temporalio/client names each RPC it calls, so every client feature keeps working; an
 * RPC that no bundled code names, such as a worker's polls, is dropped.
 *
 * The descriptor goes in as two strings: its skeleton (namespaces, messages without their fields,
 * enums, services), handed to `JSON.parse`, which V8 runs much faster than it compiles and runs the
 * equivalent object literal (https://v8.dev/blog/cost-of-javascript-2019#json), and each message's
 * fields, parsed when the message is first used (lib/temporal/protoRoot.ts). The module keeps the
 * original's contract: the same protobufjs root, registered under the same name.
 */
export const trimmedTemporalProto = (
  options: {
    onTrim?: (summary: ProtoSummary) => void;
    /** Which RPCs to keep instead of those named in the bundle (the bench compares cuts with it). */
    keepRpc?: RpcFilter;
    /** Every message's fields built at import with `Root#addJSON`, as before this step (the bench's cuts). */
    eagerFields?: boolean;
  } = {},
): Plugin => ({
  name: 'trimmed-temporal-proto',
  setup(pass) {
    const path = descriptorModulePath();
    let contents = '';
    pass.onStart(async () => {
      let keepRpc = options.keepRpc;
      if (keepRpc === undefined) {
        const sources = await bundledSources(pass.initialOptions, 'trimmed-temporal-proto');
        keepRpc = (rpc: string) => sources.some((source) => new RegExp(`\\b${rpc}\\b`).test(source));
      }
      const { descriptor, rpcs, kept, total } = trimDescriptor(readDescriptor(path), keepRpc);
      const json = JSON.stringify(descriptor);
      const { skeleton, members } = splitForBundle(descriptor);
      const root = '$protobuf.roots["__temporal"] || ($protobuf.roots["__temporal"] = new $protobuf.Root())';
      contents = [
        '"use strict";',
        'var $protobuf = require("protobufjs/light");',
        ...(options.eagerFields
          ? [`var $root = (${root}).addJSON(JSON.parse(${JSON.stringify(json)}));`]
          : [
              `var { lazyRoot } = require(${JSON.stringify(PROTO_ROOT_MODULE)});`,
              `var $root = lazyRoot($protobuf, ${root},`,
              `  JSON.parse(${JSON.stringify(JSON.stringify(skeleton))}),`,
              `  ${JSON.stringify(members)});`,
            ]),
        'module.exports = $root;',
      ].join('\n');
      const sha256 = createHash('sha256').update(json).digest('hex');
      options.onTrim?.({ rpcs, kept, total, bytes: Buffer.byteLength(json), sha256 });
    });
    pass.onLoad({ filter: DESCRIPTOR_MODULE }, (args) =>
      args.path === path ? { contents, loader: 'js', resolveDir: dirname(path) } : undefined,
    );
  },
});

const versionOf = (file: string): string => {
  const marker = `${sep}node_modules${sep}protobufjs${sep}`;
  const packageDir = file.slice(0, file.lastIndexOf(marker) + marker.length);
  return (JSON.parse(readFileSync(`${packageDir}package.json`, 'utf8')) as { version: string }).version;
};

/**
 * Bundles one copy of protobufjs where npm installed several copies of the same version (today
 * @temporalio/proto and @temporalio/common each nest their own). Every import of it resolves to the
 * copy @temporalio/proto uses, when the two copies have the same version.
 */
export const singleProtobufjs = (): Plugin => ({
  name: 'single-protobufjs',
  setup(pass) {
    const anchor = dirname(descriptorModulePath());
    pass.onResolve({ filter: /^protobufjs(\/.*)?$/ }, async (args) => {
      if (args.pluginData === 'single-protobufjs') return undefined;
      const options = { kind: args.kind, pluginData: 'single-protobufjs' };
      const [own, shared] = await Promise.all([
        pass.resolve(args.path, { ...options, resolveDir: args.resolveDir }),
        pass.resolve(args.path, { ...options, resolveDir: anchor }),
      ]);
      if (own.errors.length > 0 || shared.errors.length > 0) return undefined;
      return { path: versionOf(own.path) === versionOf(shared.path) ? shared.path : own.path };
    });
  },
});

/**
 * Modules a Temporal client never runs, replaced at build time:
 * - @grpc/proto-loader, which grpc-js loads lazily only to serve channelz and ORCA from a gRPC server
 *   and which then reads .proto files from its package folder, absent from a bundle: it is replaced
 *   by a module that throws, and drops a second protobufjs (about 110 KB) from the bundle;
 * - grpc-js's server, server credentials and server interceptors (about 50 KB), which its index
 *   requires only to re-export them: replaced by an empty module, so `grpc.Server` is undefined.
 */
export const clientOnlyGrpc = (): Plugin => ({
  name: 'client-only-grpc',
  setup(pass) {
    pass.onResolve({ filter: /^@grpc\/proto-loader$/ }, (args) => ({
      path: args.path,
      namespace: 'throwing',
    }));
    pass.onLoad({ filter: /.*/, namespace: 'throwing' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of this bundle`)});`,
      loader: 'js',
    }));
    const grpcIndex = /[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/](index|experimental)\.js$/;
    pass.onResolve({ filter: /^\.\/server(-credentials|-interceptors)?$/ }, (args) =>
      grpcIndex.test(args.importer) ? { path: args.path, namespace: 'empty' } : undefined,
    );
    pass.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
});

/** grpc-js's compression filter, the one module of a client bundle that loads node:zlib at import. */
const COMPRESSION_FILTER = /[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]compression-filter\.js$/;
const ZLIB_IMPORT = 'const zlib = require("zlib");';

/**
 * Loads node:zlib on first use in grpc-js's compression filter instead of at import. A channel uses
 * zlib only for a compressed message (a client that asks for compression, or a server that
 * compresses its answers), and loading it costs a cold start about 7 ms (alternating imports of the
 * http bundle with and without it). The filter reads zlib's functions as properties of its module
 * object, which a Proxy gives on first read. The build fails if the import it replaces is not there.
 */
export const lazyZlib = (): Plugin => ({
  name: 'lazy-zlib',
  setup(pass) {
    pass.onLoad({ filter: COMPRESSION_FILTER }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(ZLIB_IMPORT)) {
        throw new Error(`lazy-zlib: ${args.path} no longer has \`${ZLIB_IMPORT}\``);
      }
      const lazy =
        'let zlibModule; const zlib = new Proxy({}, { get: (_, name) => (zlibModule ??= require("zlib"))[name] });';
      return { contents: source.replace(ZLIB_IMPORT, lazy), loader: 'js' };
    });
  },
});

/** The project's routes.json, which lib/routes/load.ts imports as the bundled routes. */
export const PROJECT_ROUTES_FILE = join(import.meta.dirname, '..', 'routes.json');

/** Where a bundle that took `bundledRoutes` lists the routes in its metafile's inputs. */
export const BUNDLED_ROUTES_INPUT = `bundled-routes:${PROJECT_ROUTES_FILE}`;

/**
 * Bundles `text`, the routes file the build was given, wherever the code imports the project's
 * routes.json (lib/routes/load.ts): `npm run build -- --routes routes.prod.json` bundles that file into
 * every function, from the one text that was validated and that dist/routes.json holds. The bundle's
 * metafile then lists BUNDLED_ROUTES_INPUT, which the build checks.
 */
export const bundledRoutes = (text: string): Plugin => ({
  name: 'bundled-routes',
  setup(pass) {
    pass.onResolve({ filter: /(^|[\\/])routes\.json$/ }, (args) =>
      resolve(args.resolveDir, args.path) === PROJECT_ROUTES_FILE
        ? { path: PROJECT_ROUTES_FILE, namespace: 'bundled-routes' }
        : undefined,
    );
    pass.onLoad({ filter: /.*/, namespace: 'bundled-routes' }, () => ({ contents: text, loader: 'json' }));
  },
});

/** The specifier lib/temporal/client.ts imports the project's client module by (package.json "imports"). */
export const CLIENT_MODULE_SPECIFIER = '#temporal-client-module';

/**
 * Bundles `file`, the project's client module (its payload converter, failure converter, payload codecs
 * and WorkflowClient interceptors), where lib/temporal/client.ts imports `#temporal-client-module`,
 * in place of lib/temporal/noClientModule.ts: `npm run build -- --client-module <file>`.
 */
export const clientModule = (file: string): Plugin => ({
  name: 'client-module',
  setup(pass) {
    pass.onResolve({ filter: /^#temporal-client-module$/ }, () => ({ path: resolve(file) }));
  },
});
