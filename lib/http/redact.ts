import { CREDENTIAL_HEADERS, type HttpEvent } from '#lib/http/request.ts';
import type { Routes } from '#lib/routes/model.ts';
import { signatureHeaderOf } from './signatureHeader.ts';

const REDACTED = '[redacted]';

type Headers = Record<string, unknown> | null | undefined;

const redactHeaders = <T extends Headers>(headers: T, hidden: ReadonlySet<string>): T => {
  if (headers === null || headers === undefined) return headers;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, hidden.has(name.toLowerCase()) ? REDACTED : value]),
  ) as T;
};

/**
 * An API Gateway event fit for a log line: credential-bearing headers (CREDENTIAL_HEADERS, and every
 * route's signature header) and payload 2.0's cookies replaced by "[redacted]". Bodies are left as they
 * are: logging events is a debugging switch, and the body is what it is for.
 */
export const redactHttpEvent = (routes: Routes): ((event: HttpEvent) => HttpEvent) => {
  const hidden = new Set(CREDENTIAL_HEADERS);
  for (const { route } of routes.http) {
    const header = signatureHeaderOf(route.http?.signature);
    if (header !== undefined) hidden.add(header);
  }
  return (event) => {
    const redacted = { ...event, headers: redactHeaders(event.headers, hidden) } as HttpEvent;
    if ('multiValueHeaders' in event) {
      (redacted as { multiValueHeaders: unknown }).multiValueHeaders = redactHeaders(
        event.multiValueHeaders,
        hidden,
      );
    }
    if ('cookies' in event && Array.isArray(event.cookies)) {
      (redacted as { cookies: string[] }).cookies = event.cookies.map(() => REDACTED);
    }
    return redacted;
  };
};
