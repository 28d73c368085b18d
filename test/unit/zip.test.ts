import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { lambdaZip } from '../../infra/zip.ts';

const bundle = new TextEncoder().encode('export const handler = async () => "ok";\n'.repeat(50));
const chunk = new TextEncoder().encode('export const secret = async () => "lazy";\n'.repeat(20));
const files = { 'index.mjs': bundle };

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
  it('holds the bundle as index.mjs at the root, compressed', () => {
    const zip = lambdaZip(files);

    const entries = unzipSync(zip);
    assert.deepEqual(Object.keys(entries), ['index.mjs']);
    assert.deepEqual(entries['index.mjs'], bundle);
    assert.ok(zip.byteLength < bundle.byteLength / 4);
  });

  it('keeps lazily imported chunks at their paths beside index.mjs', () => {
    const entries = unzipSync(lambdaZip({ 'index.mjs': bundle, 'chunks/secrets-AB12.mjs': chunk }));
    assert.deepEqual(Object.keys(entries), ['chunks/secrets-AB12.mjs', 'index.mjs']);
    assert.deepEqual(entries['chunks/secrets-AB12.mjs'], chunk);
  });

  it('gives the same bytes for the same files, whatever order they come in', () => {
    assert.deepEqual(lambdaZip(files), lambdaZip(files));
    assert.notDeepEqual(lambdaZip(files), lambdaZip({ 'index.mjs': bundle.subarray(1) }));
    assert.deepEqual(
      lambdaZip({ 'index.mjs': bundle, 'chunks/a.mjs': chunk }),
      lambdaZip({ 'chunks/a.mjs': chunk, 'index.mjs': bundle }),
    );
  });

  it('marks the file as a Unix file readable by everyone, dated 1980-01-01', () => {
    const entry = centralEntry(lambdaZip(files));
    assert.equal(entry.madeBy, 3);
    assert.equal(entry.externalAttributes >>> 16, 0o100644);
    assert.equal(entry.dosDate, (0 << 9) | (1 << 5) | 1);
  });
});
