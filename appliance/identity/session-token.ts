import { hash, randomBytes } from 'node:crypto';

// `alk_` + 32 random bytes (256 bits) in base64url: 43 characters, all safe in a URL's userinfo
// and in a header. The prefix makes the token recognisable (log scrubbing, secret scanners) and
// lets it ride in DD-API-KEY without being mistaken for a real Datadog key (32/40 hex chars).
const SESSION_TOKEN_PREFIX = 'alk_';
const SHAPE = /^alk_[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return `${SESSION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function looksLikeSessionToken(s: string): boolean {
  return SHAPE.test(s);
}

/** Only this is stored: whoever reads the state file cannot use what they read. */
export function hashSessionToken(token: string): string {
  return hash('sha256', token, 'base64url');
}
