import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger for every function. Service name and level follow Powertools'
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL. Payload bodies and secrets are never logged.
 */
export const logger = new Logger({ serviceName: 'temporal-triggers' });
