// Sign-in with the organization's OIDC provider: authorization code + PKCE (S256), state and
// nonce, through openid-client. The state is bound to the browser by a short-lived __Host-
// cookie; the verifier and nonce stay on the server. Plain http is allowed for a loopback
// issuer only (tests, a provider on the same host).
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import type { ConsoleConfig } from '../config/console-schema.js';

const LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1_000;

function loopbackHttp(u: string): boolean {
  const url = new URL(u);
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export interface SignedIn {
  readonly claims: Record<string, unknown>;
}

export class OidcLogin {
  private config: client.Configuration | undefined;
  private readonly pending = new Map<string, { verifier: string; nonce: string; at: number }>();

  constructor(
    private readonly cfg: ConsoleConfig,
    private readonly now: () => number = Date.now,
  ) {}

  get redirectUri(): string {
    return `${this.cfg.publicUrl}/auth/callback`;
  }

  private async discover(): Promise<client.Configuration> {
    if (this.config) return this.config;
    const secret = this.cfg.oidc.clientSecretFile ? readFileSync(this.cfg.oidc.clientSecretFile, 'utf8').trim() : undefined;
    this.config = await client.discovery(
      new URL(this.cfg.oidc.issuer),
      this.cfg.oidc.clientId,
      secret,
      secret ? client.ClientSecretBasic(secret) : client.None(),
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deliberate, and only for a loopback http:// issuer
      { ...(loopbackHttp(this.cfg.oidc.issuer) ? { execute: [client.allowInsecureRequests] } : {}), timeout: 10 },
    );
    return this.config;
  }

  /** The provider's URL to send the browser to, and the state for the login cookie. */
  async start(): Promise<{ url: string; state: string }> {
    const config = await this.discover();
    const t = this.now();
    for (const [k, v] of this.pending) if (v.at + LOGIN_TTL_MS < t || this.pending.size >= MAX_PENDING) this.pending.delete(k);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.pending.set(state, { verifier, nonce, at: t });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.cfg.oidc.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /** Redeems the code; `cookieState` is the login cookie, which must match the state returned. */
  async finish(callbackUrl: URL, cookieState: string | undefined): Promise<SignedIn> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const p = this.pending.get(state);
    if (!p || state !== cookieState || p.at + LOGIN_TTL_MS < this.now()) throw new Error('unknown, expired or foreign login state');
    this.pending.delete(state);
    const config = await this.discover();
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: p.verifier,
      expectedState: state,
      expectedNonce: p.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error('no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    // Providers put email and groups in the ID token or only in userinfo: ask when missing.
    if (config.serverMetadata().userinfo_endpoint && (claims['email'] === undefined || claims[this.cfg.approvers.groupsClaim] === undefined)) {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...claims };
    }
    return { claims };
  }
}
