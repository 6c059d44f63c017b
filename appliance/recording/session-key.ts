import type { Identity } from '../identity/types.js';

/**
 * Requests with the same key share a recording session: issuer + grant + sub, plus run_id and
 * run_attempt when the token carries them (so a re-run gets its own session). A JSON array
 * rather than a joined string keeps sub "a|b" apart from sub "a" + run "b".
 */
export function keyOf(identity: Identity): string {
  const parts: unknown[] = [identity.issuer, identity.grant, identity.sub];
  for (const claim of ['run_id', 'run_attempt'] as const) {
    const v = identity.claims[claim];
    if (v !== undefined && v !== null) parts.push([claim, String(v)]);
  }
  return JSON.stringify(parts);
}
