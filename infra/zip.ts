import { readdir, readFile, writeFile } from 'node:fs/promises';
import { zipSync } from 'fflate';

/**
 * Lambda deployment packages: dist/<name>.zip holds the function's bundle as index.mjs at its root, so
 * the handler is `index.handler`, and the chunks it imports lazily (chunks/*.mjs, such as the AWS SDK
 * for a secret) beside it. serverless.yml deploys these zips as they are (`package.artifact`), and
 * CDK, SAM or Terraform can deploy the same files.
 *
 * The zips are deterministic: a fixed timestamp and fixed Unix permissions (readable by Lambda's runtime
 * user), so the same bundle always gives the same bytes. `serverless deploy` then recognizes an unchanged
 * service and skips it, and a release rebuilt from its commit is the release that shipped.
 *
 * Source maps stay out. Each is about four times its bundle, and using one needs `--enable-source-maps`,
 * which slows every cold start and error stack for the rare case of reading a minified stack trace; that
 * trace can be mapped offline with dist/<name>/index.mjs.map from the same build instead.
 */

// Zip entries carry local time (MS-DOS format, from 1980): local midnight on 1980-01-01 gives the same
// bytes in every time zone.
const FIXED_TIME = new Date(1980, 0, 1);
const UNIX = 3;
const REGULAR_FILE_0644 = 0o100644 << 16;

/** Zips a bundle's files (path in the package → bytes) into a Lambda deployment package, in path order. */
export const lambdaZip = (files: Readonly<Record<string, Uint8Array>>): Uint8Array =>
  zipSync(
    Object.fromEntries(
      Object.keys(files)
        .sort()
        .map((path) => [
          path,
          [files[path] as Uint8Array, { level: 9, mtime: FIXED_TIME, os: UNIX, attrs: REGULAR_FILE_0644 }],
        ]),
    ),
    { level: 9 },
  );

/** The files of dist/<name>/ a function runs from: index.mjs and its chunks; no maps, no build reports. */
const packageFiles = async (name: string): Promise<Record<string, Uint8Array>> => {
  const chunks = await readdir(`dist/${name}/chunks`).catch(() => [] as string[]);
  const paths = [
    'index.mjs',
    ...chunks.filter((file) => file.endsWith('.mjs')).map((file) => `chunks/${file}`),
  ];
  return Object.fromEntries(
    await Promise.all(paths.map(async (path) => [path, await readFile(`dist/${name}/${path}`)] as const)),
  );
};

/** Writes dist/<name>.zip for each function built into dist/<name>/; returns their sizes in bytes. */
export const zipFunctions = async (names: readonly string[]): Promise<Record<string, number>> => {
  const sizes: Record<string, number> = {};
  for (const name of names) {
    const zip = lambdaZip(await packageFiles(name));
    await writeFile(`dist/${name}.zip`, zip);
    sizes[name] = zip.byteLength;
    console.log(`dist/${name}.zip  ${(zip.byteLength / 1024).toFixed(0)} KiB`);
  }
  return sizes;
};
