// Where a fleet's objects live in the sink, under recording.sink.prefix (every appliance of a
// fleet ships to the same bucket and prefix; session ids are unique across machines):
//   <id>.har, <id>.har.sig          the recording and its detached signature (names the kid)
//   keys/<kid>.jwk                  each appliance's public signing key
//   index/YYYY/MM/DD/<id>.json      one compact record per session, by the UTC day it opened
// Listing `index/2026/12/07/` reads that day's records and nothing else.
import { isSessionId } from '../recording/journal/index.js';

export interface SinkPrefix {
  readonly prefix: string;
}

export function harKey(s: SinkPrefix, id: string): string {
  return `${s.prefix}${id}.har`;
}

export function sigKey(s: SinkPrefix, id: string): string {
  return `${s.prefix}${id}.har.sig`;
}

/** A kid is a base64url JWK thumbprint: nothing else may become a key name. */
export function isKid(kid: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(kid);
}

export function keyKey(s: SinkPrefix, kid: string): string {
  if (!isKid(kid)) throw new Error('not a key id');
  return `${s.prefix}keys/${kid}.jwk`;
}

export function dayPrefix(s: SinkPrefix, epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${s.prefix}index/${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/`;
}

export function indexKey(s: SinkPrefix, id: string, openedAt: string): string {
  if (!isSessionId(id)) throw new Error('not a session id');
  const at = Date.parse(openedAt);
  return `${dayPrefix(s, Number.isFinite(at) ? at : 0)}${id}.json`;
}

const DAY_MS = 86_400_000;
/** More days than this in one query is a mistake, not a search: list the whole index instead. */
const MAX_DAYS = 3_700;

/**
 * The index prefixes to list for a time range, newest day first; the whole index when the range
 * is open at the start (nothing says where the fleet's history begins).
 */
export function indexPrefixes(s: SinkPrefix, since: number | undefined, until: number | undefined, now: number): string[] {
  if (since === undefined) return [`${s.prefix}index/`];
  const end = Math.min(until ?? now, now + DAY_MS);
  const out: string[] = [];
  const first = Math.floor(since / DAY_MS) * DAY_MS;
  for (let t = Math.floor(end / DAY_MS) * DAY_MS; t >= first && out.length < MAX_DAYS; t -= DAY_MS) out.push(dayPrefix(s, t));
  return out.length > 0 && out.length < MAX_DAYS ? out : [`${s.prefix}index/`];
}
