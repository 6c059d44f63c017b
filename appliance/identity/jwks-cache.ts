import { createLocalJWKSet, errors as joseErrors } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey, LocalJWKSet } from 'jose';
import type { IssuerConfig } from '../config/schema.js';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { fetchJson as FetchJson } from './fetch-json.js';

/** Least time between two fetches of one issuer's keys (unknown kid, failed refresh). */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys older than this are refreshed before use; a failed refresh keeps the old ones. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

export interface JwksCacheDeps {
  readonly fetchJson: typeof FetchJson;
  readonly now: () => number;
  readonly log: Logger;
}

interface IssuerKeys {
  jwksUri: string | null;
  keys: LocalJWKSet | null;
  /** The key set as fetched (JSON), to tell a refresh that changed the keys from one that did not. */
  keysJson: string;
  /** Bumped whenever the key set changes: verdicts taken with older keys are checked again. */
  generation: number;
  fetchedAt: number;
  lastAttemptAt: number;
  inflight: Promise<boolean> | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Only public asymmetric keys: an `oct` key would let an HMAC token verify, and a key with
// private material means the issuer is misconfigured; neither is used.
function usableKey(k: unknown): k is JWK {
  return isRecord(k) && (k['kty'] === 'RSA' || k['kty'] === 'EC' || k['kty'] === 'OKP') && !('d' in k);
}

function parseJwks(doc: unknown): JSONWebKeySet {
  if (!isRecord(doc) || !Array.isArray(doc['keys'])) throw new Error('the JWKS has no "keys" array');
  const keys = doc['keys'].filter(usableKey);
  if (keys.length === 0) throw new Error('the JWKS holds no usable public key');
  return { keys };
}

export function parseDiscovery(doc: unknown, issuer: string): string {
  if (!isRecord(doc)) throw new Error('the discovery document is not a JSON object');
  // OIDC Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
  if (doc['issuer'] !== issuer) throw new Error('the discovery document names a different issuer');
  const uri = doc['jwks_uri'];
  if (typeof uri !== 'string' || !/^https?:\/\//i.test(uri)) throw new Error('the discovery document has no http(s) jwks_uri');
  return uri;
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/**
 * Each issuer's JWKS, fetched and kept by us and served to jose through createLocalJWKSet.
 * Owning the cache is what keeps verification going while the issuer's endpoint is down:
 * createRemoteJWKSet reloads once its max age passes and throws if that reload fails, and it
 * fetches through fetch(), which we want replaced by a direct, proxy-free, injectable fetchJson.
 */
export class JwksCache {
  readonly #deps: JwksCacheDeps;
  readonly #byIssuer = new Map<string, IssuerKeys>();

  constructor(deps: JwksCacheDeps) {
    this.#deps = deps;
  }

  /** A jose key resolver for one issuer: refreshes stale keys and refetches once for an unknown kid. */
  keyResolver(issuer: IssuerConfig): JWTVerifyGetKey {
    return async (header, token) => {
      const st = this.#state(issuer);
      await this.#ensureKeys(issuer, st);
      try {
        return await st.keys!(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        if (this.#deps.now() - st.lastAttemptAt < JWKS_COOLDOWN_MS) throw err;
        // The issuer may have rotated: look once, then the cooldown protects its endpoint.
        await this.#refresh(issuer, st);
        return await st.keys!(header, token);
      }
    };
  }

  /** Fetches an issuer's keys ahead of its first token (readiness); never throws. */
  async warm(issuer: IssuerConfig): Promise<boolean> {
    const st = this.#state(issuer);
    return st.keys !== null || (await this.#refresh(issuer, st));
  }

  /** Which key set of the issuer is in use: changes whenever a refresh brings different keys (verdict-cache.ts). */
  generation(issuer: IssuerConfig): number {
    return this.#state(issuer).generation;
  }

  /** How many issuers have keys loaded (fresh or cached). */
  get loaded(): number {
    let n = 0;
    for (const st of this.#byIssuer.values()) if (st.keys !== null) n++;
    return n;
  }

  #state(issuer: IssuerConfig): IssuerKeys {
    const id = `${issuer.name}\n${issuer.issuer}\n${issuer.jwksUri ?? ''}`;
    let st = this.#byIssuer.get(id);
    if (!st) {
      st = { jwksUri: issuer.jwksUri, keys: null, keysJson: '', generation: 0, fetchedAt: 0, lastAttemptAt: -Infinity, inflight: null };
      this.#byIssuer.set(id, st);
    }
    return st;
  }

  async #ensureKeys(issuer: IssuerConfig, st: IssuerKeys): Promise<void> {
    const now = this.#deps.now();
    if (st.keys === null) {
      // Never fetched: every request may try (concurrent ones share one fetch); nothing to fall back on.
      if (!(await this.#refresh(issuer, st)))
        throw new AirlockError('ISSUER_UNAVAILABLE', `cannot fetch the signing keys of issuer ${JSON.stringify(issuer.name)}`);
      return;
    }
    if (now - st.fetchedAt >= JWKS_MAX_AGE_MS && now - st.lastAttemptAt >= JWKS_COOLDOWN_MS) {
      await this.#refresh(issuer, st);
    }
  }

  /** Fetches the issuer's keys; false (and a warning) when that failed; the old keys stay. */
  #refresh(issuer: IssuerConfig, st: IssuerKeys): Promise<boolean> {
    if (st.inflight) return st.inflight;
    st.lastAttemptAt = this.#deps.now();
    const run = async (): Promise<boolean> => {
      const discovered = issuer.jwksUri === null;
      try {
        if (st.jwksUri === null) {
          st.jwksUri = parseDiscovery(await this.#deps.fetchJson(discoveryUrl(issuer.issuer)), issuer.issuer);
        }
        const jwks = parseJwks(await this.#deps.fetchJson(st.jwksUri));
        const json = JSON.stringify(jwks);
        if (json !== st.keysJson) {
          st.keys = createLocalJWKSet(jwks);
          st.keysJson = json;
          st.generation += 1;
        }
        st.fetchedAt = this.#deps.now();
        return true;
      } catch (err) {
        // A discovered jwks_uri that fails may have moved: discover again next time.
        if (discovered) st.jwksUri = null;
        this.#deps.log.warn(
          { issuer: issuer.name, err: err instanceof Error ? err.message : String(err), cachedKeys: st.keys !== null },
          st.keys ? "cannot refresh the issuer's keys; verifying with the cached ones" : "cannot fetch the issuer's keys",
        );
        return false;
      }
    };
    // Cleared in a later microtask, so a fetcher that throws synchronously cannot leave a settled promise behind.
    const p: Promise<boolean> = run().finally(() => {
      if (st.inflight === p) st.inflight = null;
    });
    st.inflight = p;
    return p;
  }
}
