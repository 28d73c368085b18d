/**
 * The `wait` preference of a Prefer header (RFC 7240, section 4.3): `Prefer: wait=10`, possibly among
 * other preferences (`respond-async, wait=10`) and with a quoted value. Undefined when absent or not
 * a whole number of seconds; a preference the server cannot honour is ignored, as the RFC says.
 */
export const preferredWaitSeconds = (header: string | undefined): number | undefined => {
  for (const preference of (header ?? '').split(',')) {
    const [token = '', raw = ''] = preference.split(';', 1)[0]?.split('=', 2) ?? [];
    if (token.trim().toLowerCase() !== 'wait') continue;
    const value = raw.trim().replace(/^"(.*)"$/, '$1');
    if (/^\d+$/.test(value)) return Number(value);
  }
  return undefined;
};
