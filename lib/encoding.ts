import { MalformedJsonError } from '#lib/errors.ts';

/*
 * Decoding what the sources hand over as text: JSON payloads, and URL-encoded components.
 */

/**
 * Parses a payload that must be JSON (a request body, a message, a record's data). One that is not can
 * never start a workflow: a permanent MalformedJsonError saying `<subject> is not valid JSON`, with no
 * `cause`: JSON.parse's message quotes the text, which must never reach a log.
 */
export const parseJson = (text: string, subject: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedJsonError(`${subject} is not valid JSON`);
  }
};

/**
 * A URL-encoded component as an ALB passes a query and S3 an object key: `+` for a space, percent
 * escapes. One that does not decode is kept as it came.
 */
export const decodeUrlComponent = (text: string): string => {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
};
