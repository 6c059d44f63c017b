import type { Identity } from '../../identity/types.js';
import type { SessionMeta } from '../../lib/exchange-types.js';

/** Claims that say when/which token, not who: they would differ between requests of one session. */
const DROPPED_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti']);

export function sessionClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([k]) => !DROPPED_CLAIMS.has(k)));
}

export function sessionMetaOf(identity: Identity, key: string, id: string, openedAt: string): SessionMeta {
  return {
    id,
    key,
    issuer: identity.issuer,
    iss: identity.iss,
    sub: identity.sub,
    grant: identity.grant,
    credential: identity.credential,
    claims: sessionClaims(identity.claims),
    openedAt,
  };
}

export type SessionIdentity = Omit<SessionMeta, 'id' | 'openedAt'>;

/** Who a session belongs to, from its meta (journal first line or sidecar); empty when unknown. */
export function identityFields(meta: SessionMeta | null): SessionIdentity {
  return {
    key: meta?.key ?? '',
    issuer: meta?.issuer ?? '',
    iss: meta?.iss ?? '',
    sub: meta?.sub ?? '',
    grant: meta?.grant ?? '',
    credential: meta?.credential ?? '',
    claims: meta?.claims ?? {},
    ...(meta?.replayOf !== undefined ? { replayOf: meta.replayOf } : {}),
  };
}
