import type { TLSConfig } from '@temporalio/client';

/** What the credentials secret says. Its values override the environment's. */
export interface TemporalCredentials {
  readonly apiKey: string | undefined;
  /** Client certificate (mTLS) and server verification settings, when the secret has any. */
  readonly tls: TLSConfig | undefined;
  readonly address: string | undefined;
  readonly namespace: string | undefined;
}

/**
 * Reading failed. The message never quotes the secret: a parse error names fields and rules only,
 * and carries no cause (JSON.parse and zod quote the input they choke on).
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}
