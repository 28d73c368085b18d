import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { lambdaZip } from '../../infra/zip.ts';

const bundle = new TextEncoder().encode('export const handler = async () => "ok";\n'.repeat(50));

/** The external attributes of the first central directory entry (APPNOTE 4.3.12). */
const centralEntry = (zip: Uint8Array) => {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let offset = zip.byteLength - 22; offset >= 0; offset--) {
    if (view.getUint32(offset, true) !== 0x06054b50) continue;
    const central = view.getUint32(offset + 16, true);
    return {
      madeBy: view.getUint8(central + 5),
      externalAttributes: view.getUint32(central + 38, true),
      dosDate: view.getUint16(central + 14, true),
    };
  }
  throw new Error('no end of central directory record');
};

describe('lambdaZip', () => {
  it('holds the bundle alone, as index.mjs at the root, compressed', () => {
    const zip = lambdaZip(bundle);

    const entries = unzipSync(zip);
    assert.deepEqual(Object.keys(entries), ['index.mjs']);
    assert.deepEqual(entries['index.mjs'], bundle);
    assert.ok(zip.byteLength < bundle.byteLength / 4);
  });

  it('gives the same bytes for the same bundle', () => {
    assert.deepEqual(lambdaZip(bundle), lambdaZip(bundle));
    assert.notDeepEqual(lambdaZip(bundle), lambdaZip(bundle.subarray(1)));
  });

  it('marks the file as a Unix file readable by everyone, dated 1980-01-01', () => {
    const entry = centralEntry(lambdaZip(bundle));
    assert.equal(entry.madeBy, 3);
    assert.equal(entry.externalAttributes >>> 16, 0o100644);
    assert.equal(entry.dosDate, (0 << 9) | (1 << 5) | 1);
  });
});
