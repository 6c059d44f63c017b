// A compact JWS is three base64url segments; the header segment of any JSON object starts
// with "eyJ" ('{"'). Datadog keys (32/40 hex chars) never look like this, which is what lets a
// token ride in DD-API-KEY without being confused with a real key. The signature segment may
// be empty so an `alg: none` token is still recognised (and then refused) rather than ignored.
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Bigger than any CI token we know of (GitHub's are ~1.2 KB) and well under Node's header cap. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export function looksLikeJwt(s: string): boolean {
  return s.length <= MAX_TOKEN_LENGTH && JWT_SHAPE.test(s);
}
