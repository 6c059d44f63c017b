/** Who is calling: a verified token matched to a grant. Built by identity/, read by every later stage. */
export interface Identity {
  /** The issuer's name in the config (identity.issuers[].name). */
  readonly issuer: string;
  /** The token's `iss`. */
  readonly iss: string;
  readonly sub: string;
  /** Every claim of the verified token, as the issuer sent it. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The matched grant's name. */
  readonly grant: string;
  /** The matched grant's vault entry. */
  readonly credential: string;
  /** When the token expires, epoch ms. */
  readonly expiresAt: number;
  /** How the request proved it: the CI JWT itself, a session token from `airlock login`, or the host's ambient binding. */
  readonly auth?: 'jwt' | 'session-token' | 'ambient';
}
