import { isPermanent, isTriggerError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';

/**
 * Logs a failed event once, with its id and whether retrying can help, so an operator can tell bad
 * input (permanent: it will end in the DLQ) from an outage (transient: it will be retried).
 * Only the error's name, message and cause chain are logged: never the payload.
 */
export const logFailure = (error: unknown, eventId: string, level: 'warn' | 'error' = 'error'): void => {
  const permanent = isPermanent(error);
  logger[level](permanent ? 'Event failed permanently' : 'Event failed, will be retried', {
    eventId,
    permanent,
    reason: isTriggerError(error) ? error.name : 'UnexpectedError',
    error: error instanceof Error ? error : new Error(String(error)),
  });
};
