import type { Identity } from '../identity/types.js';
import { sessionClaims } from './stream-har.js';
import type { SessionMeta } from './types.js';

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
