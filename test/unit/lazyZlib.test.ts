import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { REQUIRE_SHIM } from '../../infra/build.ts';
import { lazyZlib } from '../../infra/plugins.ts';

const run = promisify(execFile);

/** What a process that imports the bundled filter sees: zlib loaded or not, and a gzip round trip. */
const PROBE = `
const loaded = () => process.moduleLoadList.includes('NativeModule zlib');
const { CompressionFilter } = await import(process.argv[1]);
const atImport = loaded();
const message = Buffer.from('a message worth compressing, '.repeat(20));
const sender = new CompressionFilter({ 'grpc.default_compression_algorithm': 2 }, {});
const framed = await sender.sendMessage(Promise.resolve({ message, flags: 0 }));
const receiver = new CompressionFilter({}, {});
const metadata = { get: (key) => (key === 'grpc-encoding' ? ['gzip'] : []), remove() {} };
receiver.receiveMetadata(metadata);
const received = await receiver.receiveMessage(Promise.resolve(framed.message));
console.log(JSON.stringify({
  atImport,
  afterUse: loaded(),
  compressedFlag: framed.message[0],
  framedBytes: framed.message.length,
  roundTrip: Buffer.from(received).equals(message),
}));
`;

describe('lazyZlib', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lazy-zlib-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('leaves zlib unloaded at import, and grpc-js compresses and decompresses with it on first use', async () => {
    const outfile = join(dir, 'filter.mjs');
    await build({
      stdin: {
        contents: "export { CompressionFilter } from '@grpc/grpc-js/build/src/compression-filter.js';",
        resolveDir: process.cwd(),
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      banner: { js: REQUIRE_SHIM },
      outfile,
      plugins: [lazyZlib()],
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE, outfile]);
    const seen = JSON.parse(stdout);
    assert.equal(seen.atImport, false, 'zlib is not loaded by the import');
    assert.equal(seen.afterUse, true);
    assert.equal(seen.compressedFlag, 1, 'the message went out compressed');
    assert.ok(seen.framedBytes < 200, `${seen.framedBytes} bytes framed for 580`);
    assert.equal(seen.roundTrip, true);
  });

  it('fails the build when the filter no longer imports zlib the way it replaces', async () => {
    const fake = join(dir, 'node_modules', '@grpc', 'grpc-js', 'build', 'src');
    await mkdir(fake, { recursive: true });
    await writeFile(join(fake, 'compression-filter.js'), 'const zlib = require("node:zlib");\n');
    await assert.rejects(
      build({
        entryPoints: [join(fake, 'compression-filter.js')],
        bundle: true,
        platform: 'node',
        write: false,
        plugins: [lazyZlib()],
        logLevel: 'silent',
      }),
      /lazy-zlib: .*no longer has/,
    );
  });
});
