import type { Identity } from './types.js';

// An identity object is shared by every request of its job (the verdict cache and the session
// token's record hand out the same one, and it is never changed), so its key is built once.
const keys = new WeakMap<Identity, string>();

/**
 * Requests with the same key share a recording session. A JSON array (not a joined string)
 * keeps e.g. sub "a|b" + run "c" apart from sub "a" + run "b|c". run_id/run_attempt split
 * one workflow's re-runs into separate sessions when the issuer provides them.
 */
export function sessionKey(identity: Identity): string {
  let key = keys.get(identity);
  if (key === undefined) {
    key = keyOf(identity);
    keys.set(identity, key);
  }
  return key;
}

function keyOf(identity: Identity): string {
  const parts: unknown[] = [identity.issuer, identity.grant, identity.sub];
  for (const claim of ['run_id', 'run_attempt'] as const) {
    const v = identity.claims[claim];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- run_id/run_attempt are strings or numbers from the issuer
    if (v !== undefined && v !== null) parts.push([claim, String(v)]);
  }
  return JSON.stringify(parts);
}
