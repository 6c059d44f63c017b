import type { Identity } from './types.js';

/**
 * Requests with the same key share a recording session. A JSON array (not a joined string)
 * keeps e.g. sub "a|b" + run "c" apart from sub "a" + run "b|c". run_id/run_attempt split
 * one workflow's re-runs into separate sessions when the issuer provides them.
 */
export function sessionKey(identity: Identity): string {
  const parts: unknown[] = [identity.issuer, identity.grant, identity.sub];
  for (const claim of ['run_id', 'run_attempt'] as const) {
    const v = identity.claims[claim];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- run_id/run_attempt are strings or numbers from the issuer
    if (v !== undefined && v !== null) parts.push([claim, String(v)]);
  }
  return JSON.stringify(parts);
}
