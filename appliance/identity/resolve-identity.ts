import { hash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { fetchJson } from './fetch-json.js';
import { JwksCache } from './jwks-cache.js';
import { matchGrant } from './match-grant.js';
import type { Identity } from './types.js';
import { TokenVerifier, type VerifiedToken } from './verify-token.js';

export { looksLikeJwt } from './looks-like-jwt.js';

/** Most verified tokens remembered; a CI fleet reuses each token for minutes, so this is plenty. */
const IDENTITY_CACHE_MAX = 10_000;

/** What the resolver reads of the identity config: who may sign, and who gets what. */
/** clockSkew is optional for callers outside the config (tests): the verifier's default applies. */
export type IdentityRules = Pick<Config['identity'], 'issuers' | 'grants'> & { readonly clockSkew?: number };

export interface IdentityResolverDeps {
  readonly fetchJson: typeof fetchJson;
  readonly now: () => number;
  readonly log: Logger;
}

function quote(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 200 ? `${clean.slice(0, 200)}...` : clean);
}

/**
 * Token → Identity: verify, then match a grant. A job sends the same JWT on every request, so
 * successes are remembered (by the token's SHA-256, never the token) until the token's exp;
 * failures are not, so a fixed config or a recovered issuer takes effect at once.
 */
export class IdentityResolver {
  readonly #config: IdentityRules;
  readonly #now: () => number;
  readonly #verifier: TokenVerifier;
  readonly #cache = new Map<string, Identity>();
  readonly #keys: JwksCache;

  constructor(config: IdentityRules, deps: IdentityResolverDeps) {
    this.#config = config;
    this.#now = deps.now;
    const keys = new JwksCache({ fetchJson: deps.fetchJson, now: deps.now, log: deps.log });
    this.#keys = keys;
    this.#verifier = new TokenVerifier(config.issuers, { keys, now: deps.now, ...(config.clockSkew !== undefined ? { clockSkewMs: config.clockSkew } : {}) });
  }

  /** Fetches every issuer's keys in the background, so that readiness does not wait for a first job. */
  warmKeys(): Promise<void> {
    return Promise.all(this.#config.issuers.map((i) => this.#keys.warm(i))).then(() => undefined);
  }

  /** Issuers whose keys are loaded or cached (/readyz). */
  get issuersWithKeys(): number {
    return this.#keys.loaded;
  }

  /** Verification alone (no grant, no cache): `airlock login` matches grants itself to explain a miss. */
  verify(token: string): Promise<VerifiedToken> {
    return this.#verifier.verify(token);
  }

  async resolve(token: string): Promise<Identity> {
    const id = hash('sha256', token, 'base64url');
    const cached = this.#cache.get(id);
    if (cached) {
      if (this.#now() < cached.expiresAt) return cached;
      this.#cache.delete(id);
    }
    const { issuer, claims } = await this.#verifier.verify(token);
    const grant = matchGrant(this.#config.grants, issuer.name, claims);
    if (!grant) throw new AirlockError('NO_GRANT', `issuer ${quote(issuer.name)}, sub ${quote(claims.sub)}`);
    const identity: Identity = Object.freeze({
      issuer: issuer.name,
      iss: issuer.issuer,
      sub: claims.sub,
      claims: Object.freeze({ ...claims }),
      grant: grant.name,
      credential: grant.credential,
      expiresAt: claims.exp * 1000,
    });
    this.#remember(id, identity);
    return identity;
  }

  #remember(id: string, identity: Identity): void {
    if (this.#cache.size >= IDENTITY_CACHE_MAX) {
      const now = this.#now();
      for (const [k, v] of this.#cache) if (v.expiresAt <= now) this.#cache.delete(k);
      // Still full of live tokens: drop the oldest; it is only re-verified on its next use.
      while (this.#cache.size >= IDENTITY_CACHE_MAX) {
        const oldest = this.#cache.keys().next();
        if (oldest.done) break;
        this.#cache.delete(oldest.value);
      }
    }
    this.#cache.set(id, identity);
  }
}
