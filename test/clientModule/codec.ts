import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;

/** The encoding an encrypted payload carries, as in Temporal's encryption sample. */
export const ENCRYPTED = 'binary/encrypted';
/** A fixed test key: both sides of the test, the bundled functions and the worker, use it. */
const KEY = Buffer.alloc(32, 7);

const encoder = new TextEncoder();

/**
 * AES-256-GCM over each whole payload (its metadata and data, serialised), as Temporal's encryption
 * sample does: what the server stores says only `binary/encrypted`.
 */
export class EncryptingCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', KEY, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: encoder.encode(ENCRYPTED) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = new TextDecoder().decode(payload.metadata?.encoding ?? new Uint8Array());
      if (encoding !== ENCRYPTED || payload.data == null) return payload;
      const data = Buffer.from(payload.data);
      const decipher = createDecipheriv('aes-256-gcm', KEY, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
