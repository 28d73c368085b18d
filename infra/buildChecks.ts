import type { Metafile } from 'esbuild';

/**
 * Proof that each build step that relies on a dependency's internals took effect. Each step fails
 * quietly when a release of the dependency changes the shape it relies on (nothing matches, nothing is
 * replaced, the bundle still works but loses what the step bought), so the build checks the outcome:
 *
 * - clientOnlyGrpc (infra/plugins.ts): grpc-js's server modules were replaced by empty ones, and no
 *   file of @grpc/proto-loader was bundled;
 * - singleProtobufjs: one copy of protobufjs in the bundle;
 * - compileModulesEagerly (infra/eagerModules.ts): esbuild's CommonJS factories were found and wrapped.
 *
 * The trimmed protobuf descriptor checks itself (infra/protoDescriptor.ts: every kept message encodes
 * as before), and the bundled routes file is checked where it is bundled (infra/build.ts).
 */
export const buildStepProblems = (name: string, metafile: Metafile, wrappedFactories: number): string[] => {
  const inputs = Object.keys(metafile.inputs);
  const problems: string[] = [];
  const grpcBundled = inputs.some((input) => input.includes('node_modules/@grpc/grpc-js/'));
  if (grpcBundled) {
    const servers = inputs.filter((input) => /@grpc\/grpc-js\/build\/src\/server(-\w+)?\.js$/.test(input));
    const emptied = inputs.filter((input) => input.startsWith('empty:'));
    if (servers.length > 0 || emptied.length === 0) {
      problems.push(
        `${name}: client-only-grpc replaced nothing: grpc-js's server modules are bundled (${servers.join(', ') || 'none replaced'})`,
      );
    }
    const loader = inputs.filter((input) => input.includes('node_modules/@grpc/proto-loader/'));
    if (loader.length > 0)
      problems.push(`${name}: client-only-grpc left @grpc/proto-loader in (${loader[0]})`);
  }
  const protobufjsCopies = new Set(
    inputs.flatMap((input) => /^(.*node_modules\/protobufjs)\//.exec(input)?.[1] ?? []),
  );
  if (protobufjsCopies.size > 1) {
    problems.push(
      `${name}: single-protobufjs left ${protobufjsCopies.size} copies of protobufjs (${[...protobufjsCopies].join(', ')})`,
    );
  }
  if (wrappedFactories === 0) {
    problems.push(
      `${name}: eager compilation wrapped no module factories: esbuild's __commonJS helper was not recognised`,
    );
  }
  return problems;
};
