import { hash } from 'node:crypto';
import type { Config, IssuerConfig } from '../config/schema.js';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { fetchJson } from './fetch-json.js';
import { JwksCache } from './jwks-cache.js';
import { matchGrant } from './match-grant.js';
import type { Identity } from './types.js';
import { TokenVerifier, type VerifiedToken } from './verify-token.js';
import { VerdictCache } from './verdict-cache.js';

export { looksLikeJwt } from './looks-like-jwt.js';

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
 * successes are remembered (by the token's SHA-256, never the token; verdict-cache.ts says for
 * how long); failures are not, so a fixed config or a recovered issuer takes effect at once.
 */
export class IdentityResolver {
  readonly #config: IdentityRules;
  readonly #now: () => number;
  readonly #verifier: TokenVerifier;
  readonly #cache = new VerdictCache<Identity>();
  readonly #issuers: ReadonlyMap<string, IssuerConfig>;
  readonly #keys: JwksCache;

  constructor(config: IdentityRules, deps: IdentityResolverDeps) {
    this.#config = config;
    this.#now = deps.now;
    const keys = new JwksCache({ fetchJson: deps.fetchJson, now: deps.now, log: deps.log });
    this.#keys = keys;
    this.#issuers = new Map(config.issuers.map((i) => [i.name, i]));
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

  /**
   * A cached verdict is returned as it is, not in a promise: the pipeline then goes on in the same
   * turn (each await of a settled promise is a microtask hop, and a job's every request after its
   * first hits the cache). Only a verification, which may fetch keys, is asynchronous.
   */
  resolve(token: string): Identity | Promise<Identity> {
    const id = hash('sha256', token, 'base64url');
    const cached = this.#cache.get(id, this.#now(), this.#keysOf);
    return cached ?? this.#verify(token, id);
  }

  async #verify(token: string, id: string): Promise<Identity> {
    // Read before verifying: keys that change while the token is checked leave a verdict that is
    // checked again on its next use, never one trusted on keys it was not checked with.
    const keysBefore = new Map(this.#config.issuers.map((i) => [i.name, this.#keys.generation(i)]));
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
    this.#cache.set(id, identity, {
      now: this.#now(),
      expiresAt: identity.expiresAt,
      issuer: issuer.name,
      keys: this.#verifiedWith(issuer, keysBefore.get(issuer.name)),
    });
    return identity;
  }

  // Generation 0 is "no keys yet": nothing verifies against it, so a token that did was checked
  // with the keys fetched on its way, the generation there is now.
  #verifiedWith(issuer: IssuerConfig, before: number | undefined): number {
    return before === undefined || before === 0 ? this.#keys.generation(issuer) : before;
  }

  readonly #keysOf = (name: string): number => {
    const issuer = this.#issuers.get(name);
    // An issuer no longer configured (cannot happen within one resolver): never a match.
    return issuer ? this.#keys.generation(issuer) : -1;
  };
}
