import { AirlockError } from '../errors.js';
import type { TokenRecord } from './login-state-file.js';
import { firstMiss } from './match-grant.js';
import type { IdentityRules } from './resolve-identity.js';
import { looksLikeSessionToken } from './session-token.js';
import { looksLikeStandIn } from './stand-in-keys.js';
import type { SessionTokens } from './session-tokens.js';
import type { Identity } from './types.js';

export interface JwtResolver {
  /** A cached verdict comes back as a value, a verification as a promise (resolve-identity.ts). */
  resolve(token: string): Identity | Promise<Identity>;
}

/**
 * The proxy's IdentityPort: a session token from `airlock login` resolves to the identity it was
 * issued for (so every carrier and every client of one job lands in one session); anything else
 * is a CI JWT for the core resolver. With ambient binding on, a request carrying no token at all
 * belongs to the bound job.
 */
export class SessionIdentity {
  readonly #jwt: JwtResolver;
  readonly #tokens: SessionTokens;
  readonly #rules: IdentityRules;
  readonly #ambient: boolean;
  // A record and the rules never change under one instance: check the grant once per record, not
  // per request. A record replaced (a new login, a reload) is a new key.
  readonly #memo = { 'session-token': new WeakMap<TokenRecord, Identity>(), ambient: new WeakMap<TokenRecord, Identity>() };

  constructor(jwt: JwtResolver, tokens: SessionTokens, rules: IdentityRules, opts: { ambient: boolean }) {
    this.#jwt = jwt;
    this.#tokens = tokens;
    this.#rules = rules;
    this.#ambient = opts.ambient;
  }

  // The JWT resolver's identity with auth "jwt", one object per cached verdict: the same object on
  // every request of a job keeps its session key computed once (identity/session-key.ts).
  readonly #jwtMemo = new WeakMap<Identity, Identity>();

  /**
   * A value when the answer is known now (a session token, a cached JWT verdict), a promise only
   * while a JWT is verified; a refusal is thrown, or rejected when it comes from a verification.
   */
  resolve(token: string): Identity | Promise<Identity> {
    if (looksLikeSessionToken(token) || looksLikeStandIn(token)) return this.#identityOf(this.#tokens.lookup(token), 'session-token');
    const r = this.#jwt.resolve(token);
    return r instanceof Promise ? r.then(this.#asJwt) : this.#asJwt(r);
  }

  readonly #asJwt = (id: Identity): Identity => {
    let out = this.#jwtMemo.get(id);
    if (out === undefined) {
      out = Object.freeze({ ...id, auth: 'jwt' as const });
      this.#jwtMemo.set(id, out);
    }
    return out;
  };

  /** The session a token or stand-in key names (see SessionTokens.sessionOf). */
  sessionOf(value: string): string | null {
    return this.#tokens.sessionOf(value);
  }

  #identityOf(rec: TokenRecord, auth: 'session-token' | 'ambient'): Identity {
    const memo = this.#memo[auth];
    let id = memo.get(rec);
    if (id === undefined) {
      id = identityOfRecord(this.#rules, rec, auth);
      memo.set(rec, id);
    }
    return id;
  }

  /** The bound job's identity for a request that carries no token; null when nothing is bound. */
  ambient(): Identity | null {
    if (!this.#ambient) return null;
    const rec = this.#tokens.bound();
    return rec ? this.#identityOf(rec, 'ambient') : null;
  }
}

/**
 * The config may have changed since the login (a restart): the session keeps working only while
 * its issuer is still configured and its grant still exists and still matches its claims.
 */
export function identityOfRecord(rules: IdentityRules, rec: TokenRecord, auth: 'session-token' | 'ambient'): Identity {
  const id = rec.identity;
  const issuer = rules.issuers.find((i) => i.name === id.issuer && i.issuer === id.iss);
  const grant = issuer ? rules.grants.find((g) => g.name === id.grant) : undefined;
  if (!issuer || !grant || firstMiss(grant, issuer.name, id.claims) !== null) {
    throw new AirlockError('TOKEN_INVALID', 'the grant this session was issued for no longer matches it: run `airlock login` again');
  }
  return { ...id, credential: grant.credential, expiresAt: rec.expiresAt, auth };
}
