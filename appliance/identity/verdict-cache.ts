// Verified-token verdicts, so that a job's JWT (sent on every connection, often a new one per
// request) costs one signature check, not one per request. Keyed by the token's SHA-256, never
// the token: a heap dump or a debugger shows which tokens were seen, not a usable one.
// An entry lives until the earliest of: the token's exp, VERDICT_MAX_AGE_MS after it was
// verified (so a key an issuer stops publishing stops being trusted within that time even when
// its JWKS cannot be fetched), and the issuer's keys changing (a JWKS refresh that returns a
// different key set: every token of that issuer is verified again on its next use). A reload
// builds a new resolver and so starts from an empty cache. Bounded: the least recently used
// entry goes first. Hand-written on a Map (insertion order is recency): the 40 lines an LRU
// with per-entry expiry needs are fewer than a dependency would be.

/**
 * A verdict is re-checked at least this often, whatever the token's exp. Only a verification
 * refreshes an issuer's keys (older than JWKS_MAX_AGE_MS, 10 min), so without this cap a fleet
 * whose tokens all hit the cache would never learn that a key was withdrawn.
 */
export const VERDICT_MAX_AGE_MS = 15 * 60_000;
/** Most verdicts kept; a CI fleet reuses each token for minutes, so this is plenty. */
const VERDICT_CACHE_MAX = 10_000;

interface Entry<V> {
  readonly value: V;
  readonly until: number;
  /** The issuer's key generation the token was verified against (JwksCache.generation). */
  readonly keys: number;
  readonly issuer: string;
}

export class VerdictCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #max: number;

  constructor(max: number = VERDICT_CACHE_MAX) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The verdict for this token hash, if it is still good: not expired, its issuer's keys unchanged. */
  get(key: string, now: number, keysOf: (issuer: string) => number): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (now >= e.until || keysOf(e.issuer) !== e.keys) return undefined;
    // Re-inserted: the Map's order is recency, so the front is the least recently used.
    this.#entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V, o: { readonly now: number; readonly expiresAt: number; readonly issuer: string; readonly keys: number }): void {
    const until = Math.min(o.expiresAt, o.now + VERDICT_MAX_AGE_MS);
    if (until <= o.now) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const lru = this.#entries.keys().next();
      if (lru.done) break;
      this.#entries.delete(lru.value);
    }
    this.#entries.set(key, { value, until, keys: o.keys, issuer: o.issuer });
  }
}
