// The CLI's approver on the bus: an ID token from the organization's OIDC provider (the one the
// console signs in with, audience console.oidc.clientId), verified against the provider's JWKS;
// the approver is the token's verified email, never a name typed on the command line.
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AirlockError } from '../errors.js';
import { fetchJson } from '../identity/fetch-json.js';
import { discoveryUrl, parseDiscovery } from '../identity/jwks-cache.js';
import type { ConsoleConfig } from '../config/console-schema.js';
import { approverOf } from './approver.js';

export interface TokenSource {
  readonly tokenFile?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

export function readOperatorToken(src: TokenSource): string {
  const raw = src.tokenFile ? readFileSync(src.tokenFile, 'utf8') : src.env['AIRLOCK_APPROVER_TOKEN'];
  const token = raw?.trim();
  if (!token) throw new AirlockError('CONSOLE_AUTH', "give the approver's ID token with --token-file or AIRLOCK_APPROVER_TOKEN");
  return token;
}

export async function operatorOf(token: string, cfg: ConsoleConfig): Promise<string> {
  const issuer = cfg.oidc.issuer;
  let claims: Record<string, unknown>;
  try {
    const jwksUri = parseDiscovery(await fetchJson(discoveryUrl(issuer)), issuer);
    ({ payload: claims } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), { issuer, audience: cfg.oidc.clientId }));
  } catch (err) {
    throw new AirlockError(
      'CONSOLE_AUTH',
      `the approver token was rejected (${(err as { code?: string }).code ?? 'invalid'}): get a fresh ID token for ${cfg.oidc.clientId} from ${issuer}`,
    );
  }
  const who = approverOf(claims, cfg.approvers);
  if (!who.ok) throw new AirlockError('APPROVER_NOT_ALLOWED', who.why);
  return who.email;
}
