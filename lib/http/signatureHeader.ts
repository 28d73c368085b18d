import type { Signature } from '#lib/routes/schema.ts';

const DEFAULT_HEADERS: Readonly<Record<Signature['scheme'], string | undefined>> = {
  github: 'x-hub-signature-256',
  stripe: 'stripe-signature',
  'hmac-sha256': undefined,
};

/** The lower-cased header that carries a route's webhook signature; undefined without a signature. */
export const signatureHeaderOf = (signature: Signature | undefined): string | undefined =>
  signature === undefined
    ? undefined
    : (signature.header?.toLowerCase() ?? DEFAULT_HEADERS[signature.scheme]);
