// The CI token's time claims against this server's clock, with one skew for all three.
// jose checks exp and nbf with its clockTolerance but accepts any iat in the future; a token
// "issued" an hour from now is either forged ahead of time or from a broken clock, and in both
// cases its exp says nothing about how long it has really been alive (issue #11, finding 11).
import type { JWTPayload } from 'jose';

function ahead(v: unknown, nowS: number): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v - nowS : null;
}

/** Why the token's times are unacceptable, in words a client can act on (numbers only, never the token); null when they are fine. */
export function timeClaimProblem(claims: JWTPayload, nowMs: number, skewMs: number): string | null {
  // Whole seconds, as jose counts them, so both checks agree at the edges.
  const nowS = Math.floor(nowMs / 1000);
  const skewS = skewMs / 1000;
  const beyond = `beyond identity.clockSkew ${skewS} s: check the clocks of the CI issuer and of this host`;
  const iat = ahead(claims.iat, nowS);
  if (iat !== null && iat > skewS) return `the token was issued in the future (iat is ${Math.round(iat)} s ahead of this server's clock, ${beyond})`;
  const nbf = ahead(claims.nbf, nowS);
  if (nbf !== null && nbf > skewS) return `the token is not valid yet (nbf is ${Math.round(nbf)} s ahead of this server's clock, ${beyond})`;
  const exp = ahead(claims.exp, nowS);
  if (exp !== null && -exp >= skewS)
    return `the token has expired (at ${new Date((claims.exp as number) * 1000).toISOString()}, ${Math.round(-exp)} s ago, ${beyond}); mint a fresh one`;
  return null;
}
