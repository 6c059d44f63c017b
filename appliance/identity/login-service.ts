// What /.airlock/v1/login, /logout and /whoami decide: a verified CI JWT (used once) becomes a
// session token for the job's one recording session; logout ends both.
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import { sessionKey as keyOf } from './session-key.js';
import type { SessionMeta } from '../lib/exchange-types.js';
import { attributionOf } from './attribution.js';
import { explainGrants, type GrantMiss } from './match-grant.js';
import type { IdentityRules } from './resolve-identity.js';
import { identityOfRecord } from './session-identity.js';
import type { SessionTokens } from './session-tokens.js';
import type { AppKeyFormat } from './stand-in-keys.js';
import type { Identity } from './types.js';
import { DEFAULT_CLOCK_SKEW_MS, type VerifiedToken } from './verify-token.js';

export interface LoginDeps {
  readonly verifier: { verify(token: string): Promise<VerifiedToken> };
  readonly tokens: SessionTokens;
  readonly rules: IdentityRules;
  readonly ambient: boolean;
  readonly sessions: {
    ensure(identity: Identity): SessionMeta | Promise<SessionMeta>;
    openIdForKey(key: string): Promise<string | null>;
    close(id: string, reason: string): Promise<string | null>;
  };
  readonly log: Logger;
}

export interface LoginAnswer {
  readonly token: string;
  /** Stand-in DD_API_KEY and DD_APP_KEY in Datadog's shapes, mapped to the same session. */
  readonly apiKey: string;
  readonly appKey: string;
  readonly expiresAt: string;
  readonly session: string;
  readonly grant: string;
  readonly identity: Record<string, string>;
  readonly bound: boolean;
}

/** The job's own values only: a refused job learns which claim failed, never what a grant expects. */
function describeMisses(misses: readonly GrantMiss[]): string {
  if (misses.length === 0) return 'no grant is configured';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a claim's value as the job sent it
  const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(String(v)).slice(0, 120));
  return misses.map((m) => (m.claim === 'issuer' ? `${m.grant}: other issuer` : `${m.grant}: ${m.claim} ${show(m.actual)} does not match`)).join('; ');
}

export async function login(deps: LoginDeps, jwt: string, opts: { bind: boolean; appKeyFormat?: AppKeyFormat }): Promise<LoginAnswer> {
  if (opts.bind && !deps.ambient) throw new AirlockError('BAD_REQUEST', 'ambient binding is off (identity.ambient: false): log in without --bind');
  const { issuer, claims } = await deps.verifier.verify(jwt);
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti === '') {
    throw new AirlockError('TOKEN_INVALID', 'the token has no "jti" claim, so it cannot be exchanged (replay protection)');
  }
  const verdict = explainGrants(deps.rules.grants, issuer.name, claims);
  const grant = deps.rules.grants.find((g) => g.name === verdict.matched);
  if (!grant) throw new AirlockError('NO_GRANT', describeMisses(verdict.misses));
  const identity: Identity = {
    issuer: issuer.name,
    iss: issuer.issuer,
    sub: claims.sub,
    claims: { ...claims },
    grant: grant.name,
    credential: grant.credential,
    expiresAt: claims.exp * 1000,
    auth: 'session-token',
  };
  const key = keyOf(identity);
  const issued = await deps.tokens.issue({
    identity: { issuer: identity.issuer, iss: identity.iss, sub: identity.sub, claims: identity.claims, grant: grant.name, credential: grant.credential },
    key,
    iss: issuer.issuer,
    jti,
    // Past exp (plus the skew verification grants) the JWT is refused anyway.
    jtiUntil: claims.exp * 1000 + (deps.rules.clockSkew ?? DEFAULT_CLOCK_SKEW_MS),
    bind: opts.bind,
    ...(opts.appKeyFormat ? { appKeyFormat: opts.appKeyFormat } : {}),
  });
  const meta = await deps.sessions.ensure({ ...identity, expiresAt: issued.expiresAt });
  const who = attributionOf(identity);
  deps.log.info({ session: meta.id, grant: grant.name, identity: who, bound: issued.bound, expiresAt: new Date(issued.expiresAt).toISOString() }, 'login');
  return {
    token: issued.token,
    apiKey: issued.apiKey,
    appKey: issued.appKey,
    expiresAt: new Date(issued.expiresAt).toISOString(),
    session: meta.id,
    grant: grant.name,
    identity: who,
    bound: issued.bound,
  };
}

export async function logout(deps: LoginDeps, token: string): Promise<{ session: string | null; har: string | null }> {
  const rec = await deps.tokens.revoke(token);
  const id = await deps.sessions.openIdForKey(rec.key);
  const har = id ? await deps.sessions.close(id, 'logout') : null;
  deps.log.info({ session: id, grant: rec.identity.grant, sub: rec.identity.sub }, 'logout');
  return { session: id, har };
}

export async function whoami(deps: LoginDeps, token: string): Promise<Record<string, unknown>> {
  const rec = deps.tokens.lookup(token);
  const identity = identityOfRecord(deps.rules, rec, 'session-token');
  return {
    grant: identity.grant,
    session: await deps.sessions.openIdForKey(rec.key),
    expiresAt: new Date(rec.expiresAt).toISOString(),
    bound: deps.tokens.bound()?.key === rec.key,
    identity: attributionOf(identity),
  };
}
