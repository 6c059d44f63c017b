// Redaction applied to every string of an exchange before it is written (journal and HAR alike).
// Rules, in the order they apply:
//  1. values of credential-bearing headers (cookies, and every name credential-name.ts calls a
//     credential) become [redacted:<header name>], or the label of the Secret whose value they are;
//  2. every Secret value (>= 8 chars; as written or percent-encoded: scrub.ts) anywhere in header
//     names and values, URL and bodies becomes [redacted:<label>];
//  3. a JWT-shaped string keeps header and payload; its signature becomes [redacted:signature];
//  4. query parameters whose name is a credential name become [redacted:query <name>];
//  5. in the agent's request (URL, headers, body), a value shaped like a Datadog key
//     (credentials/key-shape.ts) becomes [redacted:key-shaped value]; each one found is then a
//     Secret for the whole exchange, so an upstream that echoes it is redacted too;
//  6. anywhere in the exchange (request and response, every header, URL and body), a value
//     shaped like an `airlock login` session token (identity/session-token.ts: `alk_` and 43
//     base64url characters) becomes [redacted:session token]. Unlike a Datadog key's shape (32
//     hex digits are also ids), this shape means nothing else, and a token is a credential: one
//     that is not this exchange's own (a known Secret, rule 2) may be another job's.
import { decodeComponent, isCredentialParam, isSecretHeader } from './credential-name.js';
import { findKeyShapes, redactKeyShapes } from './key-shape.js';
import { prepareSecrets, scrubBytes, scrubText, scrubTruncatedTail, type PreparedSecrets } from './scrub.js';
import type { HeaderPair, Secret } from '../lib/exchange-types.js';

// The scrubber is shared with masking (scrub.ts); the recording's callers take it from here.
export { prepareSecrets, type PreparedSecrets };

export const KEY_SHAPE_LABEL = 'key-shaped value';

const JWT_IN_TEXT = /(eyJ[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)/g;

export const SESSION_TOKEN_LABEL = 'session token';
const SESSION_TOKEN_PLACEHOLDER = `[redacted:${SESSION_TOKEN_LABEL}]`;
// No word boundary before `alk_` (an `xalk_<token>` still carries a token) and the whole run after
// it, so no base64url character of a token is left next to the placeholder.
const SESSION_TOKEN_LENGTH = 47;
const SESSION_TOKEN_IN_TEXT = /alk_[A-Za-z0-9_-]{43,}/g;
// A text cut at a cap may end inside a token: from `alk_` on it is redacted.
const SESSION_TOKEN_TAIL = /alk_[A-Za-z0-9_-]*$/;

export function placeholder(label: string): string {
  return `[redacted:${label}]`;
}

/**
 * `text.includes(needle)`, first asking for a `rare` tail of it. V8 finds a short needle by
 * memchr on its first character, then compares: in JSON and English `a` and `e` are so common
 * that looking for "alk_" or "eyJ" in a 1.5 KB body took 0.3 to 1.5 µs; "k_" and "yJ" start
 * with rare letters and are usually absent, so the full search is made only where they occur.
 */
function mayHold(text: string, rare: string, needle: string): boolean {
  return text.includes(rare) && text.includes(needle);
}

/** Rules 2, 3 and 6 on free text; `wrap` encodes the placeholder where plain brackets are not allowed. */
export function redactText(text: string, secrets: PreparedSecrets, wrap?: (p: string) => string): string {
  // Without a wrap (every header and body of the journal) no closure is made per call.
  let out = scrubText(text, secrets, wrap ? (label) => wrap(placeholder(label)) : placeholder);
  // After rule 2, so this exchange's own token keeps its label. Most strings (header values are
  // mostly shorter than a token) skip the search, and nearly all the rest the regex.
  if (out.length >= SESSION_TOKEN_LENGTH && mayHold(out, 'k_', 'alk_'))
    out = out.replace(SESSION_TOKEN_IN_TEXT, wrap ? wrap(SESSION_TOKEN_PLACEHOLDER) : SESSION_TOKEN_PLACEHOLDER);
  // Every JWT starts "eyJ": most strings (header values, JSON bodies) skip the regex entirely.
  if (!mayHold(out, 'yJ', 'eyJ')) return out;
  const sig = wrap ? wrap(placeholder('signature')) : placeholder('signature');
  return out.replace(JWT_IN_TEXT, (_m, h: string, p: string) => `${h}.${p}.${sig}`);
}

/** A body cut at the cap may end with the first part of a secret: that prefix is a secret too. */
export function redactTruncatedTail(text: string, secrets: PreparedSecrets): string {
  const out = scrubTruncatedTail(text, secrets, placeholder);
  return mayHold(out, 'k_', 'alk_') ? out.replace(SESSION_TOKEN_TAIL, SESSION_TOKEN_PLACEHOLDER) : out;
}

/** Rules 2 and 6 on binary bodies: the secret's UTF-8 bytes are replaced in place. */
export function redactBytes(bytes: Buffer, secrets: PreparedSecrets): Buffer {
  const out = scrubBytes(bytes, secrets, placeholder);
  if (out.indexOf('alk_') < 0) return out;
  // The shape is ASCII; latin1 maps every byte to one character and back, so other bytes are kept.
  return Buffer.from(out.toString('latin1').replace(SESSION_TOKEN_IN_TEXT, SESSION_TOKEN_PLACEHOLDER), 'latin1');
}

function secretEqualTo(value: string, secrets: PreparedSecrets): Secret | undefined {
  const trimmed = value.trim();
  // "Bearer <token>" / "Basic <x>": the credential is the part after the scheme.
  const afterScheme = /^[A-Za-z][A-Za-z0-9_-]*\s+(\S+)$/.exec(trimmed)?.[1];
  return secrets.list.find((s) => s.value === trimmed || s.value === afterScheme);
}

/** Rule 1 for credential headers, rules 2 and 3 for the rest. */
function redactHeaderValue(name: string, value: string, secrets: PreparedSecrets): string {
  const lower = name.toLowerCase();
  if (isSecretHeader(lower)) {
    const s = secretEqualTo(value, secrets);
    return placeholder(s ? s.label : lower);
  }
  return redactText(value, secrets);
}

/** Rules 1 to 3; a name holding a secret (an echoed `x-<key>: 1`) is redacted too. */
export function redactHeaders(headers: readonly HeaderPair[], secrets: PreparedSecrets): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const [n, v] of headers) out.push([redactText(n, secrets), redactHeaderValue(n, v, secrets)]);
  return out;
}

/** The Secret list plus every value in `shapes`, labelled as key-shaped (a known label wins). */
export function withKeyShapes(secrets: PreparedSecrets, shapes: ReadonlySet<string>): PreparedSecrets {
  if (shapes.size === 0) return secrets;
  // The injected vaulted key is key-shaped too: a request with nothing new keeps its prepared list.
  const fresh = [...shapes].filter((v) => !secrets.list.some((s) => s.value === v));
  if (fresh.length === 0) return secrets;
  return prepareSecrets([...secrets.list, ...fresh.map((value) => ({ value, label: KEY_SHAPE_LABEL }))]);
}

/** Rule 5 as a search: adds every key-shaped value of the request's URL and header names and values to `into`. */
export function collectRequestKeyShapes(url: string, headers: readonly HeaderPair[], into: Set<string>): void {
  for (const v of findKeyShapes(url)) into.add(v);
  for (const [n, v] of headers) {
    for (const x of findKeyShapes(n)) into.add(x);
    for (const x of findKeyShapes(v)) into.add(x);
  }
}

/** Rules 2, 3 and 5 on free text from the agent's request (approval previews, log lines). */
export function redactRequestText(text: string, secrets: PreparedSecrets, wrap: (p: string) => string = (p) => p): string {
  return redactKeyShapes(redactText(text, secrets, wrap), wrap(placeholder(KEY_SHAPE_LABEL)));
}

/** Rule 4 on an application/x-www-form-urlencoded string (a query or a form body). */
export function redactQueryString(qs: string, wrap: (p: string) => string = (p) => p.replace(/ /g, '%20')): string {
  if (qs === '') return qs;
  return qs
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      if (eq < 0 || !isCredentialParam(rawName)) return part;
      // Non-printable characters (a NUL, a decoded "+") would make the label unreadable.
      const name = decodeComponent(rawName)
        .toLowerCase()
        .replace(/[^\x21-\x7e]/g, '?');
      return `${rawName}=${wrap(placeholder(`query ${name}`))}`;
    })
    .join('&');
}

/**
 * Rules 4, 2, 3 and 5 on a request URL (only request URLs are recorded); the fragment is dropped
 * (HAR URLs carry none). Placeholders are percent-encoded because brackets are not legal in a
 * URI path or query (RFC 3986); the HAR's queryString list shows them decoded.
 */
export function redactUrl(url: string, secrets: PreparedSecrets): string {
  const last = lastUrl.get(secrets);
  if (last?.url === url) return last.out;
  const out = redactUrlUncached(url, secrets);
  lastUrl.set(secrets, { url, out });
  return out;
}

// An exchange's begin line and its record redact the same URL with the same prepared list (when its
// request holds no key shape the list lacks): the last result per list is kept, a pure function
// of the two (a prepared list is never changed).
const lastUrl = new WeakMap<PreparedSecrets, { readonly url: string; readonly out: string }>();

function redactUrlUncached(url: string, secrets: PreparedSecrets): string {
  const noFragment = url.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  const withQuery = q < 0 ? noFragment : noFragment.slice(0, q + 1) + redactQueryString(noFragment.slice(q + 1), encodeURIComponent);
  return redactRequestText(withQuery, secrets, encodeURIComponent);
}
