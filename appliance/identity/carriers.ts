import { AirlockError } from '../errors.js';
import { looksLikeJwt } from './looks-like-jwt.js';
import { looksLikeSessionToken } from './session-token.js';
import { looksLikeStandIn } from './stand-in-keys.js';
import { KEY_HEADERS } from '../secrets/credential-name.js';

// secrets/carriers.ts TOKEN_HEADERS lists the headers read here.
const KEY_CARRIERS: ReadonlySet<string> = new Set(KEY_HEADERS);

export interface FoundToken {
  readonly token: string;
  /** Where the token was found, e.g. "proxy-authorization", "header:dd-api-key"; no duplicates. */
  readonly carriers: string[];
}

export interface TokenSources {
  /** The Proxy-Authorization of the CONNECT (or of a plain proxied request). */
  readonly proxyAuthorization?: string | undefined;
  /** Node's flat [name, value, name, value, ...] of the (intercepted) request. */
  readonly rawHeaders?: readonly string[];
  /**
   * The session an `alk_` token or a stand-in key belongs to (login state), null if unknown.
   * Without it no key-shaped value is a token. Tokens of one session in several carriers (the
   * `alk_` token in the proxy URL, the stand-ins in DD-API-KEY and DD-APPLICATION-KEY) agree.
   */
  readonly sessionOf?: ((value: string) => string | null) | undefined;
}

/**
 * Reads a Proxy-Authorization value. Bearer and Basic are unambiguous proxy credentials, so the
 * value is taken whatever its shape and a malformed one fails verification loudly instead of
 * reading as "no token". For Basic the jwt is the password; `http://JWT@proxy` URLs send it as
 * the user with an empty password, so that form is accepted too.
 */
export function tokenFromProxyAuthorization(value: string): string | null {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  const cred = m[2]!;
  if (scheme === 'bearer') return cred;
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(cred, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  if (password !== '') return password;
  return user !== '' ? user : null;
}

/** A JWT or an `alk_` session token from `airlock login`: the two shapes an identity token has. */
function isIdentityToken(v: string): boolean {
  return looksLikeJwt(v) || looksLikeSessionToken(v);
}

// Inside the intercepted request these headers normally hold Datadog keys; they carry a token
// only when the value has a token's shape (an agent's own key is stripped later, not treated as one).
function tokenFromInnerHeader(name: string, value: string, sessionOf: TokenSources['sessionOf']): string | null {
  const v = value.trim();
  if (KEY_CARRIERS.has(name)) {
    if (isIdentityToken(v)) return v;
    // A key-shaped value is a token only when this Airlock issued it as a stand-in; else it is
    // the agent's own key, stripped later.
    return looksLikeStandIn(v) && sessionOf?.(v) != null ? v : null;
  }
  if (name === 'authorization') {
    const m = /^bearer\s+(\S+)$/i.exec(v);
    return m && isIdentityToken(m[1]!) ? m[1]! : null;
  }
  if (name === 'proxy-authorization') return tokenFromProxyAuthorization(v);
  return null;
}

/**
 * Finds the identity token among every carrier a client may use. The same token in several
 * places is fine; two different tokens are refused because we could not tell which identity
 * the client means (and picking one would let a second token smuggle in).
 */
export function findToken(input: TokenSources): FoundToken | null {
  const found: { token: string; carrier: string }[] = [];
  if (input.proxyAuthorization !== undefined) {
    const t = tokenFromProxyAuthorization(input.proxyAuthorization);
    if (t !== null) found.push({ token: t, carrier: 'proxy-authorization' });
  }
  const raw = input.rawHeaders ?? [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const t = tokenFromInnerHeader(name, raw[i + 1]!, input.sessionOf);
    if (t !== null) found.push({ token: t, carrier: `header:${name}` });
  }
  const first = found[0];
  if (!first) return null;
  const same = (t: string): string => input.sessionOf?.(t) ?? `value:${t}`;
  const firstSession = same(first.token);
  if (found.some((f) => f.token !== first.token && same(f.token) !== firstSession)) {
    const where = [...new Set(found.map((f) => f.carrier))].join(', ');
    throw new AirlockError('TOKEN_INVALID', `two different identity tokens were sent (in ${where}): send one token`);
  }
  return { token: first.token, carriers: [...new Set(found.map((f) => f.carrier))] };
}
