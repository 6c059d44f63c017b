import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../config/schema.js';
import { AirlockError, isAirlockError } from '../errors.js';
import type { JwksCache } from './jwks-cache.js';
import { MAX_TOKEN_LENGTH } from './looks-like-jwt.js';
import { timeClaimProblem } from './check-time-claims.js';

/** identity.clockSkew's default: accepted on exp, nbf and iat, between us and the CI issuer. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

// The schema admits only these; the guard holds even if it ever did not, since an HMAC alg
// verified against a public key is the classic key-confusion forgery.
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

export interface VerifiedToken {
  readonly issuer: IssuerConfig;
  readonly claims: JWTPayload & { readonly sub: string; readonly exp: number; readonly iat: number };
}

export interface TokenVerifierDeps {
  readonly keys: JwksCache;
  readonly now: () => number;
  /** identity.clockSkew in ms (default 60 s): the one tolerance for exp, nbf and iat. */
  readonly clockSkewMs?: number;
}

/** Attacker-controlled text going into a detail: printable, short, quoted. */
function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 120 ? `${clean.slice(0, 120)}...` : clean);
}

/** Why jose refused, in words safe to show a client, naming the check and what to do. Claim values are quoted and capped. */
function describeJoseError(err: unknown, issuer?: IssuerConfig): string {
  if (err instanceof joseErrors.JWTExpired) return err.claim === 'iat' ? 'the token is too old: mint a fresh one' : 'the token has expired: mint a fresh one';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `the token has no "${err.claim}" claim`;
    if (err.claim === 'aud') {
      const got = err.payload.aud;
      const shown = got === undefined ? 'none' : Array.isArray(got) ? got.slice(0, 5).map(quote).join(', ') : quote(got);
      return `wrong audience: expected ${quote(issuer?.audience ?? '?')}, the token has ${shown}: mint the token with audience ${quote(issuer?.audience ?? '?')}`;
    }
    if (err.claim === 'iss') return `wrong issuer: expected ${quote(issuer?.issuer ?? '?')}, the token has ${quote(err.payload.iss)}`;
    if (err.claim === 'nbf') return 'the token is not valid yet';
    return err.message;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return `the token's signing algorithm is not allowed (issuer ${quote(issuer?.name ?? '?')} allows ${issuer?.algorithms.join(', ') ?? '?'})`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return `bad signature: the token was not signed by a key of issuer ${quote(issuer?.name ?? '?')}; it may be forged or altered`;
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return `no key of issuer ${quote(issuer?.name ?? '?')} matches the token's kid: it was not signed by this issuer, or with a key it no longer publishes`;
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several keys of the issuer match the token and it names no kid';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  if (err instanceof joseErrors.JOSENotSupported) return 'unsupported token algorithm or key type';
  return 'the token could not be verified';
}

/**
 * Verifies a CI OIDC token against the configured issuer whose `issuer` equals the token's
 * (unverified) `iss`. Everything else (signature, audience, expiry, algorithms) is jose's
 * jwtVerify with exact options; the unverified iss is only used to pick whose keys to try.
 */
export class TokenVerifier {
  readonly #issuers: readonly IssuerConfig[];
  readonly #deps: TokenVerifierDeps;

  constructor(issuers: readonly IssuerConfig[], deps: TokenVerifierDeps) {
    this.#issuers = issuers;
    this.#deps = deps;
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AirlockError('TOKEN_INVALID', 'the token is too long');
    let iss: unknown;
    try {
      decodeProtectedHeader(token);
      iss = decodeJwt(token).iss;
    } catch {
      throw new AirlockError('TOKEN_INVALID', 'malformed token');
    }
    const issuer = this.#issuers.find((i) => i.issuer === iss);
    if (!issuer) {
      throw new AirlockError(
        'TOKEN_INVALID',
        iss === undefined ? 'the token has no "iss" claim' : `unknown issuer ${quote(iss)}: no identity.issuers entry has it`,
      );
    }
    const algorithms = issuer.algorithms.filter((a) => ASYMMETRIC.has(a));
    if (algorithms.length === 0) throw new AirlockError('TOKEN_INVALID', `issuer ${quote(issuer.name)} allows no asymmetric algorithm`);

    const now = this.#deps.now();
    const skewMs = this.#deps.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#deps.keys.keyResolver(issuer), {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms,
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: skewMs / 1000,
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (isAirlockError(err)) throw err;
      // jose's exp/nbf refusals carry the (signature-checked) payload: say by how much.
      const timing =
        err instanceof joseErrors.JWTExpired || (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf')
          ? timeClaimProblem(err.payload, now, skewMs)
          : null;
      throw new AirlockError('TOKEN_INVALID', timing ?? describeJoseError(err, issuer));
    }
    const timing = timeClaimProblem(payload, now, skewMs);
    if (timing) throw new AirlockError('TOKEN_INVALID', timing);
    const { sub, exp, iat } = payload;
    if (typeof sub !== 'string' || sub === '') throw new AirlockError('TOKEN_INVALID', 'the token\'s "sub" claim is not a string');
    // jwtVerify checks these are numbers when present and requiredClaims that they are present.
    if (typeof exp !== 'number' || typeof iat !== 'number') throw new AirlockError('TOKEN_INVALID', 'bad exp/iat claims');
    return { issuer, claims: { ...payload, sub, exp, iat } };
  }
}
