import type { TLSConfig } from '@temporalio/client';
import * as z from 'zod/mini';
import { CredentialsError, type TemporalCredentials } from './credentialsTypes.ts';

/*
 * The credentials secret's format and its validation, apart from credentials.ts so that zod loads
 * with the first secret read (an `await import()`), never in a function without TEMPORAL_SECRET_ID.
 */

const text = z.string().check(z.minLength(1));

/** `{"apiKey"}` or `{"tlsCert", "tlsKey"}`, with optional `tlsCa`, `serverName`, `address` and `namespace`. */
const SecretSchema = z
  .strictObject({
    apiKey: z.optional(text),
    tlsCert: z.optional(text),
    tlsKey: z.optional(text),
    tlsCa: z.optional(text),
    serverName: z.optional(text),
    address: z.optional(text),
    namespace: z.optional(text),
  })
  .check(
    z.refine((secret) => (secret.apiKey === undefined) !== (secret.tlsCert === undefined), {
      message: 'needs either apiKey, or tlsCert and tlsKey',
    }),
    z.refine((secret) => (secret.tlsCert === undefined) === (secret.tlsKey === undefined), {
      message: 'tlsCert and tlsKey go together',
    }),
  );

/** The secret's value (a string, or bytes for a binary secret) as credentials. */
export const parseCredentials = (raw: unknown, secretId: string): TemporalCredentials => {
  const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString() : '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialsError(`The Temporal credentials secret ${secretId} is not JSON`);
  }
  const parsed = SecretSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'custom' ? issue.message : `${issue.path.join('.') || 'the secret'}: ${issue.code}`,
    );
    throw new CredentialsError(
      `The Temporal credentials secret ${secretId} is invalid: ${problems.join('; ')}`,
    );
  }
  const { apiKey, tlsCert, tlsKey, tlsCa, serverName, address, namespace } = parsed.data;
  const hasTls = tlsCert !== undefined || tlsCa !== undefined || serverName !== undefined;
  const tls: TLSConfig | undefined = hasTls
    ? {
        ...(tlsCert && tlsKey && { clientCertPair: { crt: Buffer.from(tlsCert), key: Buffer.from(tlsKey) } }),
        ...(tlsCa && { serverRootCACertificate: Buffer.from(tlsCa) }),
        ...(serverName && { serverNameOverride: serverName }),
      }
    : undefined;
  return { apiKey, tls, address, namespace };
};
