import { randomUUID } from 'node:crypto';
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
    if (v === undefined || v === null) continue;
    // Strings and numbers as text, as keys have always been built (a run_attempt of 2 or "2" is
    // one run, and keys held in the login state stay valid). Anything else (an object, an array,
    // a boolean) goes in as JSON, not String(v): every object was "[object Object]", so two jobs
    // with different object claims shared one recording session. As a JSON value it cannot equal
    // a string part, and its keys are sorted so equal claims give equal keys.
    parts.push([claim, typeof v === 'string' || typeof v === 'number' ? String(v) : v]);
  }
  try {
    return JSON.stringify(parts, sortedKeys);
  } catch {
    // Nested past the serializer's stack (a 16 KB token can nest thousands of arrays): a key of
    // its own, so this identity shares a session with no other. Failing closed costs only that
    // its requests are not grouped with a re-login's.
    return JSON.stringify([...parts.slice(0, 3), ['unencodable claim', randomUUID()]]);
  }
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}
